import Foundation

/// A message for a chat connection that only one replica holds (IRC's nick, Matrix `/sync`): a
/// replica that does not hold it queues the message in the store, and the replica that does posts
/// it. The alert that reached a follower by webhook reaches its IRC channel all the same.
public struct OutboxMessage: Sendable, Equatable {
    /// What to do with the reply.
    public enum Action: String, Sendable {
        /// Post it (in `thread` when there is one).
        case send
        /// Replace the message `reference` with it.
        case edit
    }

    public var id: Int64
    /// The adapter's platform (`irc`, `matrix` …).
    public var platform: String
    /// The room on that platform, without the platform's prefix.
    public var room: String
    public var thread: String?
    public var action: Action
    /// The message to replace (`edit`).
    public var reference: String?
    /// The reply, as the JSON of `Reply`.
    public var body: String
    public var queuedAt: Date
    /// How many times posting it failed so far.
    public var attempts: Int

    public init(
        id: Int64, platform: String, room: String, thread: String?, action: Action, reference: String?, body: String,
        queuedAt: Date, attempts: Int
    ) {
        self.id = id
        self.platform = platform
        self.room = room
        self.thread = thread
        self.action = action
        self.reference = reference
        self.body = body
        self.queuedAt = queuedAt
        self.attempts = attempts
    }
}

/// What became of a queued message.
public enum OutboxOutcome: Sendable, Equatable {
    /// Not posted yet.
    case queued
    /// Posted: the platform's id of the new message (`send`), or "edited" (`edit`); nil when the
    /// platform gives none, or cannot edit.
    case delivered(String?)
    /// Given up on, with the last reason.
    case failed(String)
}

/// The store's queue of messages for connections another replica holds.
public protocol OutboxStore: Sendable {
    /// Queues a message; returns its id.
    func enqueueOutbound(
        platform: String, room: String, thread: String?, action: OutboxMessage.Action, reference: String?,
        body: String
    ) async throws -> Int64
    /// Claims up to `limit` queued messages of `platform` that are due, oldest first, for `holder`
    /// until `ttl` from now: a holder that dies while posting leaves them to be claimed again.
    func claimOutbound(platform: String, holder: String, ttl: Duration, limit: Int) async throws -> [OutboxMessage]
    /// Records that a claimed message was posted (`.delivered`) or given up (`.failed`). Messages
    /// settled more than a day ago are removed.
    func settleOutbound(id: Int64, outcome: OutboxOutcome) async throws
    /// Gives a claimed message back, to be claimed again after `delay`; `failure` counts an attempt.
    func retryOutbound(id: Int64, after delay: Duration, failure: String?) async throws
    /// What became of message `id`; nil when there is none.
    func outboundOutcome(id: Int64) async throws -> OutboxOutcome?
}

/// Limits every replica counts together: rates per person and command, and `max_concurrent`.
public protocol LimitStore: Sendable {
    /// Counts a hit of `key` at `now` when fewer than `limit` hits of it fall within `window` before
    /// `now` and returns nil; otherwise counts nothing and returns when the oldest of them leaves
    /// the window. Hits that left it are removed.
    func admitHit(key: String, limit: Int, window: Duration, at now: Date) async throws -> Date?
    /// Takes back the hit of `key` counted at `at` (a platform's retry of a message already handled).
    func refundHit(key: String, at: Date) async throws
    /// Takes one of `max` slots of `name` for run `runID`, which must be recorded and running; slots
    /// of runs that are no longer running (finished, or interrupted after their replica died) are
    /// freed. False when all are taken.
    func takeSlot(name: String, max: Int, runID: Int64) async throws -> Bool
    /// Frees the slot run `runID` holds.
    func releaseSlot(name: String, runID: Int64) async throws
    /// How many hits of each of `keys` fall within `window` before `now`, with the oldest of them;
    /// keys without any are left out.
    func recentHits(keys: [String], window: Duration, at now: Date) async throws -> [String: HitCount]
    /// Counts a hit of each of `keys` at `now`, whatever their counts (failed sign-ins).
    func recordHits(keys: [String], at now: Date) async throws
    /// Forgets every hit of `key`.
    func clearHits(key: String) async throws
    /// Removes the hits before `before` of every key that starts with `prefix`.
    func pruneHits(prefix: String, before: Date) async throws
}

/// Hits of one key within a window.
public struct HitCount: Sendable, Equatable {
    public var count: Int
    public var oldest: Date

    public init(count: Int, oldest: Date) {
        self.count = count
        self.oldest = oldest
    }
}
