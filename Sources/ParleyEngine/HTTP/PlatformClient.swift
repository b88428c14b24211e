import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1

/// Sends requests to a platform's HTTP API (Slack, Mattermost, Matrix, Alertmanager) and tries them
/// again as its `RetryPolicy` says: rate limits waited out, server errors and lost connections of
/// requests that may be repeated backed off. Each platform's client builds its requests and reads
/// the answers; this type is the one place that waits and tries again.
public struct PlatformClient: Sendable {
    /// The platform's name, for log lines: `Slack`, `the homeserver`.
    public let name: String
    let http: HTTPClient
    let logger: Logger
    /// How calls are tried again unless a call says otherwise.
    public var policy: RetryPolicy

    /// Creates a client.
    public init(name: String, http: HTTPClient = .shared, policy: RetryPolicy = .standard, logger: Logger) {
        self.name = name
        self.http = http
        self.policy = policy
        self.logger = logger
    }

    /// An answer, its body read.
    public struct Response: Sendable {
        public var status: Int
        public var headers: HTTPHeaders
        public var body: [UInt8]
    }

    /// Sends `request` (its body, if any, given as bytes so it can be sent again) until it succeeds
    /// or `policy` says to stop, and returns the last answer; throws the last network error. `hint`
    /// reads a wait the platform names outside `Retry-After` (Matrix's `retry_after_ms`).
    /// `idempotent` defaults to the method's own nature: `POST` and `PATCH` are not. `label` names
    /// the request in logs instead of its path, for URLs that are themselves secrets (Slack's
    /// `response_url`).
    public func send(
        _ request: HTTPClientRequest, timeout: TimeAmount = .seconds(15), upTo limit: Int = 4 << 20,
        idempotent: Bool? = nil, policy: RetryPolicy? = nil, label: String? = nil,
        hint: (@Sendable (Response) -> Duration?)? = nil
    ) async throws -> Response {
        let policy = policy ?? self.policy
        let repeatable = idempotent ?? ![.POST, .PATCH].contains(request.method)
        var attempt = 1
        var waited = Duration.zero
        while true {
            let failure: RetryPolicy.Failure
            let outcome: Result<Response, any Error>
            do {
                let response = try await http.execute(request, timeout: timeout)
                let body = try await response.body.collect(upTo: limit)
                let answer = Response(
                    status: Int(response.status.code), headers: response.headers, body: Array(buffer: body))
                if (200..<300).contains(answer.status) { return answer }
                failure = .status(
                    answer.status, retryAfter: answer.headers.first(name: "Retry-After"), hint: hint?(answer))
                outcome = .success(answer)
            } catch {
                if Task.isCancelled || error is CancellationError { throw CancellationError() }
                failure = .network
                outcome = .failure(error)
            }
            let decision = policy.decision(after: failure, attempt: attempt, waited: waited, idempotent: repeatable)
            guard case .retry(let wait) = decision else { return try outcome.get() }
            logger.warning(
                "\(name) \(Self.describe(failure, outcome)) for \(request.method) \(label ?? Self.path(of: request.url)); trying again in \(wait) (attempt \(attempt + 1) of \(policy.maxAttempts))"
            )
            try await Task.sleep(for: wait)
            waited += wait
            attempt += 1
        }
    }

    private static func describe(_ failure: RetryPolicy.Failure, _ outcome: Result<Response, any Error>) -> String {
        switch (failure, outcome) {
        case (.status(429, _, _), _): return "asks to slow down (HTTP 429)"
        case (.status(let status, _, _), _): return "answered HTTP \(status)"
        case (.network, .failure(let error)): return "could not be reached (\(error))"
        case (.network, .success): return "could not be reached"
        }
    }

    /// The URL without its query, which may carry tokens.
    private static func path(of url: String) -> String {
        String(url.prefix { $0 != "?" })
    }
}
