import Foundation
import ParleyCore
import PostgresNIO

extension PostgresStore {
    static let pageColumns =
        "id, key, policy, summary, room, level, round, next_at, status, settled_by, created_at, updated_at"

    static func pageRecord(_ row: PostgresRandomAccessRow) throws -> PageRecord {
        PageRecord(
            id: try row.value("id"), key: try row.value("key"), policy: try row.value("policy"),
            summary: try row.value("summary"), room: try row.value("room"),
            level: try row.value("level", as: Int.self), round: try row.value("round", as: Int.self),
            nextAt: try row.value("next_at"), status: PageStatus(rawValue: try row.value("status")) ?? .open,
            settledBy: try row.value("settled_by"), createdAt: try row.value("created_at"),
            updatedAt: try row.value("updated_at"))
    }

    public func openPage(_ page: PageRecord) async throws -> (page: PageRecord, isNew: Bool) {
        let inserted = try await rows(
            """
            INSERT INTO page (key, policy, summary, room, level, round, next_at, status, settled_by, created_at, \
            updated_at) VALUES (\(StoredText.clean(page.key)), \(page.policy), \(StoredText.clean(page.summary)), \
            \(page.room.map(StoredText.clean)), \(page.level), \(page.round), \(page.nextAt), \(page.status.rawValue), \
            \(page.settledBy), \(page.createdAt), \(page.updatedAt)) \
            ON CONFLICT (key) WHERE status = 'open' DO NOTHING RETURNING \(unescaped: Self.pageColumns)
            """)
        if let row = inserted.first { return (try Self.pageRecord(row), true) }
        guard
            let open = try await rows(
                """
                SELECT \(unescaped: Self.pageColumns) FROM page WHERE key = \(StoredText.clean(page.key)) \
                AND status = 'open'
                """
            ).first
        else { return try await openPage(page) }
        return (try Self.pageRecord(open), false)
    }

    public func duePages(at now: Date, limit: Int) async throws -> [PageRecord] {
        try await rows(
            """
            SELECT \(unescaped: Self.pageColumns) FROM page WHERE status = 'open' AND next_at <= \(now) \
            ORDER BY next_at LIMIT \(Int64(max(0, limit)))
            """
        ).map(Self.pageRecord)
    }

    public func advancePage(
        id: Int64, from: (level: Int, round: Int), to: (level: Int, round: Int), nextAt: Date?, status: PageStatus,
        at: Date
    ) async throws -> Bool {
        !(try await rows(
            """
            UPDATE page SET level = \(to.level), round = \(to.round), next_at = \(nextAt), status = \(status.rawValue), \
            updated_at = \(at) WHERE id = \(id) AND level = \(from.level) AND round = \(from.round) \
            AND status = 'open' RETURNING id
            """
        ).isEmpty)
    }

    public func settlePage(key: String, status: PageStatus, by: String, at: Date) async throws -> PageRecord? {
        try await rows(
            """
            UPDATE page SET status = \(status.rawValue), settled_by = \(StoredText.clean(by)), next_at = NULL, \
            updated_at = \(at) WHERE key = \(StoredText.clean(key)) AND status = 'open' \
            RETURNING \(unescaped: Self.pageColumns)
            """
        ).first.map(Self.pageRecord)
    }

    public func page(id: Int64) async throws -> PageRecord? {
        try await rows("SELECT \(unescaped: Self.pageColumns) FROM page WHERE id = \(id)").first.map(Self.pageRecord)
    }

    public func pages(openOnly: Bool, limit: Int) async throws -> [PageRecord] {
        let filter = openOnly ? "WHERE status = 'open'" : ""
        return try await rows(
            """
            SELECT \(unescaped: Self.pageColumns) FROM page \(unescaped: filter) ORDER BY id DESC \
            LIMIT \(Int64(max(0, limit)))
            """
        ).map(Self.pageRecord)
    }
}
