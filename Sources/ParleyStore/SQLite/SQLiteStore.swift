import Foundation
import GRDB
import Synchronization

/// The embedded store: one SQLite file in the data directory, in WAL mode, synced on every commit.
public final class SQLiteStore: ParleyStorage {
    let pool: DatabasePool
    /// The database file.
    public let path: String
    private let commitCounter = CommitCounter()

    /// Write transactions committed through this store (each one a sync of the log to disk).
    public var commits: Int { commitCounter.count.load(ordering: .relaxed) }

    /// Opens (creating if needed) the database at `path` and applies pending migrations.
    public init(path: String) throws {
        self.path = path
        do {
            try Self.prepareFiles(path)
            var configuration = Configuration()
            configuration.busyMode = .timeout(10)
            pool = try DatabasePool(path: path, configuration: configuration)
            // A recorded run or audit entry must survive a power cut, not only a crash: every commit is
            // synced. (Set on the writer after the pool opens: GRDB's WAL set-up sets NORMAL, which
            // would override a value set while preparing the connection.)
            try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
            try SQLiteMigrations.migrator.migrate(pool)
            pool.add(transactionObserver: commitCounter, extent: .databaseLifetime)
        } catch {
            throw StoreError.cannotOpen(path: path, reason: "\(error)")
        }
    }

    /// Creates the data directory readable by this user only (0700) and the database file as 0600
    /// before SQLite opens it (SQLite gives its -wal and -shm files the database file's mode); an
    /// existing database from before is narrowed to 0600 too. The database holds sessions, token
    /// hashes and the audit log: nobody else on the machine should read it.
    static func prepareFiles(_ path: String) throws {
        let manager = FileManager.default
        let directory = (path as NSString).deletingLastPathComponent
        if !manager.fileExists(atPath: directory) {
            try manager.createDirectory(
                atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        }
        if !manager.fileExists(atPath: path) {
            guard manager.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600]) else {
                throw StoreError.cannotOpen(path: path, reason: "cannot create the file")
            }
        }
        for file in [path, path + "-wal", path + "-shm"] where manager.fileExists(atPath: file) {
            try? manager.setAttributes([.posixPermissions: 0o600], ofItemAtPath: file)
        }
    }

    /// The writer's `PRAGMA synchronous` level (2 is FULL: every commit reaches the disk).
    public func synchronousLevel() async throws -> Int {
        try await pool.writeWithoutTransaction { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? -1 }
    }

    /// Opens the store in a data directory (`parley.sqlite` inside it).
    public convenience init(dataDirectory: String) throws {
        try self.init(path: (dataDirectory as NSString).appendingPathComponent("parley.sqlite"))
    }

    public func insertRun(_ run: RunRecord) async throws -> RunRecord {
        try await pool.write { db in try RunRow.insert(run, db) }
    }

    public func updateRun(_ run: RunRecord) async throws {
        guard run.id != nil else { throw StoreError.unknownRun(nil) }
        try await pool.write { db in try RunRow.update(run, db) }
    }

    public func run(id: Int64) async throws -> RunRecord? {
        try await pool.read { db in try RunRow.fetchOne(db, key: id)?.record }
    }

    public func runs(_ query: RunQuery) async throws -> [RunRecord] {
        try await pool.read { db in
            var request = RunRow.all()
            if let user = query.userName { request = request.filter(Column("userName") == user) }
            if let command = query.commandID { request = request.filter(Column("commandID") == command) }
            if let status = query.status { request = request.filter(Column("status") == status.rawValue) }
            if !query.excludingCommands.isEmpty {
                request = request.filter(
                    Column("commandID") == nil || !query.excludingCommands.contains(Column("commandID")))
            }
            return try request.order(Column("id").desc).limit(max(0, query.limit)).fetchAll(db).map(\.record)
        }
    }

    public func interruptUnfinishedRuns(reason: String, isAbandoned: @escaping @Sendable (RunRecord) -> Bool)
        async throws
        -> [RunRecord]
    {
        try await pool.write { db in
            let rows = try RunRow.filter(Column("status") == RunStatus.running.rawValue).fetchAll(db)
            var interrupted: [RunRecord] = []
            for var row in rows where isAbandoned(row.record) {
                row.epoch += 1
                row.status = RunStatus.interrupted.rawValue
                row.finishedAt = Date()
                row.reason = reason
                try row.update(db)
                interrupted.append(row.record)
            }
            return interrupted
        }
    }

    public func setProcessGroup(runID: Int64, processGroup: Int32, startTime: Int64?) async throws {
        // Not synced: the note only matters if Parley dies while the program runs, and a power cut
        // that could lose it stops the program too. The next synced commit makes it durable anyway.
        try await pool.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
            defer { try? db.execute(sql: "PRAGMA synchronous = FULL") }
            try db.inTransaction {
                try db.cachedStatement(sql: "UPDATE run SET processGroup = ?, processStartTime = ? WHERE id = ?")
                    .execute(arguments: [processGroup, startTime, runID])
                return .commit
            }
        }
    }

    public func abandonedRuns(isAlive: @Sendable (String) -> Bool) async throws -> [RunRecord] {
        try await pool.read { db in
            try RunRow.filter(Column("status") == RunStatus.running.rawValue).fetchAll(db)
                .filter { !($0.owner.map(isAlive) ?? false) }.map(\.record)
        }
    }

    public func firstSighting(of key: String) async throws -> Bool {
        try await pool.write { db in
            try db.execute(
                sql: "INSERT OR IGNORE INTO seenEvent (key, seenAt) VALUES (?, ?)", arguments: [key, Date()])
            return db.changesCount == 1
        }
    }

    public func sighting(of key: String) async throws -> EventSighting? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT seenAt, runID FROM seenEvent WHERE key = ?", arguments: [key]).map {
                EventSighting(seenAt: $0["seenAt"], runID: $0["runID"])
            }
        }
    }
}

/// Counts commits, for metrics and for tests that hold the engine to its number of syncs.
private final class CommitCounter: TransactionObserver, Sendable {
    let count = Atomic<Int>(0)

    func observes(eventsOfKind eventKind: DatabaseEventKind) -> Bool { false }
    func databaseDidChange(with event: DatabaseEvent) {}
    func databaseDidCommit(_ db: Database) { count.add(1, ordering: .relaxed) }
    func databaseDidRollback(_ db: Database) {}
}
