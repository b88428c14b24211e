import Foundation

/// Slows password guessing: after 5 failures for a name (or from an address) in 5 minutes, logins
/// for it are refused until the window passes.
actor LoginThrottle {
    private var failures: [String: [Date]] = [:]
    let limit: Int
    let window: TimeInterval

    init(limit: Int = 5, window: TimeInterval = 300) {
        self.limit = limit
        self.window = window
    }

    /// Seconds to wait before another attempt for any of `keys`, or nil when an attempt may go ahead.
    func retryAfter(_ keys: [String], now: Date = Date()) -> Int? {
        var wait: Int?
        for key in keys {
            let recent = (failures[key] ?? []).filter { now.timeIntervalSince($0) < window }
            failures[key] = recent
            if recent.count >= limit, let oldest = recent.first {
                wait = max(wait ?? 0, Int((window - now.timeIntervalSince(oldest)).rounded(.up)))
            }
        }
        return wait
    }

    func failed(_ keys: [String], now: Date = Date()) {
        for key in keys { failures[key, default: []].append(now) }
    }

    func succeeded(_ keys: [String]) {
        for key in keys { failures[key] = nil }
    }
}
