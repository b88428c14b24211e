import Foundation
import ParleyConformance
import ParleyCore
import ParleyStore
import Testing

/// `parley migrate`: a team's SQLite history, moved to PostgreSQL, reads back the same through the
/// store, with the chain intact and the ids going on where they stopped.
@Suite(.requires(.postgres)) struct MigrateCommandTests {
    static let t0 = Date(timeIntervalSince1970: 1_900_000_000)

    /// A store with something in every table.
    func populate(_ store: SQLiteStore) async throws {
        for index in 0..<3 {
            let run = RunRecord(
                createdAt: Self.t0.addingTimeInterval(Double(index)), userName: "alice", identity: "slack:U1",
                room: "#ops", text: "deploy api \(index)", commandID: "deploy",
                arguments: ["env": "prod", "n": "\(index)"],
                decision: .allowed, reason: "role sre", status: .running, owner: "old-host/1/x")
            let results = try await store.commitAudit(
                [
                    AuditCommit(
                        drafts: [
                            AuditDraft(kind: .received, actor: "alice", command: "deploy", detail: "deploy \(index)")
                        ],
                        insertingRun: run, eventKey: "slack:Ev\(index)")
                ], at: Self.t0.addingTimeInterval(Double(index)))
            var finished = try #require(results.first?.run)
            finished.status = index == 2 ? .failed : .succeeded
            finished.output = "done \(index)\u{0}"
            finished.exitCode = index
            finished.finishedAt = Self.t0.addingTimeInterval(Double(index) + 0.5)
            _ = try await store.commitAudit(
                [
                    AuditCommit(
                        drafts: [AuditDraft(kind: .finished, actor: "alice", runID: finished.id)], updatingRun: finished
                    )
                ],
                at: Self.t0.addingTimeInterval(Double(index) + 0.5))
        }
        let runID: Int64 = 1
        try await store.setProcessGroup(runID: runID, processGroup: 777, startTime: 123)
        try await store.insertApproval(
            ApprovalRequest(
                id: "g1", kind: .approval, runID: runID, commandID: "deploy", text: "deploy api", commandHash: "h",
                requesterUser: "alice", requesterIdentity: "slack:U1", room: "#ops", platform: "slack",
                required: 1, approverRoles: ["lead"], createdAt: Self.t0, expiresAt: Self.t0.addingTimeInterval(600)))
        _ = try await store.addVote(
            ApprovalVote(approvalID: "g1", voter: "bob", identity: "slack:U2", approve: true, at: Self.t0))
        _ = try await store.settleApproval(
            id: "g1", status: .approved, reason: "bob", at: Self.t0.addingTimeInterval(1))
        try await store.setMetadata("policy", "v1")
        try await store.setPasswordHash("argon-hash", userName: "alice")
        try await store.insertSession(
            SessionRecord(
                tokenHash: "s1", userName: "alice", csrfToken: "c", createdAt: Self.t0,
                expiresAt: Self.t0.addingTimeInterval(3600)))
        try await store.insertToken(
            APITokenRecord(
                id: "tok1", secretHash: "sh", userName: "alice", scopes: ["run"], name: "ci", createdAt: Self.t0))
        _ = try await store.acquireLock(
            LockRecord(name: "deploy:prod", runID: runID, holder: "alice", acquiredAt: Self.t0))
        try await store.saveStep(
            StepRecord(
                runID: runID, path: "1", name: "build", status: .succeeded, attempts: 2, startedAt: Self.t0,
                outputs: ["image": "api:1"]))
        let alert = Alert(source: "alertmanager", status: .firing, labels: ["alertname": "Down"], startsAt: Self.t0)
        _ = try await store.recordAlerts([alert, alert], at: Self.t0)
        try await store.saveAlertMessage(
            AlertMessageRecord(
                fingerprint: alert.fingerprint, room: "#ops", messageRef: "m1", postedAt: Self.t0, count: 2,
                status: .firing))
        _ = try await store.claimScheduledRun(name: "nightly", at: Self.t0, by: "host-a")
        let head = try #require(try await store.lastAuditEntry())
        try await store.insertCheckpoint(
            AuditCheckpoint(seq: head.seq, hash: head.hash, at: head.at, signature: "sig", every: 100))
    }

    @Test func aTeamsHistoryMovesIntoPostgreSQLWhole() async throws {
        let directory = try scratch()
        let path = directory.appendingPathComponent("parley.sqlite").path
        let source = try SQLiteStore(path: path)
        try await populate(source)
        let url = try await TestPostgres.freshDatabase()
        let target = "\(url.redacted)?sslmode=disable"
        let migrate = try await ParleyBinary.run(
            ["migrate", "--from", "sqlite:\(path)", "--to", target], in: directory)
        #expect(migrate.status == 0, "\(migrate.output)\(migrate.error)")
        #expect(migrate.output.contains("run: 3"), "\(migrate.output)")
        #expect(migrate.output.contains("the audit chain of 6 entries verifies"), "\(migrate.output)")

        let store = try await PostgresStore.connect(PostgresSettings(url: url, tls: .disable, pool: 2))
        let wide = RunQuery(limit: 100)
        #expect(try await store.runs(wide) == (try await source.runs(wide)))
        #expect(try await store.run(id: 1)?.processGroup == 777)
        #expect(try await store.run(id: 1)?.output == "done 0\u{2400}")
        #expect(try await store.auditEntries(AuditQuery()) == (try await source.auditEntries(AuditQuery())))
        let chain = try await store.feedAuditChain(to: AuditVerifier(fromGenesis: true))
        #expect(chain.problem == nil && chain.count == 6)
        #expect(try await store.checkpoints() == (try await source.checkpoints()))
        #expect(try await store.approval(id: "g1") == (try await source.approval(id: "g1")))
        #expect(try await store.votes(approvalID: "g1") == (try await source.votes(approvalID: "g1")))
        #expect(try await store.metadata("policy") == "v1")
        #expect(try await store.passwordHash(userName: "alice") == "argon-hash")
        #expect(try await store.session(tokenHash: "s1", now: Self.t0) != nil)
        #expect(try await store.tokens() == (try await source.tokens()))
        #expect(try await store.steps(runID: 1) == (try await source.steps(runID: 1)))
        #expect(try await store.alerts(AlertQuery()) == (try await source.alerts(AlertQuery())))
        #expect(try await store.alertEventCount() == 2)
        let fingerprint = try #require(try await source.alerts(AlertQuery()).first?.fingerprint)
        #expect(
            try await store.alertMessage(fingerprint: fingerprint, room: "#ops")
                == (try await source.alertMessage(fingerprint: fingerprint, room: "#ops")))
        // What was claimed or seen on SQLite stays claimed and seen.
        #expect(try await !store.claimScheduledRun(name: "nightly", at: Self.t0, by: "host-b"))
        #expect(try await !store.firstSighting(of: "slack:Ev1"))
        #expect(
            try await store.acquireLock(LockRecord(name: "deploy:prod", runID: 2, holder: "bob", acquiredAt: Self.t0))?
                .runID == 1)
        // New ids go on after the copied ones.
        let next = try await store.insertRun(
            RunRecord(userName: "bob", identity: "x", room: "r", text: "t", decision: .allowed, status: .running))
        #expect(next.id == 4)
        let alertIDs = try await store.recordAlerts(
            [Alert(source: "grafana", status: .firing, labels: ["alertname": "New"])], at: Self.t0)
        #expect(alertIDs.first?.id == 2)

        // Into a database that holds rows: refused, and nothing changes.
        let again = try await ParleyBinary.run(["migrate", "--from", "sqlite:\(path)", "--to", target], in: directory)
        #expect(again.status == 74)
        #expect(again.error.contains("already holds rows in run, seen_event, audit"), "\(again.error)")
        #expect(try await store.runs(wide).count == 4)
        await store.close()
        try await TestPostgres.drop(url)
    }

    @Test func aMissingSourceOrAWrongTargetIsNamed() async throws {
        let directory = try scratch()
        let missing = try await ParleyBinary.run(
            ["migrate", "--from", "sqlite:nowhere.sqlite", "--to", "postgres://u@127.0.0.1:1/db"], in: directory)
        #expect(missing.status == 74)
        #expect(
            missing.error.contains("there is no SQLite store at \(directory.path)/nowhere.sqlite"), "\(missing.error)")
        let wrong = try await ParleyBinary.run(
            ["migrate", "--from", "sqlite:nowhere.sqlite", "--to", "mysql://u@db/x"], in: directory)
        #expect(wrong.status != 0)
        #expect(wrong.error.contains("--to: storage must be sqlite, sqlite:PATH or postgres://"), "\(wrong.error)")
    }
}
