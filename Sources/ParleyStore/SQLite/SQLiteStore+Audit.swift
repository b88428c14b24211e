import Foundation
import GRDB
import GRDBSQLite
import ParleyCore

extension AuditEntry: FetchableRecord, PersistableRecord {
    public static let databaseTableName = "audit"
}

extension AuditCheckpoint: FetchableRecord, PersistableRecord {
    public static let databaseTableName = "auditCheckpoint"
}

extension SQLiteStore {
    public func commitAudit(_ commits: [AuditCommit], at date: Date) async throws -> [AuditCommitResult] {
        guard !commits.isEmpty else { return [] }
        for commit in commits where commit.updatingRun.map({ $0.id == nil }) == true {
            throw StoreError.unknownRun(nil)
        }
        // Reading the head and appending in one write transaction keeps the chain linear even when
        // two processes share the database. Statements are cached: this runs for every command.
        let dateText = StoredDate.text(date)
        return try await pool.write { db in
            var chain = try AuditChainWriter(db, at: date)
            var results: [AuditCommitResult] = []
            results.reserveCapacity(commits.count)
            for commit in commits {
                if let updating = commit.updatingRun {
                    // A run taken over by another process is not changed, nor told of, by this one.
                    do {
                        try RunRow.checkEpoch(of: updating, db)
                    } catch StoreError.runTakenOver(let id) {
                        results.append(.takenOver(id))
                        continue
                    }
                }
                if let key = commit.eventKey {
                    try db.cachedStatement(sql: "INSERT OR IGNORE INTO seenEvent (key, seenAt) VALUES (?, ?)")
                        .execute(arguments: [key, dateText])
                    guard db.changesCount == 1 else {
                        results.append(.duplicate)
                        continue
                    }
                }
                let alerts = try SQLiteStore.recordAlerts(commit.alerts, at: date, db)
                var run = commit.insertingRun
                if let inserting = run { run = try RunRow.insert(inserting, db) }
                if let key = commit.eventKey, commit.insertingRun != nil, let id = run?.id {
                    try db.cachedStatement(sql: "UPDATE seenEvent SET runID = ? WHERE key = ?")
                        .execute(arguments: [id, key])
                }
                if let updating = commit.updatingRun {
                    try RunRow(updating).update(db)
                    if run == nil { run = updating }
                }
                var entries: [AuditEntry] = []
                entries.reserveCapacity(commit.drafts.count)
                for var draft in commit.drafts {
                    if draft.runID == nil, commit.insertingRun != nil { draft.runID = run?.id }
                    entries.append(try chain.append(draft))
                }
                results.append(AuditCommitResult(entries: entries, run: run, alerts: alerts))
            }
            return results
        }
    }

    public func auditEntries(_ query: AuditQuery) async throws -> [AuditEntry] {
        try await pool.read { db in
            var request = AuditEntry.all()
            if let actor = query.actor { request = request.filter(Column("actor") == actor) }
            if let command = query.command { request = request.filter(Column("command") == command) }
            if let kind = query.kind { request = request.filter(Column("kind") == kind) }
            if let runID = query.runID { request = request.filter(Column("runID") == runID) }
            if let room = query.room { request = request.filter(Column("room") == room) }
            if let since = query.since { request = request.filter(Column("at") >= AuditClock.format(since)) }
            if let until = query.until { request = request.filter(Column("at") < AuditClock.format(until)) }
            if let after = query.afterSeq { request = request.filter(Column("seq") > after) }
            if let through = query.throughSeq { request = request.filter(Column("seq") <= through) }
            request = request.order(query.newestFirst ? Column("seq").desc : Column("seq").asc)
            return try request.limit(max(0, query.limit)).fetchAll(db)
        }
    }

    /// Reads the chain straight from SQLite's row buffers: no row is decoded into strings. A long
    /// chain is cut into one stretch per core, each read and hashed on its own reader connection at
    /// the same time, then the stretches are joined (each entry's hash depends only on stored values).
    public func feedAuditChain(to verifier: AuditVerifier) async throws -> AuditVerifier {
        try await feedAuditChain(
            to: verifier, segments: min(4, ProcessInfo.processInfo.activeProcessorCount), minimumLength: 200_000)
    }

    /// `feedAuditChain(to:)` with `segments` stretches once the chain spans `minimumLength` entries.
    func feedAuditChain(to verifier: AuditVerifier, segments: Int, minimumLength: Int64) async throws
        -> AuditVerifier
    {
        let (low, high) = try await pool.read { db -> (Int64, Int64) in
            try Self.requireTable("audit", db)
            let row = try Row.fetchOne(db, sql: "SELECT min(seq), max(seq) FROM audit")
            return (row?[0] ?? 0, row?[1] ?? 0)
        }
        let parts = Int64(max(1, segments))
        guard high - low >= minimumLength, parts > 1 else {
            return try await feedAuditChain(to: verifier, seqs: Int64.min...Int64.max)
        }
        let size = (high - low + parts) / parts
        var bounds: [ClosedRange<Int64>] = []
        for part in 0..<parts {
            let start = part == 0 ? Int64.min : low + part * size
            let end = part == parts - 1 ? Int64.max : low + (part + 1) * size - 1
            bounds.append(start...end)
        }
        let segments = try await withThrowingTaskGroup(of: (Int, AuditVerifier).self) { group in
            for (index, range) in bounds.enumerated() {
                let segment = index == 0 ? verifier : verifier.segment()
                group.addTask { (index, try await self.feedAuditChain(to: segment, seqs: range)) }
            }
            return try await group.reduce(into: [:]) { $0[$1.0] = $1.1 }
        }
        guard var joined = segments[0] else { return verifier }
        for index in 1..<bounds.count { if let later = segments[index] { joined.join(later) } }
        return joined
    }

    /// Feeds rows to the verifier straight from SQLite's buffers, not through GRDB rows and strings.
    /// Measured (bench/RESULTS.md, 0703631 → af92db8): this and the per-core segments took `audit verify`
    /// from 177 k to 1.28 M entries/s (target ≥ 1 M). `AuditRawReaderTests` holds it to the GRDB path.
    private func feedAuditChain(to verifier: AuditVerifier, seqs: ClosedRange<Int64>) async throws -> AuditVerifier {
        try await pool.read { db in
            var verifier = verifier
            let statement = try db.makeStatement(
                sql: """
                    SELECT seq, runID, at, kind, actor, identity, room, command, arguments, decision, outcome, detail, \
                    previousHash, hash FROM audit WHERE seq BETWEEN ? AND ? ORDER BY seq
                    """)
            try statement.setArguments([seqs.lowerBound, seqs.upperBound])
            let sqlite = statement.sqliteStatement
            defer { sqlite3_reset(sqlite) }
            func text(_ column: Int32) -> UnsafeRawBufferPointer {
                guard let bytes = sqlite3_column_text(sqlite, column) else {
                    return UnsafeRawBufferPointer(start: nil, count: 0)
                }
                return UnsafeRawBufferPointer(start: bytes, count: Int(sqlite3_column_bytes(sqlite, column)))
            }
            let empty = UnsafeRawBufferPointer(start: nil, count: 0)
            var entry = AuditRawEntry(
                seq: 0, runID: nil, texts: Array(repeating: empty, count: 10), previousHash: empty, hash: empty)
            while true {
                let code = sqlite3_step(sqlite)
                if code == SQLITE_DONE { break }
                guard code == SQLITE_ROW else {
                    throw DatabaseError(resultCode: ResultCode(rawValue: code), message: db.lastErrorMessage)
                }
                entry.seq = sqlite3_column_int64(sqlite, 0)
                entry.runID = sqlite3_column_type(sqlite, 1) == SQLITE_NULL ? nil : sqlite3_column_int64(sqlite, 1)
                for index in 0..<10 { entry.texts[index] = text(Int32(index + 2)) }
                entry.previousHash = text(12)
                entry.hash = text(13)
                guard verifier.feed(raw: entry) else { break }
            }
            return verifier
        }
    }

    public func lastAuditEntry() async throws -> AuditEntry? {
        try await pool.read { db in try AuditEntry.order(Column("seq").desc).fetchOne(db) }
    }

    public func insertCheckpoint(_ checkpoint: AuditCheckpoint) async throws {
        try await pool.write { db in try checkpoint.save(db) }
    }

    public func checkpoints() async throws -> [AuditCheckpoint] {
        try await pool.read { db in
            try Self.requireTable(AuditCheckpoint.databaseTableName, db)
            return try AuditCheckpoint.order(Column("seq")).fetchAll(db)
        }
    }

    public func lastCheckpoint() async throws -> AuditCheckpoint? {
        try await pool.read { db in try AuditCheckpoint.order(Column("seq").desc).fetchOne(db) }
    }

    public func auditEntry(seq: Int64) async throws -> AuditEntry? {
        try await pool.read { db in try AuditEntry.fetchOne(db, key: seq) }
    }

    /// A table of the audit log that someone dropped is reported as such, not as an SQL error.
    static func requireTable(_ name: String, _ db: Database) throws {
        guard try db.tableExists(name) else { throw StoreError.missingTable(name) }
    }
}

/// Appends entries after the chain's head inside one write transaction.
struct AuditChainWriter {
    private let db: Database
    private let at: String
    private var seq: Int64
    private var previous: String

    init(_ db: Database, at date: Date) throws {
        self.db = db
        at = AuditClock.format(date)
        let head = try Row.fetchOne(
            db.cachedStatement(sql: "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1"))
        seq = head?[0] ?? 0
        previous = head?[1] ?? AuditEntry.genesisHash
    }

    mutating func append(_ draft: AuditDraft) throws -> AuditEntry {
        seq += 1
        let entry = AuditEntry.make(draft, seq: seq, at: at, previousHash: previous)
        try db.cachedStatement(
            sql: """
                INSERT INTO audit (seq, at, kind, actor, identity, room, command, arguments, decision, outcome, \
                runID, detail, previousHash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """
        ).execute(arguments: [
            entry.seq, entry.at, entry.kind, entry.actor, entry.identity, entry.room, entry.command, entry.arguments,
            entry.decision, entry.outcome, entry.runID, entry.detail, entry.previousHash, entry.hash,
        ])
        previous = entry.hash
        return entry
    }
}
