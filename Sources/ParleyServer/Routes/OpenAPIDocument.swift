/// The OpenAPI 3.1 description of `/api/v1`; a test checks it lists exactly the routes the server has.
enum OpenAPIDocument {
    static let json = #"""
        {
          "openapi": "3.1.0",
          "info": {
            "title": "Parley JSON API",
            "version": "1",
            "description": "Post chat messages as the token's user and read runs, approvals and the audit log. Errors are {\"error\": \"reason\"}."
          },
          "servers": [{"url": "/api/v1"}],
          "components": {
            "securitySchemes": {
              "token": {"type": "http", "scheme": "bearer", "description": "plt_… from `parley tokens create`"},
              "session": {"type": "apiKey", "in": "cookie", "name": "parley_session"}
            },
            "schemas": {
              "Error": {"type": "object", "required": ["error"], "properties": {"error": {"type": "string"}}},
              "Message": {
                "type": "object", "required": ["text"],
                "properties": {"text": {"type": "string", "maxLength": 16384}, "room": {"type": "string"}}
              },
              "Reply": {
                "type": "object",
                "properties": {
                  "run_id": {"type": ["integer", "null"]},
                  "outcome": {"type": "string", "enum": ["succeeded", "failed", "timed_out", "interrupted", "denied", "unknown", "invalid", "pending"]},
                  "text": {"type": "string"},
                  "blocks": {"type": "array", "items": {"type": "object", "properties": {"type": {"type": "string"}}}}
                }
              },
              "Run": {"type": "object", "properties": {"id": {"type": "integer"}, "text": {"type": "string"}, "status": {"type": "string"}, "output": {"type": "string"}}},
              "Approval": {"type": "object", "properties": {"id": {"type": "string"}, "text": {"type": "string"}, "status": {"type": "string"}}},
              "AuditEntry": {"type": "object", "properties": {"seq": {"type": "integer"}, "kind": {"type": "string"}, "hash": {"type": "string"}}}
            },
            "parameters": {
              "IdempotencyKey": {"name": "Idempotency-Key", "in": "header", "description": "1 to 255 visible ASCII characters, such as a UUID; the same key from the same user is the same request", "schema": {"type": "string", "maxLength": 255}}
            },
            "responses": {
              "Error": {"description": "An error with its reason", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
            }
          },
          "security": [{"token": []}, {"session": []}],
          "paths": {
            "/health": {"get": {"summary": "Is the server up", "security": [], "responses": {"200": {"description": "ok"}}}},
            "/openapi.json": {"get": {"summary": "This document", "security": [], "responses": {"200": {"description": "OpenAPI"}}}},
            "/messages": {
              "post": {
                "summary": "Post a message as the token's user and get the reply (scope: commands)",
                "description": "With an Idempotency-Key the request may be retried, on any replica: the command runs once, and a retry is answered with what became of its run (header Idempotent-Replayed: true).",
                "parameters": [{"$ref": "#/components/parameters/IdempotencyKey"}],
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Message"}}}},
                "responses": {
                  "200": {"description": "Ran (outcome succeeded or failed)", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Reply"}}}},
                  "202": {"description": "Waiting for confirmation or approvals", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Reply"}}}},
                  "400": {"$ref": "#/components/responses/Error"},
                  "401": {"$ref": "#/components/responses/Error"},
                  "403": {"description": "Denied, or the token lacks the scope", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Reply"}}}},
                  "409": {"description": "Its run was taken over by another replica while this one was too slow, or a retry with the same Idempotency-Key came while the run was still running (Retry-After); read the run for its outcome", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
                  "413": {"$ref": "#/components/responses/Error"},
                  "422": {"description": "Unknown command or invalid arguments, or an Idempotency-Key used before for another command", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Reply"}}}},
                  "503": {"description": "The database did not answer within its deadline; nothing ran. Try again after Retry-After seconds", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
                }
              }
            },
            "/runs": {
              "get": {
                "summary": "Recent runs (scope: read)",
                "parameters": [
                  {"name": "user", "in": "query", "schema": {"type": "string"}},
                  {"name": "command", "in": "query", "schema": {"type": "string"}},
                  {"name": "status", "in": "query", "schema": {"type": "string"}},
                  {"name": "limit", "in": "query", "schema": {"type": "integer", "maximum": 200}}
                ],
                "responses": {"200": {"description": "Runs", "content": {"application/json": {"schema": {"type": "array", "items": {"$ref": "#/components/schemas/Run"}}}}}, "400": {"$ref": "#/components/responses/Error"}, "401": {"$ref": "#/components/responses/Error"}}
              }
            },
            "/runs/{id}": {
              "get": {
                "summary": "One run (scope: read)",
                "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "integer"}}],
                "responses": {"200": {"description": "The run", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Run"}}}}, "404": {"$ref": "#/components/responses/Error"}}
              }
            },
            "/approvals": {
              "get": {"summary": "Pending approval requests (scope: read)", "responses": {"200": {"description": "Pending", "content": {"application/json": {"schema": {"type": "array", "items": {"$ref": "#/components/schemas/Approval"}}}}}}}
            },
            "/approvals/{id}/approve": {
              "post": {
                "summary": "Approve as the token's user (scope: approvals)",
                "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}, {"$ref": "#/components/parameters/IdempotencyKey"}],
                "responses": {"200": {"description": "The answer", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Reply"}}}}, "403": {"$ref": "#/components/responses/Error"}}
              }
            },
            "/approvals/{id}/deny": {
              "post": {
                "summary": "Deny as the token's user (scope: approvals)",
                "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}, {"$ref": "#/components/parameters/IdempotencyKey"}],
                "requestBody": {"content": {"application/json": {"schema": {"type": "object", "properties": {"reason": {"type": "string"}}}}}},
                "responses": {"200": {"description": "The answer", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Reply"}}}}, "403": {"$ref": "#/components/responses/Error"}}
              }
            },
            "/audit": {
              "get": {
                "summary": "Audit entries, oldest first (scope: read, and a role allowing audit)",
                "parameters": [
                  {"name": "user", "in": "query", "schema": {"type": "string"}},
                  {"name": "command", "in": "query", "schema": {"type": "string"}},
                  {"name": "kind", "in": "query", "schema": {"type": "string"}},
                  {"name": "after", "in": "query", "schema": {"type": "integer"}},
                  {"name": "limit", "in": "query", "schema": {"type": "integer", "maximum": 1000}}
                ],
                "responses": {"200": {"description": "Entries", "content": {"application/json": {"schema": {"type": "array", "items": {"$ref": "#/components/schemas/AuditEntry"}}}}}, "403": {"$ref": "#/components/responses/Error"}}
              }
            }
          }
        }
        """#
}
