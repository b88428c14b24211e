import Foundation

/// A `parley serve` process sharing the store, as it last announced itself.
public struct ReplicaRecord: Sendable, Equatable {
    /// The process (`ProcessOwner.current` of that replica): runs name it as their owner.
    public var id: String
    public var host: String
    public var version: String
    public var startedAt: Date
    /// Its last heartbeat.
    public var seenAt: Date
    /// When its heartbeat runs out, by the store's clock.
    public var expiresAt: Date
    /// True while its heartbeat is current by the store's clock (PostgreSQL's `now()`), never by
    /// the asking replica's clock.
    public var isAlive: Bool

    public init(
        id: String, host: String, version: String, startedAt: Date, seenAt: Date, expiresAt: Date, isAlive: Bool
    ) {
        self.id = id
        self.host = host
        self.version = version
        self.startedAt = startedAt
        self.seenAt = seenAt
        self.expiresAt = expiresAt
        self.isAlive = isAlive
    }
}

/// Who is serving: every replica heartbeats its row, and with it every run it executes (a run is
/// alive while its owner's row is). A survivor takes a replica whose heartbeat ran out for dead:
/// it interrupts or adopts its runs, whose epochs then move on, so the replica cannot change them
/// if it was only slow.
public protocol ReplicaStore: Sendable {
    /// Records that replica `id` is alive until `ttl` from now (the store's clock) and returns the
    /// runs still running that it owns, by id, with their epochs: a run it executes that is not
    /// among them was taken over by a survivor, and this replica must stop it. Rows of replicas
    /// gone for a day are removed.
    func heartbeat(id: String, host: String, version: String, startedAt: Date, ttl: Duration) async throws
        -> [Int64: Int64]
    /// Every replica seen in the last day, oldest first.
    func replicas() async throws -> [ReplicaRecord]
    /// Removes the row of a replica that stops cleanly.
    func removeReplica(id: String) async throws
}
