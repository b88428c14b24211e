import Foundation
import ParleyCore
import PostgresNIO

extension PostgresStore {
    static let overrideColumns = "id, schedule, person, starts_at, ends_at, made_by, created_at"

    static func overrideRecord(_ row: PostgresRandomAccessRow) throws -> OnCallOverrideRecord {
        OnCallOverrideRecord(
            id: try row.value("id"), schedule: try row.value("schedule"),
            override: OnCallOverride(
                person: try row.value("person"), start: try row.value("starts_at"), end: try row.value("ends_at"),
                madeBy: try row.value("made_by")),
            createdAt: try row.value("created_at"))
    }

    public func addOverride(_ record: OnCallOverrideRecord) async throws -> OnCallOverrideRecord {
        guard
            let row = try await rows(
                """
                INSERT INTO oncall_override (schedule, person, starts_at, ends_at, made_by, created_at) VALUES \
                (\(StoredText.clean(record.schedule)), \(StoredText.clean(record.override.person)), \
                \(record.override.start), \(record.override.end), \(StoredText.clean(record.override.madeBy)), \
                \(record.createdAt)) RETURNING \(unescaped: Self.overrideColumns)
                """
            ).first
        else { throw StoreError.cannotOpen(path: "oncall_override", reason: "the override was not recorded") }
        return try Self.overrideRecord(row)
    }

    public func overrides(schedule: String, endingAfter after: Date) async throws -> [OnCallOverrideRecord] {
        try await rows(
            """
            SELECT \(unescaped: Self.overrideColumns) FROM oncall_override WHERE schedule = \(schedule) \
            AND ends_at > \(after) ORDER BY id LIMIT 1000
            """
        ).map(Self.overrideRecord)
    }

    public func removeOverride(id: Int64) async throws -> Bool {
        !(try await rows("DELETE FROM oncall_override WHERE id = \(id) RETURNING id").isEmpty)
    }
}
