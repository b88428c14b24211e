import Crypto
import Foundation
import GRDB
import ParleyCore
import Testing

@testable import ParleyStore

func temporaryDirectory() -> String {
    let path = NSTemporaryDirectory() + "parley-test-" + UUID().uuidString
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

@Suite struct SQLiteStoreTests {
    let directory = temporaryDirectory()

    func sample(_ text: String = "deploy api to staging", status: RunStatus = .running) -> RunRecord {
        RunRecord(
            userName: "alice", identity: "local:alice", room: "terminal", text: text, commandID: "deploy",
            arguments: ["app": "api", "env": "staging"], decision: .allowed, reason: "role sre allows *",
            status: status)
    }

    @Test func everyCommitIsSyncedToDisk() async throws {
        let store = try SQLiteStore(dataDirectory: directory)
        // FULL (2): WAL's default NORMAL may lose the last commits in a power cut.
        #expect(try await store.synchronousLevel() == 2)
        _ = try await store.insertRun(sample())
        #expect(try await store.synchronousLevel() == 2)
        let reopened = try SQLiteStore(dataDirectory: directory)
        #expect(try await reopened.synchronousLevel() == 2)
    }

    @Test func aRunsNewStateAndItsAuditEntryAreOneCommit() async throws {
        let store = try SQLiteStore(dataDirectory: directory)
        var run = try await store.insertRun(sample())
        run.status = .succeeded
        run.output = "deployed\n"
        let draft = AuditDraft(kind: .finished, actor: "alice", command: "deploy", outcome: "succeeded", runID: run.id)
        let results = try await store.commitAudit([AuditCommit(drafts: [draft], updatingRun: run)], at: Date())
        let entries = results.first?.entries ?? []
        #expect(entries.count == 1)
        #expect(try await store.run(id: run.id ?? 0)?.status == .succeeded)
        // A run that was never recorded fails the whole commit: no entry without its run.
        var ghost = run
        ghost.id = 9_999
        await #expect(throws: (any Error).self) {
            try await store.commitAudit([AuditCommit(drafts: [draft], updatingRun: ghost)], at: Date())
        }
        #expect(try await store.lastAuditEntry()?.seq == entries.first?.seq)
    }

    @Test func aRecordedRunIsReadBackAfterARestart() async throws {
        var run: RunRecord
        do {
            let store = try SQLiteStore(dataDirectory: directory)
            run = try await store.insertRun(sample())
            run.status = .succeeded
            run.exitCode = 0
            run.output = "api is live\n"
            run.durationMilliseconds = 812
            run.finishedAt = Date()
            try await store.updateRun(run)
        }
        let reopened = try SQLiteStore(dataDirectory: directory)
        let read = try await reopened.requireRun(run.id)
        #expect(read.text == "deploy api to staging")
        #expect(read.arguments == ["app": "api", "env": "staging"])
        #expect(read.status == .succeeded)
        #expect(read.exitCode == 0)
        #expect(read.output == "api is live\n")
        #expect(read.durationMilliseconds == 812)
        #expect(read.userName == "alice")
        #expect(read.reason == "role sre allows *")
    }

    @Test func runsAreNumberedInOrderAndListedNewestFirstWithFilters() async throws {
        let store = try SQLiteStore(dataDirectory: directory)
        let first = try await store.insertRun(sample("one", status: .succeeded))
        var other = sample("two", status: .failed)
        other.userName = "bob"
        let second = try await store.insertRun(other)
        var builtin = sample("help", status: .succeeded)
        builtin.commandID = "help"
        _ = try await store.insertRun(builtin)
        var unknown = sample("nonsense", status: .rejected)
        unknown.commandID = nil
        _ = try await store.insertRun(unknown)
        #expect(try #require(second.id) > (try #require(first.id)))
        #expect(try await store.runs(RunQuery()).map(\.text) == ["nonsense", "help", "two", "one"])
        #expect(try await store.runs(RunQuery(userName: "bob")).map(\.text) == ["two"])
        #expect(try await store.runs(RunQuery(status: .succeeded)).map(\.text) == ["help", "one"])
        #expect(try await store.runs(RunQuery(excludingCommands: ["help"])).map(\.text) == ["nonsense", "two", "one"])
        #expect(try await store.runs(RunQuery(limit: 1)).map(\.text) == ["nonsense"])
    }

    @Test func runsLeftRunningByADeadProcessAreMarkedInterrupted() async throws {
        let id: Int64
        do {
            let store = try SQLiteStore(dataDirectory: directory)
            id = try #require(try await store.insertRun(sample()).id)
            _ = try await store.insertRun(sample("done", status: .succeeded))
        }
        let restarted = try SQLiteStore(dataDirectory: directory)
        let interrupted = try await restarted.interruptUnfinishedRuns(reason: "stopped") { _ in true }
        #expect(interrupted.map(\.id) == [id])
        #expect(try await restarted.run(id: id)?.status == .interrupted)
        #expect(try await restarted.run(id: id)?.reason == "stopped")
        #expect(try await restarted.interruptUnfinishedRuns(reason: "again") { _ in true }.isEmpty)
    }

    @Test func runsOfALiveOwnerAreLeftAlone() async throws {
        let store = try SQLiteStore(dataDirectory: directory)
        var mine = sample("serving")
        mine.owner = "host/1"
        var dead = sample("orphan")
        dead.owner = "host/2"
        _ = try await store.insertRun(mine)
        _ = try await store.insertRun(dead)
        let interrupted = try await store.interruptUnfinishedRuns(reason: "gone") { $0.owner != "host/1" }
        #expect(interrupted.map(\.text) == ["orphan"])
        #expect(try await store.runs(RunQuery(status: .running)).map(\.text) == ["serving"])
    }

    @Test func anEventIsSeenOnceEvenAcrossRestarts() async throws {
        do {
            let store = try SQLiteStore(dataDirectory: directory)
            #expect(try await store.firstSighting(of: "slack:Ev1"))
            #expect(!(try await store.firstSighting(of: "slack:Ev1")))
        }
        let reopened = try SQLiteStore(dataDirectory: directory)
        #expect(!(try await reopened.firstSighting(of: "slack:Ev1")))
        #expect(try await reopened.firstSighting(of: "slack:Ev2"))
    }

    @Test func concurrentFirstSightingsAgreeOnOneWinner() async throws {
        let store = try SQLiteStore(dataDirectory: directory)
        let wins = try await withThrowingTaskGroup(of: Bool.self) { group in
            for _ in 0..<20 { group.addTask { try await store.firstSighting(of: "irc:same") } }
            return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(wins == 1)
    }

    @Test func anUnwritableLocationIsAClearError() {
        #expect {
            _ = try SQLiteStore(path: "/proc/parley/none.sqlite")
        } throws: { error in
            "\(error)".hasPrefix("cannot open the database at /proc/parley/none.sqlite")
        }
    }
}

struct MissingRun: Error {}

extension RunStore {
    /// The run with this id, or a test failure.
    func requireRun(_ id: Int64?) async throws -> RunRecord {
        guard let id, let run = try await run(id: id) else { throw MissingRun() }
        return run
    }
}

/// A long chain is verified in stretches at once; the outcome must be the one a single pass gives.
@Suite struct AuditSegmentTests {
    static let tamperings: [String?] = [
        nil,
        "UPDATE audit SET actor = 'mallory' WHERE seq = 81",  // inside the last stretch
        "DELETE FROM audit WHERE seq = 41",  // the first entry of a stretch
        "DELETE FROM audit WHERE seq = 40",  // the last entry of a stretch
        "DELETE FROM audit WHERE seq BETWEEN 41 AND 80",  // a whole stretch
        "UPDATE audit SET seq = -1 WHERE seq = 40; UPDATE audit SET seq = 40 WHERE seq = 41; "
            + "UPDATE audit SET seq = 41 WHERE seq = -1",  // swapped across the seam
        "UPDATE audit SET detail = 'x' WHERE seq = 10; UPDATE audit SET detail = 'y' WHERE seq = 90",  // first wins
        "UPDATE audit SET previousHash = (SELECT hash FROM audit WHERE seq = 38) WHERE seq = 41",  // relinked
    ]

    @Test(arguments: tamperings)
    func stretchesFindWhatOnePassFinds(tampering: String?) async throws {
        let store = try SQLiteStore(dataDirectory: temporaryDirectory())
        for batch in 0..<4 {
            let drafts = (0..<30).map { index in
                AuditDraft(kind: .received, actor: "user\(batch * 30 + index)", arguments: ["n": "\(index)"])
            }
            _ = try await store.appendAudit(drafts, at: Date())
        }
        if let tampering { try await store.pool.write { db in try db.execute(sql: tampering) } }
        let single = try await store.feedAuditChain(to: AuditVerifier(), segments: 1, minimumLength: 0)
        let split = try await store.feedAuditChain(to: AuditVerifier(), segments: 3, minimumLength: 10)
        #expect(split.problem == single.problem)
        #expect(split.count == single.count)
        #expect(split.lastSeq == single.lastSeq)
        if tampering == nil {
            #expect(single.problem == nil)
            #expect(single.count == 120)
        } else {
            #expect(single.problem != nil, "the tampering was not found")
        }
    }
}

@Suite struct AuditScheduleSegmentTests {
    /// The schedule check needs each stretch's first and last entry; verified in stretches on several
    /// cores, the chain gives the same answer as in one pass.
    @Test(arguments: [nil, "DELETE FROM auditCheckpoint WHERE seq BETWEEN 30 AND 70", "DELETE FROM auditCheckpoint"])
    func scheduleChecksFindInStretchesWhatOnePassFinds(tampering: String?) async throws {
        let store = try SQLiteStore(dataDirectory: temporaryDirectory())
        let key = Curve25519.Signing.PrivateKey()
        let schedule = AuditSchedule(every: 10, intervalSeconds: 60)
        for _ in 0..<12 {
            let drafts = (0..<10).map { AuditDraft(kind: .received, actor: "user\($0)") }
            let head = try #require(try await store.appendAudit(drafts, at: Date()).last)
            try await store.insertCheckpoint(
                try AuditCheckpoint.sign(seq: head.seq, hash: head.hash, key: key, schedule: schedule))
        }
        if let tampering { try await store.pool.write { db in try db.execute(sql: tampering) } }
        let checkpoints = try await store.checkpoints()
        let start = AuditVerifier(fromGenesis: true, checkpointSeqs: Set(checkpoints.map(\.seq)))
        var single = try await store.feedAuditChain(to: start, segments: 1, minimumLength: 0)
        var split = try await store.feedAuditChain(to: start, segments: 3, minimumLength: 10)
        single.finish(checkpoints: checkpoints, publicKey: key.publicKey, tailSchedule: schedule)
        split.finish(checkpoints: checkpoints, publicKey: key.publicKey, tailSchedule: schedule)
        #expect(split.problem == single.problem)
        #expect((single.problem == nil) == (tampering == nil), "\(String(describing: single.problem))")
    }
}

@Suite struct StoredDateTests {
    @Test func writesWhatGRDBWritesAndReadsBack() {
        var generator = SystemRandomNumberGenerator()
        let samples =
            [0, 1, 0.9995, 0.0005, 951_782_400, 1_796_083_199.999, 4_102_444_800.123]
            + (0..<2000).map { _ in Double.random(in: 0..<4_102_444_800, using: &generator) }
        for seconds in samples {
            let date = Date(timeIntervalSince1970: seconds)
            #expect(StoredDate.text(date) == String.fromDatabaseValue(date.databaseValue), "\(seconds)")
        }
    }
}
