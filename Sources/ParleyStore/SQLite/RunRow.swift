import Foundation
import GRDB
import ParleyCore

/// A run as a row of the `run` table.
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

    init(_ run: RunRecord) {
        owner = run.owner
        processGroup = run.processGroup
        processStartTime = run.processStartTime
        id = run.id
        createdAt = run.createdAt
        finishedAt = run.finishedAt
        userName = run.userName
        identity = run.identity
        room = run.room
        thread = run.thread
        text = run.text
        commandID = run.commandID
        arguments = run.arguments
        decision = run.decision.rawValue
        reason = run.reason
        status = run.status.rawValue
        exitCode = run.exitCode
        durationMilliseconds = run.durationMilliseconds
        output = run.output
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
        return record
    }

    mutating func didInsert(_ inserted: InsertionSuccess) {
        id = inserted.rowID
    }

    private static let columns = """
        createdAt, finishedAt, userName, identity, room, thread, text, commandID, arguments, decision, reason, \
        status, exitCode, durationMilliseconds, output, outputTruncated, owner, processGroup, \
        processStartTime
        """

    /// The columns' values in `columns`' order (hand-written: this runs for every command).
    private static func values(_ run: RunRecord) -> StatementArguments {
        [
            StoredDate.text(run.createdAt), StoredDate.text(run.finishedAt), run.userName, run.identity, run.room,
            run.thread, run.text, run.commandID,
            AuditEntry.canonicalJSON(run.arguments), run.decision.rawValue, run.reason, run.status.rawValue,
            run.exitCode, run.durationMilliseconds, run.output, run.outputTruncated, run.owner, run.processGroup,
            run.processStartTime,
        ]
    }

    /// Records a new run with a cached statement and returns it with its id.
    static func insert(_ run: RunRecord, _ db: Database) throws -> RunRecord {
        try db.cachedStatement(
            sql: "INSERT INTO run (\(columns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        ).execute(arguments: values(run))
        var inserted = run
        inserted.id = db.lastInsertedRowID
        return inserted
    }

    /// Replaces a recorded run's state; throws when there is no such run.
    static func update(_ run: RunRecord, _ db: Database) throws {
        guard let id = run.id else { throw StoreError.unknownRun(nil) }
        try db.cachedStatement(
            sql: """
                UPDATE run SET (\(columns)) = (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) WHERE id = ?
                """
        ).execute(arguments: values(run) + [id])
        guard db.changesCount == 1 else { throw StoreError.unknownRun(id) }
    }
}
