import Foundation
import GRDB
import ParleyCore

/// A run as a row of the `run` table.
/// One stored property per column of `run`, as GRDB's record types want.
struct RunRow: Codable, FetchableRecord, MutablePersistableRecord {
    static let databaseTableName = "run"

    var id: Int64?
    var createdAt: Date
    var finishedAt: Date?
    var userName: String?
    var identity: String
    var room: String
    var thread: String?
    var text: String
    var commandID: String?
    var arguments: [String: String]
    var decision: String
    var reason: String
    var status: String
    var exitCode: Int?
    var durationMilliseconds: Int?
    var output: String
    var outputTruncated: Bool
    var owner: String?
    var processGroup: Int32?
    var processStartTime: Int64?
    var epoch: Int64

    /// The row for a run; texts as the database can keep them (`StoredText`: a program's output
    /// may hold NUL bytes).
    init(_ run: RunRecord) {
        owner = run.owner
        processGroup = run.processGroup
        processStartTime = run.processStartTime
        epoch = run.epoch
        id = run.id
        createdAt = run.createdAt
        finishedAt = run.finishedAt
        userName = run.userName.map(StoredText.clean)
        identity = StoredText.clean(run.identity)
        room = StoredText.clean(run.room)
        thread = run.thread.map(StoredText.clean)
        text = StoredText.clean(run.text)
        commandID = run.commandID
        arguments = run.arguments
        decision = run.decision.rawValue
        reason = StoredText.clean(run.reason)
        status = run.status.rawValue
        exitCode = run.exitCode
        durationMilliseconds = run.durationMilliseconds
        output = StoredText.clean(run.output)
        outputTruncated = run.outputTruncated
    }

    var record: RunRecord {
        var record = RunRecord(
            id: id, createdAt: createdAt, finishedAt: finishedAt, userName: userName, identity: identity, room: room,
            thread: thread, text: text, commandID: commandID, arguments: arguments,
            decision: RunDecision(rawValue: decision) ?? .invalid, reason: reason,
            status: RunStatus(rawValue: status) ?? .interrupted, exitCode: exitCode,
            durationMilliseconds: durationMilliseconds, output: output, outputTruncated: outputTruncated, owner: owner)
        record.processGroup = processGroup
        record.processStartTime = processStartTime
        record.epoch = epoch
        return record
    }

    mutating func didInsert(_ inserted: InsertionSuccess) {
        id = inserted.rowID
    }

    /// Records a new run and returns it with its id.
    static func insert(_ run: RunRecord, _ db: Database) throws -> RunRecord {
        var row = RunRow(run)
        try row.insert(db)
        var inserted = run
        inserted.id = row.id
        return inserted
    }

    /// Replaces a recorded run's state while its stored epoch is still the record's; throws when
    /// there is no such run, or when another process took it over (`StoreError.runTakenOver`).
    static func update(_ run: RunRecord, _ db: Database) throws {
        try checkEpoch(of: run, db)
        try RunRow(run).update(db)
    }

    /// Throws unless the run is recorded with the record's epoch (inside the write transaction, so
    /// nothing can change it between this look and the update).
    static func checkEpoch(of run: RunRecord, _ db: Database) throws {
        guard let id = run.id else { throw StoreError.unknownRun(nil) }
        let stored = try db.cachedStatement(sql: "SELECT epoch FROM run WHERE id = ?")
        guard let epoch = try Int64.fetchOne(stored, arguments: [id]) else { throw StoreError.unknownRun(id) }
        guard epoch == run.epoch else { throw StoreError.runTakenOver(id) }
    }
}
