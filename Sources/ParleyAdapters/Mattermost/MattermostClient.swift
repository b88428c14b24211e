import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import ParleyCore
import ParleyEngine

/// Mattermost's REST API v4 with a bot's access token. Tried again as `RetryPolicy.standard` says;
/// a `429` waits what the server says (`Retry-After`, else `X-Ratelimit-Reset`).
public struct MattermostClient: Sendable {
    let baseURL: String
    let token: String
    let client: PlatformClient

    /// Creates a client for a server's base URL and a bot token.
    public init(baseURL: String, token: String, http: HTTPClient = .shared, logger: Logger) {
        self.baseURL = baseURL
        self.token = token
        client = PlatformClient(name: "Mattermost", http: http, logger: logger)
    }

    /// An id as one segment of a path: Mattermost's ids are 26 letters and digits, anything else is escaped.
    static func pathPart(_ id: String) -> String {
        id.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
    }

    /// Calls the API; returns the JSON answer or throws the server's message.
    @discardableResult
    public func request(_ method: HTTPMethod, _ path: String, _ body: JSON? = nil) async throws -> JSON {
        var request = HTTPClientRequest(url: baseURL + "/api/v4" + path)
        request.method = method
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        request.headers.add(name: "X-Requested-With", value: "XMLHttpRequest")
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: body.encoded))
        }
        let response = try await client.send(request, hint: Self.rateLimitReset)
        let answer = JSON(parsing: response.body) ?? .null
        guard (200..<300).contains(response.status) else {
            let reason = answer["message"].string ?? answer["id"].string ?? "HTTP \(response.status)"
            throw MattermostAPIError(path: path, status: response.status, message: reason)
        }
        return answer
    }

    /// Mattermost's own rate-limit header, seconds until the limit resets, when `Retry-After` is missing.
    @Sendable static func rateLimitReset(_ response: PlatformClient.Response) -> Duration? {
        guard response.status == 429, response.headers.first(name: "Retry-After") == nil,
            let reset = response.headers.first(name: "X-Ratelimit-Reset")
        else { return nil }
        return RetryPolicy.delay(retryAfter: reset, now: Date())
    }
}

/// Mattermost refused a call.
public struct MattermostAPIError: Error, Equatable, CustomStringConvertible {
    public var path: String
    public var status: Int
    public var message: String

    public var description: String { "Mattermost \(path) failed (\(status)): \(message)" }
}

extension MattermostClient: CustomStringConvertible, CustomReflectable {
    /// Names the server without its token, wherever the client (or an adapter holding it) is printed.
    public var description: String { "MattermostClient(\(baseURL), token: ••••)" }
    public var customMirror: Mirror { Mirror(self, children: ["baseURL": baseURL, "token": "••••"]) }
}
