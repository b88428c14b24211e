import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1

/// Mattermost's REST API v4 with a bot's access token. Honours `429` by waiting what the server says.
public struct MattermostClient: Sendable {
    let baseURL: String
    let token: String
    let http: HTTPClient
    let logger: Logger
    var attempts = 5

    /// Creates a client for a server's base URL and a bot token.
    public init(baseURL: String, token: String, http: HTTPClient = .shared, logger: Logger) {
        self.baseURL = baseURL
        self.token = token
        self.http = http
        self.logger = logger
    }

    /// Calls the API; returns the JSON answer or throws the server's message.
    @discardableResult
    public func request(_ method: HTTPMethod, _ path: String, _ body: JSON? = nil) async throws -> JSON {
        var attempt = 1
        while true {
            var request = HTTPClientRequest(url: baseURL + "/api/v4" + path)
            request.method = method
            request.headers.add(name: "Authorization", value: "Bearer \(token)")
            request.headers.add(name: "X-Requested-With", value: "XMLHttpRequest")
            if let body {
                request.headers.add(name: "Content-Type", value: "application/json")
                request.body = .bytes(ByteBuffer(bytes: body.encoded))
            }
            let response = try await http.execute(request, timeout: .seconds(15))
            let bytes = try await response.body.collect(upTo: 4 << 20)
            let answer = JSON(parsing: Array(buffer: bytes)) ?? .null
            if response.status == .tooManyRequests, attempt < attempts {
                let wait =
                    response.headers.first(name: "Retry-After").flatMap(Int.init)
                    ?? response.headers.first(name: "X-Ratelimit-Reset").flatMap(Int.init) ?? 1
                logger.warning("Mattermost rate-limited \(path); waiting \(wait) s")
                try await Task.sleep(for: .seconds(min(max(wait, 1), 120)))
                attempt += 1
                continue
            }
            guard (200..<300).contains(response.status.code) else {
                let reason = answer["message"].string ?? answer["id"].string ?? "HTTP \(response.status.code)"
                throw MattermostAPIError(path: path, status: Int(response.status.code), message: reason)
            }
            return answer
        }
    }
}

/// Mattermost refused a call.
public struct MattermostAPIError: Error, Equatable, CustomStringConvertible {
    public var path: String
    public var status: Int
    public var message: String

    public var description: String { "Mattermost \(path) failed (\(status)): \(message)" }
}
