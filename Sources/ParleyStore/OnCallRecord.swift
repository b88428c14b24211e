import Foundation
import ParleyCore

/// An override as stored: its number (to remove it) and the schedule it belongs to.
public struct OnCallOverrideRecord: Sendable, Equatable {
    public var id: Int64?
    public var schedule: String
    public var override: OnCallOverride
    public var createdAt: Date

    /// Creates a record not yet numbered.
    public init(id: Int64? = nil, schedule: String, override: OnCallOverride, createdAt: Date) {
        self.id = id
        self.schedule = schedule
        self.override = override
        self.createdAt = createdAt
    }
}

/// On-call overrides, shared by every replica.
public protocol OnCallStore: Sendable {
    /// Records an override; returns it numbered.
    func addOverride(_ record: OnCallOverrideRecord) async throws -> OnCallOverrideRecord
    /// A schedule's overrides that end after `after`, in the order they were made (later ones win).
    func overrides(schedule: String, endingAfter after: Date) async throws -> [OnCallOverrideRecord]
    /// Removes an override; false when there was none with that number.
    func removeOverride(id: Int64) async throws -> Bool
}
