import Foundation
import ParleyCore

/// Counts runs per person and command in a sliding window, and says when to retry.
actor RateLimiter {
    private var history: [String: [Date]] = [:]

    /// Records a run now if `limit` allows it; otherwise returns the seconds until it would.
    func admit(_ key: String, limit: RateLimit, now: Date = Date()) -> Int? {
        let window = TimeInterval(limit.seconds)
        var times = history[key, default: []].filter { now.timeIntervalSince($0) < window }
        if times.count >= limit.count, let oldest = times.first {
            history[key] = times
            return max(1, Int((window - now.timeIntervalSince(oldest)).rounded(.up)))
        }
        times.append(now)
        history[key] = times
        return nil
    }

    /// Gives back the run admitted at `at` (a platform's retry of a message already handled).
    func refund(_ key: String, at: Date) {
        guard var times = history[key], let index = times.lastIndex(of: at) else { return }
        times.remove(at: index)
        history[key] = times
    }
}
