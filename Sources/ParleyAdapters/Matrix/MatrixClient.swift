import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1

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

/// The client-server API over AsyncHTTPClient: JSON in, JSON out, rate limits (HTTP 429) waited out.
///
/// The access token goes in the `Authorization` header only and is never logged.
public struct MatrixClient: Sendable {
    /// The homeserver's base URL, without a trailing slash.
    public let homeserver: String
    let accessToken: String?
    let http: HTTPClient
    let logger: Logger
    /// How many times a request rate-limited by the server is tried again before giving up.
    static let rateLimitRetries = 10

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
    }

    /// The same client, signed in with `token`.
    public func signedIn(with token: String) -> MatrixClient {
        MatrixClient(homeserver: homeserver, accessToken: token, http: http, logger: logger)
    }

    /// Sends one request and returns the JSON the server answered with; throws `MatrixError` on a
    /// refusal. A 429 is waited out (`retry_after_ms`, or `Retry-After`) and tried again.
    @discardableResult
    public func request(
        _ method: HTTPMethod, _ path: String, query: [(String, String)] = [], body: JSON? = nil,
        timeout: Duration = .seconds(30)
    ) async throws -> JSON {
        var attempt = 0
        while true {
            do {
                return try await once(method, path, query: query, body: body, timeout: timeout)
            } catch let error as RateLimited where attempt < Self.rateLimitRetries {
                attempt += 1
                logger.info("the homeserver asks to slow down; waiting \(error.wait) before \(method) \(path)")
                try await Task.sleep(for: error.wait)
            } catch let error as RateLimited {
                throw error.error
            }
        }
    }

    private struct RateLimited: Error {
        var wait: Duration
        var error: MatrixError
    }

    private func once(
        _ method: HTTPMethod, _ path: String, query: [(String, String)], body: JSON?, timeout: Duration
    ) async throws -> JSON {
        var request = HTTPClientRequest(url: homeserver + path + Self.queryString(query))
        request.method = method
        if let accessToken { request.headers.add(name: "Authorization", value: "Bearer \(accessToken)") }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: body.encoded))
        }
        let seconds = Int64(timeout.components.seconds) + 1
        let response = try await http.execute(request, timeout: .seconds(seconds))
        let bytes = try await response.body.collect(upTo: 32 << 20)
        let data = Data(bytes.readableBytesView)
        let json = JSON(parsing: data) ?? .null
        let status = Int(response.status.code)
        if (200..<300).contains(status) { return json }
        let error = MatrixError(
            status: status, code: json["errcode"].string ?? "M_UNKNOWN",
            message: json["error"].string ?? response.status.reasonPhrase)
        if status == 429 {
            let wait =
                json["retry_after_ms"].int.map { Duration.milliseconds($0) }
                ?? response.headers.first(name: "Retry-After").flatMap(Int.init).map { Duration.seconds($0) }
                ?? .seconds(1)
            throw RateLimited(wait: min(max(wait, .zero), .seconds(120)), error: error)
        }
        throw error
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
