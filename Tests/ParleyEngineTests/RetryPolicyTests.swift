import AsyncHTTPClient
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import NIOHTTP1
import ParleyEngine
import Synchronization
import Testing

/// The decisions of `RetryPolicy`, the one place platform clients learn whether to try a call again.
@Suite struct RetryPolicyTests {
    let policy = RetryPolicy.standard
    let now = Date(timeIntervalSince1970: 1_700_000_000)

    func decide(
        _ failure: RetryPolicy.Failure, attempt: Int = 1, waited: Duration = .zero, idempotent: Bool = true
    ) -> RetryPolicy.Decision {
        policy.decision(after: failure, attempt: attempt, waited: waited, idempotent: idempotent, now: now)
    }

    @Test func aRateLimitWaitsTheSecondsRetryAfterNames() {
        #expect(decide(.status(429, retryAfter: "3")) == .retry(after: .seconds(3)))
        #expect(decide(.status(429, retryAfter: " 7 ")) == .retry(after: .seconds(7)))
        #expect(decide(.status(429, retryAfter: "0")) == .retry(after: .zero))
        // A rate limit means nothing was done, so even a POST is tried again.
        #expect(decide(.status(429, retryAfter: "2"), idempotent: false) == .retry(after: .seconds(2)))
    }

    @Test func aRateLimitUntilADateWaitsUntilThen() {
        // 1_700_000_000 is Tue, 14 Nov 2023 22:13:20 GMT.
        #expect(decide(.status(429, retryAfter: "Tue, 14 Nov 2023 22:13:50 GMT")) == .retry(after: .seconds(30)))
        #expect(decide(.status(429, retryAfter: "Tuesday, 14-Nov-23 22:13:25 GMT")) == .retry(after: .seconds(5)))
        #expect(decide(.status(429, retryAfter: "Tue Nov 14 22:13:21 2023")) == .retry(after: .seconds(1)))
        // A date already past: try again at once.
        #expect(decide(.status(429, retryAfter: "Sun, 06 Nov 1994 08:49:37 GMT")) == .retry(after: .zero))
    }

    @Test func hugeOrFarRetryAfterValuesAreCappedNotOverflowed() {
        for value in [
            "99999999999999999999999999999999", "9223372036854775807", "9223372036854775808", "86401",
            "Fri, 31 Dec 9999 23:59:59 GMT",
        ] {
            #expect(decide(.status(429, retryAfter: value)) == .retry(after: policy.maxWait), "\(value)")
        }
        #expect(RetryPolicy.delay(retryAfter: "99999999999999999999999", now: now) == .seconds(86_400))
    }

    @Test func unreadableRetryAfterFallsBackToBackoff() {
        for value in ["-5", "1.5", "soon", "", "0x10", "Tue, 14 Nov 2023 25:99:99 GMT"] {
            #expect(decide(.status(429, retryAfter: value)) == .retry(after: .milliseconds(500)), "\(value)")
        }
        #expect(decide(.status(429)) == .retry(after: .milliseconds(500)))
        #expect(decide(.status(429), attempt: 3) == .retry(after: .seconds(2)))
    }

    @Test func aPlatformsOwnHintComesBeforeRetryAfter() {
        #expect(decide(.status(429, retryAfter: "9", hint: .milliseconds(1500))) == .retry(after: .milliseconds(1500)))
    }

    @Test func serverErrorsBackOffExponentiallyForRepeatableRequestsOnly() {
        #expect(decide(.status(500), attempt: 1) == .retry(after: .milliseconds(500)))
        #expect(decide(.status(502), attempt: 2) == .retry(after: .seconds(1)))
        #expect(decide(.status(504), attempt: 4) == .retry(after: .seconds(4)))
        #expect(decide(.status(500), idempotent: false) == .stop)
        // A 503 may say when to come back.
        #expect(decide(.status(503, retryAfter: "6")) == .retry(after: .seconds(6)))
        let long = RetryPolicy(
            maxAttempts: 20, maxWait: .seconds(10), maxTotalWait: .seconds(1000), firstBackoff: .seconds(1))
        #expect(
            long.decision(after: .status(500), attempt: 15, waited: .zero, idempotent: true)
                == .retry(after: .seconds(10)))
    }

    @Test func networkErrorsAreRetriedForRepeatableRequestsOnly() {
        #expect(decide(.network, attempt: 2) == .retry(after: .seconds(1)))
        #expect(decide(.network, idempotent: false) == .stop)
    }

    @Test func otherStatusesAreAnswersNotRetries() {
        for status in [400, 401, 403, 404, 409, 413, 422, 600] {
            #expect(decide(.status(status, retryAfter: "1")) == .stop, "\(status)")
        }
    }

    @Test func attemptsAndTotalWaitAreCapped() {
        #expect(decide(.status(429, retryAfter: "1"), attempt: 4) == .retry(after: .seconds(1)))
        #expect(decide(.status(429, retryAfter: "1"), attempt: 5) == .stop)
        #expect(decide(.status(429, retryAfter: "60"), waited: .seconds(240)) == .retry(after: .seconds(60)))
        #expect(decide(.status(429, retryAfter: "61"), waited: .seconds(240)) == .stop)
        #expect(RetryPolicy.never.decision(after: .network, attempt: 1, waited: .zero, idempotent: true) == .stop)
    }
}

/// `PlatformClient` against a server that fails on purpose: it tries again as the policy decides.
@Suite struct PlatformClientTests {
    /// Fails the first `failures` calls of each path with `status`, then answers 200.
    final class FlakyServer: Sendable {
        let failures: Int
        let status: HTTPResponse.Status
        let calls = Mutex<[String: Int]>([:])

        init(failures: Int, status: HTTPResponse.Status) {
            self.failures = failures
            self.status = status
        }

        func count(_ path: String) -> Int { calls.withLock { $0[path] ?? 0 } }

        func router() -> Router<BasicRequestContext> {
            let router = Router()
            router.on("/:name", method: .get) { request, _ in self.answer(request) }
            router.on("/:name", method: .post) { request, _ in self.answer(request) }
            return router
        }

        private func answer(_ request: Request) -> Response {
            let seen = calls.withLock { calls -> Int in
                calls[request.uri.path, default: 0] += 1
                return calls[request.uri.path]!
            }
            var headers = HTTPFields()
            if status == .tooManyRequests { headers[.retryAfter] = "0" }
            return Response(status: seen <= failures ? status : .ok, headers: headers)
        }
    }

    let quick = RetryPolicy(
        maxAttempts: 4, maxWait: .milliseconds(50), maxTotalWait: .seconds(1), firstBackoff: .milliseconds(10))

    func withServer(
        failures: Int, status: HTTPResponse.Status,
        _ body: @Sendable (FlakyServer, PlatformClient, Int) async throws -> Void
    ) async throws {
        let server = FlakyServer(failures: failures, status: status)
        let app = Application(router: server.router(), configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await app.test(.live) { client in
            let platform = PlatformClient(name: "the fake", policy: quick, logger: Logger(label: "test"))
            try await body(server, platform, try #require(client.port))
        }
    }

    func request(_ method: HTTPMethod, _ url: String) -> HTTPClientRequest {
        var request = HTTPClientRequest(url: url)
        request.method = method
        return request
    }

    @Test func serverErrorsOfARepeatableRequestAreTriedAgainUntilItSucceeds() async throws {
        try await withServer(failures: 2, status: .serviceUnavailable) { server, platform, port in
            let answer = try await platform.send(request(.GET, "http://127.0.0.1:\(port)/read"))
            #expect(answer.status == 200)
            #expect(server.count("/read") == 3)
            // A POST that failed with a server error may have done its work: it is not sent again.
            let post = try await platform.send(request(.POST, "http://127.0.0.1:\(port)/write"))
            #expect(post.status == 503)
            #expect(server.count("/write") == 1)
        }
    }

    @Test func rateLimitsAreWaitedOutEvenForAPostAndTheLastAnswerReturnedAtTheEnd() async throws {
        try await withServer(failures: 10, status: .tooManyRequests) { server, platform, port in
            let post = try await platform.send(request(.POST, "http://127.0.0.1:\(port)/write"))
            #expect(post.status == 429)
            #expect(server.count("/write") == 4)
        }
    }

    @Test func anUnreachableServerIsTriedAgainThenItsErrorThrown() async throws {
        let platform = PlatformClient(name: "nobody", policy: quick, logger: Logger(label: "test"))
        let started = ContinuousClock.now
        await #expect(throws: (any Error).self) {
            try await platform.send(request(.GET, "http://127.0.0.1:1/read"), timeout: .milliseconds(200))
        }
        // Three waits of 10, 20 and 40 ms went by between the four attempts.
        #expect(ContinuousClock.now - started >= .milliseconds(70))
    }
}
