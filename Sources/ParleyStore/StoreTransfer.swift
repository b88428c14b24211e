import Foundation
import GRDB
import ParleyCore
import PostgresNIO

/// Moves a team's history from its SQLite file into an empty PostgreSQL database (`parley migrate`):
/// every table, row for row, ids kept (the audit chain names runs by id), in one PostgreSQL
/// transaction — a failure leaves the target as empty as it was. The chain is verified on the
/// target before the transaction commits.
public enum StoreTransfer {
    /// The tables in the order they are copied (approvals before their votes, runs before steps).
    static let tables: [(sqlite: String, postgres: String)] = [
        ("run", "run"), ("seenEvent", "seen_event"), ("audit", "audit"), ("auditCheckpoint", "audit_checkpoint"),
        ("approval", "approval"), ("approvalVote", "approval_vote"), ("metadata", "metadata"),
        ("credential", "credential"), ("session", "session"), ("apiToken", "api_token"), ("runLock", "run_lock"),
        ("runStep", "run_step"), ("alert", "alert"), ("alertEvent", "alert_event"),
        ("alertMessage", "alert_message"), ("scheduledRun", "scheduled_run"), ("incident", "incident"),
        ("incidentEvent", "incident_event"), ("incidentTask", "incident_task"), ("incidentAlert", "incident_alert"),
        ("oncallOverride", "oncall_override"), ("page", "page"),
    ]
    /// PostgreSQL columns whose SQLite names are not the same words.
    static let renamed = ["run.duration_ms": "durationMilliseconds"]
    /// Tables whose ids PostgreSQL generates: their sequences continue after the copied ids.
    static let identities = [
        ("run", "id"), ("alert", "id"), ("alert_event", "id"), ("incident", "number"), ("incident_event", "id"),
        ("incident_task", "id"), ("oncall_override", "id"), ("page", "id"),
    ]
    /// Rows read and written at a time.
    static let batch = 500

    /// How many rows of one table were copied.
    public struct Copied: Sendable, Equatable {
        public var table: String
        public var rows: Int
    }

    /// Copies everything from `source` to `target`, which must hold no rows; returns the counts.
    public static func copy(from source: SQLiteStore, to target: PostgresStore) async throws -> [Copied] {
        let sourceChain = try await source.feedAuditChain(to: AuditVerifier(fromGenesis: true))
        if let problem = sourceChain.problem {
            throw TransferError("the SQLite audit chain does not verify (\(problem)); nothing was copied")
        }
        return try await target.transaction { transaction in
            let occupied = try await occupiedTables(transaction)
            guard occupied.isEmpty else {
                throw TransferError(
                    "the PostgreSQL database already holds rows in \(occupied.joined(separator: ", ")); "
                        + "migrate into an empty database")
            }
            var copied: [Copied] = []
            for table in tables {
                copied.append(
                    Copied(
                        table: table.postgres,
                        rows: try await copy(table.sqlite, to: table.postgres, from: source, transaction)))
            }
            for (table, column) in identities {
                try await transaction.execute(
                    PostgresQuery(
                        unsafeSQL: """
                            SELECT setval(pg_get_serial_sequence('\(table)', '\(column)'),
                              COALESCE((SELECT MAX(\(column)) FROM \(table)), 0) + 1, false)
                            """))
            }
            try await verifyChain(transaction, against: sourceChain)
            return copied
        }
    }

    private static func occupiedTables(_ transaction: PostgresStore.Transaction) async throws -> [String] {
        var occupied: [String] = []
        for table in tables {
            let rows = try await transaction.rows(
                PostgresQuery(unsafeSQL: "SELECT EXISTS (SELECT 1 FROM \(table.postgres)) AS occupied"))
            if try rows.first?.value("occupied", as: Bool.self) == true { occupied.append(table.postgres) }
        }
        return occupied
    }

    /// The copied chain, read back inside the transaction, is the source's: same length, same head.
    private static func verifyChain(_ transaction: PostgresStore.Transaction, against source: AuditVerifier)
        async throws
    {
        var verifier = AuditVerifier(fromGenesis: true)
        for row in try await transaction.rows(
            PostgresQuery(unsafeSQL: "SELECT \(PostgresStore.auditColumns) FROM audit ORDER BY seq"))
        {
            guard verifier.feed(try PostgresStore.entry(row)) else { break }
        }
        if let problem = verifier.problem {
            throw TransferError("the copied audit chain does not verify (\(problem)); nothing was copied")
        }
        guard verifier.count == source.count, verifier.lastSeq == source.lastSeq else {
            throw TransferError(
                "the copied audit chain has \(verifier.count) entries, the SQLite one \(source.count); nothing was copied"
            )
        }
    }

    /// One PostgreSQL column and the SQLite column it is filled from.
    private struct Column {
        var name: String
        var type: String
        var source: String
    }

    private static func columns(
        _ sqliteTable: String, _ postgresTable: String, from source: SQLiteStore,
        _ transaction: PostgresStore.Transaction
    ) async throws -> [Column] {
        let sourceColumns = try await source.pool.read { db in try db.columns(in: sqliteTable).map(\.name) }
        let rows = try await transaction.rows(
            """
            SELECT column_name, data_type FROM information_schema.columns
            WHERE table_schema = current_schema() AND table_name = \(postgresTable) ORDER BY ordinal_position
            """)
        func words(_ name: String) -> String { name.replacingOccurrences(of: "_", with: "").lowercased() }
        var columns: [Column] = []
        for row in rows {
            let name = try row.value("column_name", as: String.self)
            let wanted = renamed["\(postgresTable).\(name)"] ?? name
            guard let match = sourceColumns.first(where: { words($0) == words(wanted) }) else {
                throw TransferError("PostgreSQL's \(postgresTable).\(name) has no column in SQLite's \(sqliteTable)")
            }
            columns.append(Column(name: name, type: try row.value("data_type", as: String.self), source: match))
        }
        // A SQLite column with nowhere to go would be lost: refuse rather than drop it.
        for name in sourceColumns where !columns.contains(where: { $0.source == name }) {
            throw TransferError("SQLite's \(sqliteTable).\(name) has no column in PostgreSQL's \(postgresTable)")
        }
        return columns
    }

    private static func copy(
        _ sqliteTable: String, to postgresTable: String, from source: SQLiteStore,
        _ transaction: PostgresStore.Transaction
    ) async throws -> Int {
        let columns = try await columns(sqliteTable, postgresTable, from: source, transaction)
        let selected = columns.map { "\"\($0.source)\"" }.joined(separator: ", ")
        let inserted = columns.map(\.name).joined(separator: ", ")
        var after: Int64 = 0
        var total = 0
        while true {
            // The rowid first, then the columns in order.
            let start = after
            let rows: [[DatabaseValue]] = try await source.pool.read { db in
                try Row.fetchAll(
                    db,
                    sql: "SELECT rowid, \(selected) FROM \"\(sqliteTable)\" WHERE rowid > ? ORDER BY rowid LIMIT ?",
                    arguments: [start, batch]
                ).map { Array($0.databaseValues) }
            }
            guard let last = rows.last, let rowid = Int64.fromDatabaseValue(last[0]) else { return total }
            after = rowid
            var binds = PostgresBindings()
            var tuples: [String] = []
            for row in rows {
                var placeholders: [String] = []
                for (index, column) in columns.enumerated() {
                    try bind(row[index + 1], as: column, into: &binds, table: sqliteTable)
                    placeholders.append("$\(binds.count)")
                }
                tuples.append("(" + placeholders.joined(separator: ", ") + ")")
            }
            try await transaction.execute(
                PostgresQuery(
                    unsafeSQL: "INSERT INTO \(postgresTable) (\(inserted)) VALUES \(tuples.joined(separator: ", "))",
                    binds: binds))
            total += rows.count
        }
    }

    /// Binds one SQLite value as the PostgreSQL column's type; a value that does not convert is an
    /// error naming its table and column, never a silent NULL.
    private static func bind(
        _ value: DatabaseValue, as column: Column, into binds: inout PostgresBindings, table: String
    ) throws {
        if value.isNull {
            binds.appendNull()
            return
        }
        func fail() -> TransferError {
            TransferError("\(table).\(column.source) holds \(value), which is not a valid \(column.type)")
        }
        switch column.type {
        case "timestamp with time zone":
            guard let date = Date.fromDatabaseValue(value) else { throw fail() }
            binds.append(date)
        case "bigint":
            guard let number = Int64.fromDatabaseValue(value) else { throw fail() }
            binds.append(number)
        case "integer":
            guard let number = Int64.fromDatabaseValue(value), let small = Int32(exactly: number) else {
                throw fail()
            }
            binds.append(small)
        case "boolean":
            guard let flag = Bool.fromDatabaseValue(value) else { throw fail() }
            binds.append(flag)
        default:
            guard let text = String.fromDatabaseValue(value) else { throw fail() }
            // PostgreSQL's text cannot hold NUL; the store shows it as ␀ everywhere else too.
            binds.append(text.replacingOccurrences(of: "\u{0}", with: "\u{2400}"))
        }
    }
}

/// Why `parley migrate` stopped (nothing was copied).
public struct TransferError: Error, Sendable, CustomStringConvertible {
    public var description: String

    init(_ description: String) { self.description = description }
}
