import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import ParleyCore
import ParleyEngine

/// A refusal from a homeserver: the HTTP status and Matrix's `errcode` and `error`.
public struct MatrixError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The HTTP status.
    public var status: Int
    /// Matrix's error code, as in `M_FORBIDDEN`.
    public var code: String
    /// The homeserver's explanation.
    public var message: String

    /// True for errors worth retrying: the server's own trouble, not a refusal of the request.
    public var isTransient: Bool { status >= 500 || status == 429 }

    public var description: String { "\(code) (HTTP \(status)): \(message)" }
}

/// The client-server API over AsyncHTTPClient: JSON in, JSON out, tried again as `policy` says
/// (rate limits waited out; server and network errors of requests that may be repeated, such as a
/// `PUT` with its transaction id, backed off).
///
/// The access token goes in the `Authorization` header only and is never logged.
public struct MatrixClient: Sendable {
    /// The homeserver's base URL, without a trailing slash.
    public let homeserver: String
    let accessToken: String?
    let http: HTTPClient
    let logger: Logger
    let client: PlatformClient
    /// Homeservers rate-limit sends in bursts: ten tries after the first, within the standard caps.
    public static let policy = RetryPolicy(
        maxAttempts: 11, maxWait: RetryPolicy.standard.maxWait, maxTotalWait: RetryPolicy.standard.maxTotalWait,
        firstBackoff: RetryPolicy.standard.firstBackoff)

    /// Creates a client; without a token it can only log in and read public endpoints.
    public init(
        homeserver: String, accessToken: String? = nil, http: HTTPClient = .shared,
        logger: Logger = Logger(label: "parley.matrix")
    ) {
        var base = homeserver
        while base.hasSuffix("/") { base.removeLast() }
        self.homeserver = base
        self.accessToken = accessToken
        self.http = http
        self.logger = logger
        client = PlatformClient(name: "the homeserver", http: http, policy: Self.policy, logger: logger)
    }

    /// The same client, signed in with `token`.
    public func signedIn(with token: String) -> MatrixClient {
        MatrixClient(homeserver: homeserver, accessToken: token, http: http, logger: logger)
    }

    /// Sends one request and returns the JSON the server answered with; throws `MatrixError` on a
    /// refusal. A 429 is waited out (`retry_after_ms`, or `Retry-After`) and tried again; so are server
    /// and network errors unless `retryingErrors` is false (a long poll whose caller has its own loop).
    @discardableResult
    public func request(
        _ method: HTTPMethod, _ path: String, query: [(String, String)] = [], body: JSON? = nil,
        timeout: Duration = .seconds(30), retryingErrors: Bool = true
    ) async throws -> JSON {
        var request = HTTPClientRequest(url: homeserver + path + Self.queryString(query))
        request.method = method
        if let accessToken { request.headers.add(name: "Authorization", value: "Bearer \(accessToken)") }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: body.encoded))
        }
        let seconds = Int64(timeout.components.seconds) + 1
        let response = try await client.send(
            request, timeout: .seconds(seconds), upTo: 32 << 20, idempotent: retryingErrors ? nil : false,
            hint: Self.retryAfterMilliseconds)
        let json = JSON(parsing: response.body) ?? .null
        if (200..<300).contains(response.status) { return json }
        throw MatrixError(
            status: response.status, code: json["errcode"].string ?? "M_UNKNOWN",
            message: json["error"].string ?? HTTPResponseStatus(statusCode: response.status).reasonPhrase)
    }

    /// The wait a 429's body names (`retry_after_ms`), which older homeservers send instead of `Retry-After`.
    @Sendable static func retryAfterMilliseconds(_ response: PlatformClient.Response) -> Duration? {
        guard response.status == 429, let milliseconds = JSON(parsing: response.body)?["retry_after_ms"].int else {
            return nil
        }
        return .milliseconds(milliseconds)
    }

    /// `?a=b&c=d`, each part percent-encoded; empty without parameters.
    static func queryString(_ query: [(String, String)]) -> String {
        guard !query.isEmpty else { return "" }
        return "?" + query.map { "\(encode($0.0))=\(encode($0.1))" }.joined(separator: "&")
    }

    private static let unreserved = CharacterSet(
        charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~")

    /// One path segment or query part, percent-encoded: room ids (`!a:b`), aliases (`#a:b`), tokens.
    public static func encode(_ part: String) -> String {
        part.addingPercentEncoding(withAllowedCharacters: unreserved) ?? part
    }
}

extension MatrixClient: CustomStringConvertible, CustomReflectable {
    /// Names the homeserver without the access token, wherever the client (or an adapter) is printed.
    public var description: String {
        "MatrixClient(\(homeserver), access token: \(accessToken == nil ? "none" : "••••"))"
    }
    public var customMirror: Mirror {
        Mirror(self, children: ["homeserver": homeserver, "accessToken": accessToken == nil ? "none" : "••••"])
    }
}
