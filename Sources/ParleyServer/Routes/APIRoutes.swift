import Foundation
import HTTPTypes
import Hummingbird
import ParleyCore
import ParleyEngine
import ParleyStore

/// The JSON API under `/api/v1`: any tool can become a chat client.
struct APIRoutes {
    let engine: Engine
    let store: any ParleyStorage
    let metrics: ServerMetrics
    let config: ParleyConfig

    struct MessageRequest: Decodable {
        let text: String
        let room: String?
    }

    struct DenyRequest: Decodable {
        let reason: String?
    }

    func register(on router: Router<ParleyRequestContext>) {
        let api = router.group("api/v1")
        api.get("health") { _, _ in
            JSONBody.response(["status": "ok", "version": Builtins.version])
        }
        api.get("openapi.json") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(string: OpenAPIDocument.json)))
        }
        api.post("messages") { request, context in
            let auth = try requireWrite(request, context, scope: "commands", json: true)
            let body = try await JSONBody.decode(MessageRequest.self, from: request, limit: config.server.maxBodyBytes)
            guard !body.text.trimmingCharacters(in: .whitespaces).isEmpty else {
                throw APIError(.badRequest, "\"text\" is empty; send a command such as {\"text\": \"help\"}")
            }
            let key = try IdempotencyKey(request.headers[IdempotencyKey.header])
            return try await send(body.text, room: body.room ?? "api", as: auth, idempotencyKey: key)
        }
        api.get("runs") { request, context in
            _ = try require(context, scope: "read")
            let query = request.uri.queryParameters
            var runQuery = RunQuery(limit: min(200, Int(query["limit"].map(String.init) ?? "") ?? 20))
            runQuery.userName = query["user"].map(String.init)
            runQuery.commandID = query["command"].map(String.init)
            if let status = query["status"].map(String.init) {
                guard let parsed = RunStatus(rawValue: status) else {
                    throw APIError(
                        .badRequest,
                        "unknown status '\(status)'; expected one of \(RunStatus.allCases.map(\.rawValue).joined(separator: ", "))"
                    )
                }
                runQuery.status = parsed
            }
            return JSONBody.response(try await store.runs(runQuery))
        }
        api.get("runs/{id}") { _, context in
            _ = try require(context, scope: "read")
            guard let id = context.parameters.get("id", as: Int64.self) else {
                throw APIError(.badRequest, "a run id is a number")
            }
            guard let run = try await store.run(id: id) else { throw APIError(.notFound, "no run #\(id)") }
            return JSONBody.response(run)
        }
        api.get("approvals") { _, context in
            _ = try require(context, scope: "read")
            return JSONBody.response(try await store.pendingApprovals())
        }
        api.post("approvals/{id}/approve") { request, context in
            let auth = try requireWrite(request, context, scope: "approvals", json: false)
            let id = context.parameters.get("id") ?? ""
            let key = try IdempotencyKey(request.headers[IdempotencyKey.header])
            return try await send("approve \(id)", room: "api", as: auth, idempotencyKey: key, answering: id)
        }
        api.post("approvals/{id}/deny") { request, context in
            let auth = try requireWrite(request, context, scope: "approvals", json: true)
            let id = context.parameters.get("id") ?? ""
            let body = try await JSONBody.decode(DenyRequest.self, from: request, limit: config.server.maxBodyBytes)
            let key = try IdempotencyKey(request.headers[IdempotencyKey.header])
            return try await send(
                "deny \(id) \(body.reason ?? "")", room: "api", as: auth, idempotencyKey: key, answering: id)
        }
        api.get("audit") { request, context in
            _ = try require(context, scope: "read")
            let auth = context.auth!
            guard mayReadAudit(auth.userName) else {
                throw APIError(.forbidden, "reading the audit log needs a role that allows the audit command")
            }
            let query = request.uri.queryParameters
            let auditQuery = AuditQuery(
                actor: query["user"].map(String.init), command: query["command"].map(String.init),
                kind: query["kind"].map(String.init), afterSeq: query["after"].flatMap { Int64(String($0)) },
                limit: min(1000, Int(query["limit"].map(String.init) ?? "") ?? 100))
            return JSONBody.response(try await store.auditEntries(auditQuery))
        }
    }

    private func require(_ context: ParleyRequestContext, scope: String) throws -> Authenticated {
        guard let auth = context.auth else {
            var error = APIError(.unauthorized, "sign in, or send an API token as 'Authorization: Bearer plt_…'")
            error.headers[.wwwAuthenticate] = "Bearer"
            throw error
        }
        guard auth.may(scope) else {
            throw APIError(.forbidden, "this token lacks the '\(scope)' scope")
        }
        return auth
    }

    /// A state-changing call. With an API token it is as `require` says. With the session cookie — which
    /// a browser attaches to requests another site makes it send — it must also come from this server's
    /// own pages: an `Origin` that is not this server is refused (an absent one is not a browser's
    /// cross-site request), the session's CSRF token must be in `X-CSRF-Token`, and a body must be
    /// `application/json` (a cross-site form cannot send that without asking first).
    private func requireWrite(_ request: Request, _ context: ParleyRequestContext, scope: String, json: Bool) throws
        -> Authenticated
    {
        let auth = try require(context, scope: scope)
        guard auth.method == .session else { return auth }
        if case .foreign(let origin) = OriginCheck.verdict(request, publicURL: config.server.publicURL) {
            throw APIError(.forbidden, "a request from another site (Origin \(origin)) cannot act with your session")
        }
        guard let given = request.headers.first(where: { $0.name.canonicalName == "x-csrf-token" })?.value,
            let expected = auth.csrfToken,
            ConstantTime.equal(given, expected)
        else {
            throw APIError(
                .forbidden,
                "a call made with the session cookie needs the page's CSRF token in X-CSRF-Token; scripts use an API token"
            )
        }
        if json {
            let type = request.headers[.contentType]?.split(separator: ";").first?.trimmingCharacters(in: .whitespaces)
            guard type?.lowercased() == "application/json" else {
                throw APIError(.unsupportedMediaType, "send the body as Content-Type: application/json")
            }
        }
        return auth
    }

    private func mayReadAudit(_ user: String) -> Bool {
        engine.authorization(for: Identity(platform: "api", id: user), command: "audit").isAllowed
    }

    /// `answering` names the approval request an approve or deny answers: a retried answer is told
    /// what became of the command it answered.
    private func send(
        _ text: String, room: String, as auth: Authenticated, idempotencyKey: IdempotencyKey? = nil,
        answering approvalID: String? = nil
    ) async throws -> Response {
        let started = ContinuousClock.now
        // A key is the user's own: another user's request with the same key is a different request.
        let eventID = idempotencyKey.map { "\(auth.userName):\($0.value)" }
        let inbound = Inbound(
            sender: Identity(platform: "api", id: auth.userName), room: room, eventID: eventID, text: text,
            isDirect: true)
        let response: EngineResponse
        switch await engine.handleGivingReason(inbound) {
        case .answered(let answered): response = answered
        case .duplicate where idempotencyKey != nil:
            return try await replay(inbound, answering: approvalID, as: auth)
        case .notForParley, .duplicate:
            throw APIError(.badRequest, "nothing to answer: the message was not a command, or was handled before")
        case .takenOver(let runID):
            throw APIError(
                .conflict,
                "run #\(runID) was taken over by another replica while this one was too slow; its outcome is at GET /api/v1/runs/\(runID)"
            )
        }
        metrics.command(outcome: response.outcome.rawValue, took: ContinuousClock.now - started)
        let status: HTTPResponse.Status
        switch response.outcome {
        case .succeeded: status = .ok
        case .pending: status = .accepted
        case .denied: status = .forbidden
        case .unknown, .invalid: status = .unprocessableContent
        default: status = .ok
        }
        return JSONBody.response(ReplyEnvelope(response), status: status)
    }

    /// The answer to a request whose Idempotency-Key was seen before: what became of the run it
    /// made, never a second run. 409 while that run is still running, 422 when the key was used for
    /// another command.
    private func replay(_ inbound: Inbound, answering approvalID: String?, as auth: Authenticated) async throws
        -> Response
    {
        let key = "\(inbound.sender.platform):\(inbound.eventID ?? "")"
        let sighting = try await store.sighting(of: key)
        let run: RunRecord
        let answered = try await approvalID.asyncMap { try await store.approval(id: $0) } ?? nil
        if answered?.status == .pending {
            // Received, but its replica died before the vote was kept: answer it again. A vote counts
            // once per voter, so this cannot approve twice.
            return try await send(inbound.text, room: inbound.room, as: auth)
        }
        if let answered, let released = try await store.run(id: answered.runID) {
            // An answer to an approval request: what became of the command it answered.
            run = released
        } else if let runID = sighting?.runID, let made = try await store.run(id: runID) {
            let text = engine.config.addressing.commandText(in: inbound.text, isDirect: true) ?? inbound.text
            guard made.text == engine.vault.masker.mask(text) else {
                throw APIError(
                    .unprocessableContent,
                    "this Idempotency-Key was used for another command (run #\(runID): '\(made.text)'); use a new key for a new request"
                )
            }
            run = made
        } else {
            throw APIError(
                .conflict,
                "a request with this Idempotency-Key was answered before and made no run, so there is nothing to replay; send a new key to ask again"
            )
        }
        let runID = run.id ?? 0
        guard run.status != .running else {
            var error = APIError(
                .conflict,
                "the request with this Idempotency-Key is still running as run #\(runID); its outcome will be at GET /api/v1/runs/\(runID)"
            )
            error.headers[.retryAfter] = "1"
            throw error
        }
        let outcome: EngineResponse.Outcome
        switch (run.status, run.decision) {
        case (.rejected, .denied): outcome = .denied
        case (.rejected, .unknown): outcome = .unknown
        case (.rejected, .invalid): outcome = .invalid
        default: outcome = EngineResponse.Outcome(run.status)
        }
        let status: HTTPResponse.Status
        switch outcome {
        case .pending: status = .accepted
        case .denied: status = .forbidden
        case .unknown, .invalid: status = .unprocessableContent
        default: status = .ok
        }
        let replayed = ReplayEnvelope(
            runID: runID, outcome: outcome.rawValue, status: run.status.rawValue,
            text: "already received as run #\(runID) (\(run.status.rawValue.replacingOccurrences(of: "_", with: " ")))"
                + (run.output.isEmpty ? "" : "\n" + run.output))
        return JSONBody.response(replayed, status: status, headers: [IdempotencyKey.replayed: "true"])
    }
}

extension Optional {
    func asyncMap<T>(_ transform: (Wrapped) async throws -> T) async rethrows -> T? {
        guard let value = self else { return nil }
        return try await transform(value)
    }
}

/// The answer to a replayed request: the same fields as a reply, plus the run's status.
struct ReplayEnvelope: Encodable {
    let runID: Int64
    let outcome: String
    let status: String
    let text: String
    let replayed = true

    enum CodingKeys: String, CodingKey {
        case runID = "run_id"
        case outcome, status, text, replayed
    }
}

/// An `Idempotency-Key` request header (draft-ietf-httpapi-idempotency-key-header): a client that
/// sends one may retry the request — on another replica, after a dropped connection — and the
/// command runs once. Plain (`abc-123`) or as a structured-field string (`"abc-123"`).
struct IdempotencyKey: Equatable {
    static let header = HTTPField.Name("Idempotency-Key")!
    static let replayed = HTTPField.Name("Idempotent-Replayed")!
    static let maximumLength = 255

    let value: String

    /// nil without the header; throws a 400 that says what a key looks like when it is malformed.
    init?(_ field: String?) throws {
        guard var text = field?.trimmingCharacters(in: .whitespaces) else { return nil }
        if text.count >= 2, text.hasPrefix("\""), text.hasSuffix("\"") { text = String(text.dropFirst().dropLast()) }
        guard !text.isEmpty, text.utf8.count <= Self.maximumLength,
            text.utf8.allSatisfy({ (0x21...0x7e).contains($0) && $0 != UInt8(ascii: "\"") })
        else {
            throw APIError(
                .badRequest,
                "Idempotency-Key must be 1 to \(Self.maximumLength) visible ASCII characters without spaces or quotes inside, such as a UUID"
            )
        }
        value = text
    }
}
