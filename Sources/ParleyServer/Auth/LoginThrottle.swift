import Foundation
import ParleyCore
import ParleyStore
import Synchronization

/// Slows password guessing without letting anyone lock a user out. Failures are counted per user name
/// *and* client address (5 in 5 minutes stop that pair only, so a stranger's wrong guesses do not keep
/// the real user, elsewhere, from signing in), per client address across names (20: one address
/// trying many names), and over everything (500: a distributed attack slows every sign-in down
/// rather than going on unchecked).
///
/// The failures are counted in the store, so replicas behind a load balancer count together: an
/// attacker gets five guesses, not five per replica. The table stays small: once the global limit is
/// reached nothing more is counted, and failures older than the window are removed.
final class LoginThrottle: Sendable {
    /// Failures allowed in one window before an attempt is refused.
    struct Limits: Sendable {
        var perUserAndAddress = 5
        var perAddress = 20
        var global = 500
    }

    let store: any LimitStore
    let limits: Limits
    let window: TimeInterval
    private let lastSweep = Mutex(Date.distantPast)

    init(store: any LimitStore, limits: Limits = Limits(), window: TimeInterval = 300) {
        self.store = store
        self.limits = limits
        self.window = window
    }

    /// Seconds to wait before `user` may try again from `address`, or nil when an attempt may go ahead.
    func retryAfter(user: String, address: String, now: Date = Date()) async throws -> Int? {
        try await sweep(now: now)
        let keys = keys(user: user, address: address)
        let counts = try await store.recentHits(keys: keys.map(\.key), window: .seconds(window), at: now)
        var wait: Int?
        for (key, limit) in keys {
            guard let hits = counts[key], hits.count >= limit else { continue }
            let seconds = (window - now.timeIntervalSince(hits.oldest)).rounded(.up)
            wait = max(wait ?? 1, seconds < 1 ? 1 : seconds > window ? Int(window) : Int(seconds))
        }
        return wait
    }

    /// Counts a failed attempt.
    func failed(user: String, address: String, now: Date = Date()) async throws {
        try await store.recordHits(keys: keys(user: user, address: address).map(\.key), at: now)
    }

    /// Clears the pair's failures after a good password (the address's and the global count stay).
    func succeeded(user: String, address: String) async throws {
        try await store.clearHits(key: Self.pairKey(user: user, address: address))
    }

    /// The keys counted, as the store keeps text (a NUL a stranger typed as a user name is U+2400, as
    /// PostgreSQL refuses NULs).
    private func keys(user: String, address: String) -> [(key: String, limit: Int)] {
        [
            (Self.pairKey(user: user, address: address), limits.perUserAndAddress),
            (StoredText.clean(Self.prefix + "address:" + address), limits.perAddress),
            (Self.prefix + "*", limits.global),
        ]
    }

    static let prefix = "login:"

    private static func pairKey(user: String, address: String) -> String {
        StoredText.clean(prefix + "user:" + user.lowercased() + "|" + address)
    }

    /// Drops failures older than the window, at most once a minute per replica.
    private func sweep(now: Date) async throws {
        let due = lastSweep.withLock { last in
            guard now.timeIntervalSince(last) >= 60 else { return false }
            last = now
            return true
        }
        if due { try await store.pruneHits(prefix: Self.prefix, before: now.addingTimeInterval(-window)) }
    }
}
