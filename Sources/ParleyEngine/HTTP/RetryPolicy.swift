import Foundation

/// When a call to a platform's HTTP API is tried again, and after how long: a 429 after the wait its
/// `Retry-After` names, a server error or a lost connection after a backoff that doubles — within a
/// number of attempts and a cap on the time spent waiting in all.
///
/// Only requests that may be sent twice (`idempotent`) are tried again after a server error or a
/// network error: a `POST` that failed that way may have done its work already. A 429 is always
/// tried again, since the server refused the request without doing it.
public struct RetryPolicy: Sendable, Equatable {
    /// How many times one call is tried in all, the first included.
    public var maxAttempts: Int
    /// The longest single wait; a longer `Retry-After` is cut to this.
    public var maxWait: Duration
    /// The most time one call spends waiting between its attempts; a wait that would pass it ends
    /// the call instead.
    public var maxTotalWait: Duration
    /// The wait before the second attempt after a server or network error; doubled each time after.
    public var firstBackoff: Duration

    /// Creates a policy.
    public init(maxAttempts: Int, maxWait: Duration, maxTotalWait: Duration, firstBackoff: Duration) {
        self.maxAttempts = maxAttempts
        self.maxWait = maxWait
        self.maxTotalWait = maxTotalWait
        self.firstBackoff = firstBackoff
    }

    /// Five attempts, a wait of at most two minutes each and five minutes in all, backoff from half
    /// a second: the platforms' chat APIs.
    public static let standard = RetryPolicy(
        maxAttempts: 5, maxWait: .seconds(120), maxTotalWait: .seconds(300), firstBackoff: .milliseconds(500))

    /// One attempt: the call's own caller decides what to do next (a long poll that has its own loop).
    public static let never = RetryPolicy(maxAttempts: 1, maxWait: .zero, maxTotalWait: .zero, firstBackoff: .zero)

    /// What to do after a failed attempt.
    public enum Decision: Sendable, Equatable {
        /// Wait this long, then try again.
        case retry(after: Duration)
        /// Give up: answer with what the last attempt got.
        case stop
    }

    /// What an attempt got that was not a success.
    public enum Failure: Sendable, Equatable {
        /// The server answered with this status; `retryAfter` is its `Retry-After` header, and `hint`
        /// a wait the platform named elsewhere (Matrix's `retry_after_ms`), which takes precedence.
        case status(Int, retryAfter: String? = nil, hint: Duration? = nil)
        /// No answer: the connection failed or timed out.
        case network
    }

    /// Decides what follows attempt number `attempt` (1 for the first) of a call that has waited
    /// `waited` so far. `now` is when the answer came, for a `Retry-After` given as a date.
    public func decision(
        after failure: Failure, attempt: Int, waited: Duration, idempotent: Bool, now: Date = Date()
    ) -> Decision {
        guard attempt < maxAttempts else { return .stop }
        let wait: Duration
        switch failure {
        case .status(429, let retryAfter, let hint):
            wait = hint ?? retryAfter.flatMap { Self.delay(retryAfter: $0, now: now) } ?? backoff(attempt)
        case .status(let status, let retryAfter, let hint) where (500..<600).contains(status):
            guard idempotent else { return .stop }
            let named = status == 503 ? hint ?? retryAfter.flatMap { Self.delay(retryAfter: $0, now: now) } : nil
            wait = named ?? backoff(attempt)
        case .status:
            return .stop
        case .network:
            guard idempotent else { return .stop }
            wait = backoff(attempt)
        }
        let capped = min(max(wait, .zero), maxWait)
        guard waited + capped <= maxTotalWait else { return .stop }
        return .retry(after: capped)
    }

    /// `firstBackoff` doubled for each attempt after the first, no longer than `maxWait`.
    func backoff(_ attempt: Int) -> Duration {
        var wait = firstBackoff
        for _ in 1..<max(attempt, 1) {
            wait *= 2
            if wait >= maxWait { return maxWait }
        }
        return wait
    }

    /// The wait a `Retry-After` value names (RFC 9110 §10.2.3): whole seconds, or an HTTP date (then
    /// the time from `now` until it, zero when past). Nil when it is neither. The value comes from
    /// outside, so any number of digits is read without overflow: more seconds than a day are a day
    /// (callers cap waits far below that).
    public static func delay(retryAfter value: String, now: Date) -> Duration? {
        let text = value.trimmingCharacters(in: .whitespaces)
        guard !text.isEmpty else { return nil }
        if text.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }) {
            let day: Int64 = 86_400
            var seconds: Int64 = 0
            for digit in text.utf8 {
                seconds = seconds * 10 + Int64(digit - UInt8(ascii: "0"))
                if seconds >= day { return .seconds(day) }
            }
            return .seconds(seconds)
        }
        guard let date = httpDate(text) else { return nil }
        let interval = date.timeIntervalSince(now)
        guard interval > 0 else { return .zero }
        return .milliseconds(Int64((min(interval, 86_400) * 1000).rounded(.up)))
    }

    /// An HTTP date in any of the three forms RFC 9110 §5.6.7 says to accept: IMF-fixdate
    /// (`Sun, 06 Nov 1994 08:49:37 GMT`), RFC 850 (`Sunday, 06-Nov-94 08:49:37 GMT`) and asctime
    /// (`Sun Nov  6 08:49:37 1994`).
    static func httpDate(_ text: String) -> Date? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        let collapsed = text.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
        for format in ["EEE, dd MMM yyyy HH:mm:ss 'GMT'", "EEEE, dd-MMM-yy HH:mm:ss 'GMT'", "EEE MMM d HH:mm:ss yyyy"] {
            formatter.dateFormat = format
            if let date = formatter.date(from: collapsed) { return date }
        }
        return nil
    }
}
