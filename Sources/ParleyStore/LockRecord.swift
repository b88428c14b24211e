import Foundation

/// A named lock held by a run: `deploy-prod` held by run #12 for alice since 10:02.
public struct LockRecord: Sendable, Equatable, Codable {
    public var name: String
    public var runID: Int64
    public var holder: String
    public var acquiredAt: Date

    /// Creates a lock record.
    public init(name: String, runID: Int64, holder: String, acquiredAt: Date) {
        self.name = name
        self.runID = runID
        self.holder = holder
        self.acquiredAt = acquiredAt
    }
}

/// Named locks, stored so that every process sharing the store respects them.
public protocol LockStore: Sendable {
    /// Takes the lock for a run; returns nil when taken, or the record of whoever holds it.
    func acquireLock(_ lock: LockRecord) async throws -> LockRecord?
    /// Releases a lock if this run holds it.
    func releaseLock(name: String, runID: Int64) async throws
    /// Releases locks whose runs are no longer running (after a crash); returns how many.
    func releaseStaleLocks() async throws -> Int
}
