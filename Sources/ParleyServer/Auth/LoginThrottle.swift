import Foundation

/// Slows password guessing without letting anyone lock a user out. Failures are counted per user name
/// *and* client address (5 in 5 minutes stop that pair only, so a stranger's wrong guesses do not keep
/// the real user, elsewhere, from signing in), per client address across names (20: one address
/// trying many names), and over everything (500: a distributed attack slows every sign-in down
/// rather than going on unchecked). Old failures are evicted, and the table has a hard size.
actor LoginThrottle {
    /// Failures allowed in one window before an attempt is refused.
    struct Limits: Sendable {
        var perUserAndAddress = 5
        var perAddress = 20
        var global = 500
    }

    private var failures: [String: [Date]] = [:]
    private var lastSweep = Date.distantPast
    let limits: Limits
    let window: TimeInterval
    /// Most keys kept; past it the ones with the oldest last failure go first.
    let capacity: Int

    init(limits: Limits = Limits(), window: TimeInterval = 300, capacity: Int = 10_000) {
        self.limits = limits
        self.window = window
        self.capacity = max(16, capacity)
    }

    /// How many keys are held now (for tests of eviction).
    var keyCount: Int { failures.count }

    /// Seconds to wait before `user` may try again from `address`, or nil when an attempt may go ahead.
    func retryAfter(user: String, address: String, now: Date = Date()) -> Int? {
        sweep(now: now)
        var wait: Int?
        for (key, limit) in keys(user: user, address: address) {
            let recent = (failures[key] ?? []).filter { now.timeIntervalSince($0) < window }
            failures[key] = recent.isEmpty ? nil : recent
            if recent.count >= limit, let oldest = recent.first {
                wait = max(wait ?? 0, max(1, Int((window - now.timeIntervalSince(oldest)).rounded(.up))))
            }
        }
        return wait
    }

    /// Counts a failed attempt.
    func failed(user: String, address: String, now: Date = Date()) {
        for (key, limit) in keys(user: user, address: address) {
            var list = failures[key] ?? []
            list.append(now)
            // Only the last `limit` failures matter for the answer.
            if list.count > limit { list.removeFirst(list.count - limit) }
            failures[key] = list
        }
        if failures.count > capacity { evictOldest() }
    }

    /// Clears the pair's failures after a good password (the address's and the global count stay).
    func succeeded(user: String, address: String) {
        failures[Self.pairKey(user: user, address: address)] = nil
    }

    private func keys(user: String, address: String) -> [(String, Int)] {
        [
            (Self.pairKey(user: user, address: address), limits.perUserAndAddress),
            ("address:" + address, limits.perAddress), ("*", limits.global),
        ]
    }

    private static func pairKey(user: String, address: String) -> String {
        "user:" + user.lowercased() + "|" + address
    }

    /// Drops failures older than the window, at most once a minute.
    private func sweep(now: Date) {
        guard now.timeIntervalSince(lastSweep) >= 60 else { return }
        lastSweep = now
        failures = failures.compactMapValues { list in
            let recent = list.filter { now.timeIntervalSince($0) < window }
            return recent.isEmpty ? nil : recent
        }
    }

    private func evictOldest() {
        let excess = failures.count - capacity + capacity / 10
        let oldest = failures.filter { $0.key != "*" }.sorted {
            ($0.value.last ?? .distantPast) < ($1.value.last ?? .distantPast)
        }
        for (key, _) in oldest.prefix(max(1, excess)) { failures[key] = nil }
    }
}
