import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1

/// Slack's Web API: JSON POSTs with the bot token, answered with `{"ok": …}`. Honours `429` by waiting
/// the `Retry-After` seconds it names before trying again.
public struct SlackWebClient: Sendable {
    let baseURL: String
    let token: String
    let http: HTTPClient
    let logger: Logger
    /// How many times one call is tried when Slack says to slow down.
    var attempts = 5

    /// Creates a client for an API base URL (`https://slack.com/api`) and a bot token.
    public init(baseURL: String, token: String, http: HTTPClient = .shared, logger: Logger) {
        self.baseURL = baseURL
        self.token = token
        self.http = http
        self.logger = logger
    }

    /// Calls a method with a JSON body; returns Slack's answer when `ok`, else throws its `error`.
    @discardableResult
    public func call(_ method: String, _ arguments: JSON) async throws -> JSON {
        try await send(method, body: arguments.encoded, contentType: "application/json; charset=utf-8")
    }

    /// Calls a method with form arguments (for read methods such as `users.info`, which take no JSON).
    @discardableResult
    public func call(_ method: String, form: [String: String]) async throws -> JSON {
        let body = form.sorted { $0.key < $1.key }.map { "\(Self.escape($0.key))=\(Self.escape($0.value))" }
            .joined(separator: "&")
        return try await send(method, body: Array(body.utf8), contentType: "application/x-www-form-urlencoded")
    }

    /// Posts JSON to a `response_url` (slash commands, buttons): no token, plain `ok` answer.
    public func respond(to url: String, _ message: JSON) async throws {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json; charset=utf-8")
        request.body = .bytes(ByteBuffer(bytes: message.encoded))
        let response = try await http.execute(request, timeout: .seconds(10))
        _ = try await response.body.collect(upTo: 1 << 20)
        guard response.status == .ok else {
            throw SlackAPIError(method: "response_url", error: "HTTP \(response.status.code)")
        }
    }

    private func send(_ method: String, body: [UInt8], contentType: String) async throws -> JSON {
        var attempt = 1
        while true {
            var request = HTTPClientRequest(url: "\(baseURL)/\(method)")
            request.method = .POST
            request.headers.add(name: "Authorization", value: "Bearer \(token)")
            request.headers.add(name: "Content-Type", value: contentType)
            request.body = .bytes(ByteBuffer(bytes: body))
            let response = try await http.execute(request, timeout: .seconds(15))
            let bytes = try await response.body.collect(upTo: 4 << 20)
            if response.status == .tooManyRequests, attempt < attempts {
                let wait = response.headers.first(name: "Retry-After").flatMap(Int.init) ?? 1
                logger.warning("Slack rate-limited \(method); waiting \(wait) s as Retry-After says")
                try await Task.sleep(for: .seconds(min(max(wait, 1), 120)))
                attempt += 1
                continue
            }
            guard response.status == .ok else {
                throw SlackAPIError(method: method, error: "HTTP \(response.status.code)")
            }
            guard let answer = JSON(parsing: Array(buffer: bytes)) else {
                throw SlackAPIError(method: method, error: "the answer is not JSON")
            }
            guard answer["ok"].bool == true else {
                throw SlackAPIError(method: method, error: answer["error"].string ?? "unknown error")
            }
            if let warning = answer["warning"].string { logger.debug("Slack \(method) warns: \(warning)") }
            return answer
        }
    }

    /// Percent-encodes a form value.
    public static func escape(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
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
