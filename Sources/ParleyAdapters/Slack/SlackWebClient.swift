import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import ParleyCore
import ParleyEngine

/// Slack's Web API: JSON POSTs with the bot token, answered with `{"ok": …}`. Tried again as
/// `RetryPolicy.standard` says: a `429` after the `Retry-After` it names; server and network errors
/// only for the methods that may be called twice (`repeatable`).
public struct SlackWebClient: Sendable {
    let baseURL: String
    let token: String
    let logger: Logger
    let client: PlatformClient
    /// The methods a second call does no harm with: reads, and edits that set the same content again.
    static let repeatable: Set<String> = ["auth.test", "users.info", "chat.update", "apps.connections.open"]

    /// Creates a client for an API base URL (`https://slack.com/api`) and a bot token.
    public init(baseURL: String, token: String, http: HTTPClient = .shared, logger: Logger) {
        self.baseURL = baseURL
        self.token = token
        self.logger = logger
        client = PlatformClient(name: "Slack", http: http, logger: logger)
    }

    /// Calls a method with a JSON body; returns Slack's answer when `ok`, else throws its `error`.
    @discardableResult
    public func call(_ method: String, _ arguments: JSON) async throws -> JSON {
        try await send(method, body: arguments.encoded, contentType: "application/json; charset=utf-8")
    }

    /// Calls a method with form arguments (for read methods such as `users.info`, which take no JSON).
    @discardableResult
    public func call(_ method: String, form: [String: String]) async throws -> JSON {
        try await send(
            method, body: Array(FormBody.encode(form).utf8), contentType: "application/x-www-form-urlencoded")
    }

    /// Posts JSON to a `response_url` (slash commands, buttons): no token, plain `ok` answer.
    public func respond(to url: String, _ message: JSON) async throws {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json; charset=utf-8")
        request.body = .bytes(ByteBuffer(bytes: message.encoded))
        // The URL is the capability to answer: logged by name only.
        let response = try await client.send(request, timeout: .seconds(10), upTo: 1 << 20, label: "response_url")
        guard response.status == 200 else {
            throw SlackAPIError(method: "response_url", error: "HTTP \(response.status)")
        }
    }

    private func send(_ method: String, body: [UInt8], contentType: String) async throws -> JSON {
        var request = HTTPClientRequest(url: "\(baseURL)/\(method)")
        request.method = .POST
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        request.headers.add(name: "Content-Type", value: contentType)
        request.body = .bytes(ByteBuffer(bytes: body))
        let response = try await client.send(request, idempotent: Self.repeatable.contains(method))
        guard response.status == 200 else {
            throw SlackAPIError(method: method, error: "HTTP \(response.status)")
        }
        guard let answer = JSON(parsing: response.body) else {
            throw SlackAPIError(method: method, error: "the answer is not JSON")
        }
        guard answer["ok"].bool == true else {
            throw SlackAPIError(method: method, error: answer["error"].string ?? "unknown error")
        }
        if let warning = answer["warning"].string { logger.debug("Slack \(method) warns: \(warning)") }
        return answer
    }

}

/// Slack answered a call with `ok: false` or an HTTP error.
public struct SlackAPIError: Error, Equatable, CustomStringConvertible {
    /// The method called.
    public var method: String
    /// Slack's error code (`channel_not_found`, `invalid_auth` …).
    public var error: String

    public var description: String { "Slack \(method) failed: \(error)" }
}

extension SlackWebClient: CustomStringConvertible, CustomReflectable {
    /// Names the API without its token, wherever the client (or an adapter holding it) is printed.
    public var description: String { "SlackWebClient(\(baseURL), token: ••••)" }
    public var customMirror: Mirror { Mirror(self, children: ["baseURL": baseURL, "token": "••••"]) }
}
