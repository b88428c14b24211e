import Foundation
import ParleyCore
import Testing

@testable import ParleyStore

/// One behaviour every store must show; `open` gives a new handle on the same, empty database (two
/// calls are two replicas sharing it).
struct StoreCheck: Sendable, CustomTestStringConvertible {
    typealias Open = @Sendable () async throws -> any ParleyStorage
    let name: String
    let body: @Sendable (Open) async throws -> Void

    var testDescription: String { name }
}

/// What both stores are held to, check by check: SQLite and PostgreSQL run the same list.
enum StoreConformance {
    /// Whole seconds, so that both stores keep them exactly (SQLite keeps milliseconds, PostgreSQL
    /// microseconds); in the future, as stores sweep expired sessions against the real clock.
    static let t0 = Date(timeIntervalSince1970: 1_900_000_000)

    static func at(_ seconds: Int) -> Date { t0.addingTimeInterval(TimeInterval(seconds)) }

    static func run(
        _ text: String, user: String = "alice", command: String? = "deploy", status: RunStatus = .running,
        owner: String? = nil, at seconds: Int = 0
    ) -> RunRecord {
        RunRecord(
            createdAt: at(seconds), userName: user, identity: "slack:U1", room: "#ops", text: text,
            commandID: command, arguments: ["env": "prod"], decision: .allowed, reason: "role sre", status: status,
            owner: owner)
    }

    static func gate(_ id: String, runID: Int64, at seconds: Int) -> ApprovalRequest {
        ApprovalRequest(
            id: id, kind: .approval, runID: runID, commandID: "deploy", text: "deploy api", commandHash: "h-\(id)",
            requesterUser: "alice", requesterIdentity: "slack:U1", room: "#ops", platform: "slack", thread: "t1",
            required: 2, approverRoles: ["sre", "lead"], thenApprovals: 1, createdAt: at(seconds),
            expiresAt: at(seconds + 600), step: 3)
    }

    static let checks: [StoreCheck] = [
        StoreCheck(name: "a run reads back as written, every field") { open in
            let store = try await open()
            var written = run("deploy api to prod")
            written.thread = "1700.1"
            written.arguments = ["app": "api", "env": "prod", "note": "ünïcode ✓ 'quoted'"]
            written = try await store.insertRun(written)
            let id = try #require(written.id)
            written.status = .failed
            written.exitCode = -9
            written.durationMilliseconds = 1_234
            written.output = "line one\nline two\u{0}after nul"
            written.outputTruncated = true
            written.finishedAt = at(7)
            written.owner = "replica-a:42"
            try await store.updateRun(written)
            try await store.setProcessGroup(runID: id, processGroup: 4_242, startTime: 987_654_321)
            written.processGroup = 4_242
            written.processStartTime = 987_654_321
            let other = try await open()
            let read = try await other.run(id: id)
            // A NUL byte (PostgreSQL's text cannot hold one) is kept visible, on both stores alike.
            written.output = "line one\nline two\u{2400}after nul"
            #expect(read == written)
            #expect(try await other.run(id: id + 100) == nil)
        },
        StoreCheck(name: "runs are numbered in order and filtered newest first") { open in
            let store = try await open()
            let one = try await store.insertRun(run("one", status: .succeeded))
            let two = try await store.insertRun(run("two", user: "bob", command: "status", status: .failed))
            let three = try await store.insertRun(run("three", command: nil, status: .rejected))
            let ids = [one, two, three].compactMap(\.id)
            #expect(ids.count == 3 && ids == ids.sorted())
            #expect(try await store.runs(RunQuery()).map(\.text) == ["three", "two", "one"])
            #expect(try await store.runs(RunQuery(limit: 1)).map(\.text) == ["three"])
            #expect(try await store.runs(RunQuery(userName: "bob")).map(\.text) == ["two"])
            #expect(try await store.runs(RunQuery(commandID: "deploy")).map(\.text) == ["one"])
            #expect(try await store.runs(RunQuery(status: .rejected)).map(\.text) == ["three"])
            #expect(try await store.runs(RunQuery(excludingCommands: ["status"])).map(\.text) == ["three", "one"])
        },
        StoreCheck(name: "updating a run that was never recorded fails") { open in
            let store = try await open()
            var ghost = run("ghost")
            ghost.id = 77
            await #expect(throws: (any Error).self) { try await store.updateRun(ghost) }
            #expect(try await store.run(id: 77) == nil)
        },
        StoreCheck(name: "only the abandoned running runs are interrupted") { open in
            let store = try await open()
            let mine = try await store.insertRun(run("mine", owner: "live"))
            let dead = try await store.insertRun(run("dead", owner: "gone"))
            let done = try await store.insertRun(run("done", status: .succeeded, owner: "gone"))
            let orphan = try await store.insertRun(run("orphan", owner: nil))
            let abandoned = try await store.abandonedRuns { $0 == "live" }
            #expect(Set(abandoned.compactMap(\.id)) == Set([dead.id, orphan.id].compactMap { $0 }))
            let interrupted = try await store.interruptUnfinishedRuns(reason: "process restarted") {
                $0.owner == "gone"
            }
            #expect(interrupted.map(\.id) == [dead.id])
            let read = try #require(try await store.run(id: dead.id ?? 0))
            #expect(read.status == .interrupted)
            #expect(read.reason == "process restarted")
            #expect(read.finishedAt != nil)
            #expect(try await store.run(id: mine.id ?? 0)?.status == .running)
            #expect(try await store.run(id: done.id ?? 0)?.status == .succeeded)
            #expect(try await store.run(id: orphan.id ?? 0)?.status == .running)
        },
        StoreCheck(name: "an event is new once, whichever replica sees it again") { open in
            let first = try await open()
            let second = try await open()
            #expect(try await first.firstSighting(of: "slack:Ev1"))
            #expect(try await !first.firstSighting(of: "slack:Ev1"))
            #expect(try await !second.firstSighting(of: "slack:Ev1"))
            #expect(try await second.firstSighting(of: "slack:Ev2"))
            let racers = try await withThrowingTaskGroup(of: Bool.self) { group in
                for store in [first, second, first, second] {
                    group.addTask { try await store.firstSighting(of: "slack:race") }
                }
                return try await group.reduce(into: 0) { $0 += $1 ? 1 : 0 }
            }
            #expect(racers == 1)
        },
        StoreCheck(name: "two replicas committing the same events in opposite orders each record every event once") {
            open in
            // A platform redelivering a burst to two replicas: each batches the same event keys in
            // another order. Their rows are taken before the chain's lock, so on PostgreSQL the two
            // transactions can deadlock; the one rolled back is tried again and finds the events seen.
            let stores = [try await open(), try await open()]
            let keys = (0..<6).map { "slack:burst-\($0)" }
            func batch(_ keys: [String], _ who: String) -> [AuditCommit] {
                keys.map {
                    AuditCommit(drafts: [AuditDraft(kind: .received, actor: who, detail: $0)], eventKey: $0)
                }
            }
            let results = try await withThrowingTaskGroup(of: [AuditCommitResult].self) { group in
                group.addTask { try await stores[0].commitAudit(batch(keys, "a"), at: at(1)) }
                group.addTask { try await stores[1].commitAudit(batch(keys.reversed(), "b"), at: at(1)) }
                return try await group.reduce(into: []) { $0 += $1 }
            }
            #expect(results.filter { !$0.isDuplicate }.count == keys.count, "each event recorded once")
            #expect(results.filter(\.isDuplicate).count == keys.count)
            let entries = try await stores[0].auditEntries(AuditQuery(limit: 100))
            #expect(Set(entries.map(\.detail)) == Set(keys) && entries.count == keys.count)
            #expect(try await stores[1].feedAuditChain(to: AuditVerifier(fromGenesis: true)).problem == nil)
        },
        StoreCheck(name: "replicas appending at once make one unbroken chain") { open in
            let stores = [try await open(), try await open()]
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (index, store) in stores.enumerated() {
                    group.addTask {
                        for step in 0..<15 {
                            _ = try await store.appendAudit(
                                [
                                    AuditDraft(kind: .received, actor: "r\(index)", detail: "\(step)a"),
                                    AuditDraft(kind: .finished, actor: "r\(index)", detail: "\(step)b"),
                                ], at: at(step))
                        }
                    }
                }
                try await group.waitForAll()
            }
            let verified = try await stores[0].feedAuditChain(to: AuditVerifier(fromGenesis: true))
            #expect(verified.problem == nil)
            #expect(verified.count == 60)
            let entries = try await stores[1].auditEntries(AuditQuery(limit: 100))
            #expect(entries.map(\.seq) == Array(1...60))
            // Each replica's pair landed together, in order.
            for pair in stride(from: 0, to: entries.count, by: 2) {
                #expect(entries[pair].actor == entries[pair + 1].actor)
                #expect(entries[pair + 1].detail == String(entries[pair].detail.dropLast()) + "b")
            }
            #expect(try await stores[1].lastAuditEntry()?.seq == 60)
        },
        StoreCheck(name: "a commit writes its run and entries together, once per event key") { open in
            let store = try await open()
            let draft = AuditDraft(kind: .received, actor: "alice", command: "deploy", detail: "deploy api")
            let results = try await store.commitAudit(
                [
                    AuditCommit(drafts: [draft, draft], insertingRun: run("deploy api"), eventKey: "ev-1"),
                    AuditCommit(drafts: [AuditDraft(kind: .denied, actor: "eve")], eventKey: "ev-2"),
                ], at: at(1))
            let runID = try #require(results[0].run?.id)
            #expect(results[0].entries.map(\.runID) == [runID, runID])
            #expect(results[1].entries.map(\.seq) == [3])
            #expect(!results[0].isDuplicate)
            let again = try await store.commitAudit(
                [
                    AuditCommit(drafts: [draft], insertingRun: run("deploy api"), eventKey: "ev-1"),
                    AuditCommit(drafts: [AuditDraft(kind: .received, actor: "bob")], eventKey: "ev-3"),
                ], at: at(2))
            #expect(again[0].isDuplicate && again[0].entries.isEmpty && again[0].run == nil)
            #expect(again[1].entries.map(\.seq) == [4])
            #expect(try await store.runs(RunQuery()).count == 1)
            // The key remembers the run its message made (a retried API request is told of it).
            #expect(try await store.sighting(of: "ev-1")?.runID == runID)
            #expect(try await store.sighting(of: "ev-1")?.seenAt == at(1))
            let runless = try #require(try await store.sighting(of: "ev-2"))
            #expect(runless.runID == nil)
            #expect(try await store.sighting(of: "ev-never") == nil)
            var finished = try #require(results[0].run)
            finished.status = .succeeded
            let update = try await store.commitAudit(
                [
                    AuditCommit(
                        drafts: [AuditDraft(kind: .finished, actor: "alice", runID: runID)], updatingRun: finished)
                ],
                at: at(3))
            #expect(update[0].run?.status == .succeeded)
            #expect(try await store.run(id: runID)?.status == .succeeded)
        },
        StoreCheck(name: "a failing commit writes nothing at all") { open in
            let store = try await open()
            _ = try await store.appendAudit([AuditDraft(kind: .received, actor: "alice")], at: at(0))
            var ghost = run("ghost")
            ghost.id = 999
            await #expect(throws: (any Error).self) {
                try await store.commitAudit(
                    [
                        AuditCommit(drafts: [AuditDraft(kind: .received, actor: "bob")], eventKey: "ev-ok"),
                        AuditCommit(drafts: [AuditDraft(kind: .finished, actor: "alice")], updatingRun: ghost),
                    ], at: at(1))
            }
            #expect(try await store.lastAuditEntry()?.seq == 1)
            #expect(try await store.firstSighting(of: "ev-ok"))
        },
        StoreCheck(name: "audit entries are found by every filter") { open in
            let store = try await open()
            let insertedRun = try await store.insertRun(run("deploy"))
            let runID = try #require(insertedRun.id)
            let written = try await store.appendAudit(
                [
                    AuditDraft(
                        kind: .received, actor: "alice", identity: "slack:U1", room: "#ops", command: "deploy",
                        arguments: ["env": "prod"], decision: "allowed", outcome: "", runID: runID, detail: "deploy"),
                    AuditDraft(kind: .denied, actor: "eve", command: "drop-db", decision: "denied"),
                ], at: at(10))
            _ = try await store.appendAudit(
                [AuditDraft(kind: .finished, actor: "alice", command: "deploy", outcome: "succeeded", runID: runID)],
                at: at(20))
            let all = try await store.auditEntries(AuditQuery())
            #expect(all.map(\.seq) == [1, 2, 3])
            #expect(all[0] == written[0])
            #expect(try await store.auditEntries(AuditQuery(actor: "alice")).map(\.seq) == [1, 3])
            #expect(try await store.auditEntries(AuditQuery(command: "drop-db")).map(\.seq) == [2])
            #expect(try await store.auditEntries(AuditQuery(kind: "finished")).map(\.seq) == [3])
            #expect(try await store.auditEntries(AuditQuery(runID: runID)).map(\.seq) == [1, 3])
            #expect(try await store.auditEntries(AuditQuery(since: at(15))).map(\.seq) == [3])
            #expect(try await store.auditEntries(AuditQuery(until: at(15))).map(\.seq) == [1, 2])
            #expect(try await store.auditEntries(AuditQuery(afterSeq: 1)).map(\.seq) == [2, 3])
            #expect(try await store.auditEntries(AuditQuery(limit: 2, newestFirst: true)).map(\.seq) == [3, 2])
            #expect(try await store.auditEntry(seq: 2)?.actor == "eve")
            #expect(try await store.auditEntry(seq: 9) == nil)
            #expect(try await store.lastAuditEntry()?.seq == 3)
        },
        StoreCheck(name: "checkpoints are kept in order") { open in
            let store = try await open()
            #expect(try await store.lastCheckpoint() == nil)
            let first = AuditCheckpoint(seq: 10, hash: "aa", at: "2026-12-02T10:00:00Z", signature: "s1", every: 10)
            let second = AuditCheckpoint(
                seq: 20, hash: "bb", at: "2026-12-02T11:00:00Z", signature: "s2", intervalSeconds: 3_600)
            try await store.insertCheckpoint(first)
            try await store.insertCheckpoint(second)
            #expect(try await open().checkpoints() == [first, second])
            #expect(try await store.lastCheckpoint() == second)
        },
        StoreCheck(name: "an approval is settled once, votes counted once per voter") { open in
            let store = try await open()
            let runID = try #require(try await store.insertRun(run("deploy")).id)
            let request = gate("g1", runID: runID, at: 0)
            try await store.insertApproval(request)
            try await store.insertApproval(gate("g2", runID: runID, at: 5))
            #expect(try await store.approval(id: "g1") == request)
            #expect(try await store.approval(id: "nope") == nil)
            #expect(try await store.pendingApprovals().map(\.id) == ["g1", "g2"])
            let vote = ApprovalVote(
                approvalID: "g1", voter: "bob", identity: "slack:U2", approve: true, reason: "lgtm", at: at(1))
            #expect(try await store.addVote(vote))
            #expect(try await !store.addVote(vote))
            let carol = ApprovalVote(approvalID: "g1", voter: "carol", identity: "slack:U3", approve: false, at: at(2))
            #expect(try await store.addVote(carol))
            #expect(try await store.votes(approvalID: "g1") == [vote, carol])
            let second = try await open()
            let winners = try await withThrowingTaskGroup(of: Bool.self) { group in
                for (index, handle) in [store, second].enumerated() {
                    group.addTask {
                        try await handle.settleApproval(id: "g1", status: .approved, reason: "by \(index)", at: at(3))
                    }
                }
                return try await group.reduce(into: 0) { $0 += $1 ? 1 : 0 }
            }
            #expect(winners == 1)
            #expect(try await store.approval(id: "g1")?.status == .approved)
            #expect(try await store.approval(id: "g1")?.decidedAt == at(3))
            #expect(try await store.pendingApprovals().map(\.id) == ["g2"])
            #expect(try await store.settleApproval(id: "g2", status: .expired, reason: "timed out", at: at(9)))
            #expect(try await store.decidedApprovals(limit: 10).map(\.id) == ["g2", "g1"])
            #expect(try await store.decidedApprovals(limit: 1).map(\.id) == ["g2"])
        },
        StoreCheck(name: "approving releases the waiting run to its approver, once, in one transaction") { open in
            let store = try await open()
            let waiting = try await store.insertRun(run("deploy api", status: .awaitingApproval))
            let runID = try #require(waiting.id)
            try await store.insertApproval(gate("g3", runID: runID, at: 1))
            let second = try await open()
            let claims = try await withThrowingTaskGroup(of: RunRecord?.self) { group in
                for (index, handle) in [store, second].enumerated() {
                    group.addTask {
                        try await handle.releaseApproval(
                            id: "g3", reason: "quorum", at: at(2), owner: "host/\(index)/x")
                    }
                }
                return try await group.reduce(into: []) { $0 += [$1].compactMap { $0 } }
            }
            let claimed = try #require(claims.count == 1 ? claims.first : nil, "\(claims.count) claims")
            #expect(claimed.id == runID)
            #expect(claimed.status == .running)
            #expect(claimed.epoch == waiting.epoch + 1)
            #expect(claimed.owner?.hasPrefix("host/") == true)
            #expect(try await store.run(id: runID) == claimed)
            #expect(try await store.approval(id: "g3")?.status == .approved)
            #expect(try await store.approval(id: "g3")?.reason == "quorum")
            // A run no longer waiting (cancelled meanwhile) is left as it is.
            var cancelled = try await store.insertRun(run("deploy web", status: .awaitingApproval))
            cancelled.status = .cancelled
            try await store.updateRun(cancelled)
            try await store.insertApproval(gate("g4", runID: try #require(cancelled.id), at: 3))
            let left = try await store.releaseApproval(id: "g4", reason: "quorum", at: at(4), owner: "host/1/x")
            #expect(left?.status == .cancelled && left?.owner == cancelled.owner && left?.epoch == cancelled.epoch)
        },
        StoreCheck(name: "metadata is set and replaced") { open in
            let store = try await open()
            #expect(try await store.metadata("policy") == nil)
            try await store.setMetadata("policy", "v1")
            try await store.setMetadata("policy", "v2 — ✓")
            #expect(try await open().metadata("policy") == "v2 — ✓")
        },
        StoreCheck(name: "passwords, sessions and tokens") { open in
            let store = try await open()
            #expect(try await !store.hasAnyPassword())
            #expect(try await store.passwordHash(userName: "alice") == nil)
            try await store.setPasswordHash("h1", userName: "alice")
            try await store.setPasswordHash("h2", userName: "alice")
            #expect(try await store.passwordHash(userName: "alice") == "h2")
            #expect(try await store.hasAnyPassword())
            let live = SessionRecord(
                tokenHash: "live", userName: "alice", csrfToken: "c1", createdAt: at(0), expiresAt: at(100))
            let old = SessionRecord(
                tokenHash: "old", userName: "alice", csrfToken: "c2", createdAt: at(0), expiresAt: at(10))
            try await store.insertSession(live)
            try await store.insertSession(old)
            let found = try await store.session(tokenHash: "live", now: at(50))
            #expect(found == live)
            #expect(try await store.session(tokenHash: "old", now: at(50)) == nil)
            try await store.deleteSession(tokenHash: "live")
            #expect(try await store.session(tokenHash: "live", now: at(50)) == nil)
            let token = APITokenRecord(
                id: "tok1", secretHash: "s", userName: "alice", scopes: ["run", "read"], name: "ci", createdAt: at(0))
            try await store.insertToken(token)
            try await store.insertToken(
                APITokenRecord(id: "tok2", secretHash: "t", userName: "bob", scopes: [], name: "bot", createdAt: at(5)))
            #expect(try await store.token(id: "tok1") == token)
            #expect(Set(try await store.tokens().map(\.id)) == ["tok1", "tok2"])
            try await store.touchToken(id: "tok1", at: at(20))
            #expect(try await store.token(id: "tok1")?.lastUsedAt == at(20))
            #expect(try await store.revokeToken(id: "tok1", at: at(30)))
            #expect(try await !store.revokeToken(id: "tok1", at: at(31)))
            #expect(try await !store.revokeToken(id: "none", at: at(31)))
            #expect(try await store.token(id: "tok1")?.revokedAt == at(30))
        },
        StoreCheck(name: "a lock has one holder across replicas and is freed after a crash") { open in
            let store = try await open()
            let other = try await open()
            let first = try #require(try await store.insertRun(run("first")).id)
            let second = try #require(try await store.insertRun(run("second")).id)
            let lock = LockRecord(name: "deploy:prod", runID: first, holder: "alice", acquiredAt: at(0))
            #expect(try await store.acquireLock(lock) == nil)
            let refused = try await other.acquireLock(
                LockRecord(name: "deploy:prod", runID: second, holder: "bob", acquiredAt: at(1)))
            #expect(refused == lock)
            try await other.releaseLock(name: "deploy:prod", runID: second)
            #expect(
                try await other.acquireLock(
                    LockRecord(name: "deploy:prod", runID: second, holder: "bob", acquiredAt: at(2))) == lock)
            #expect(try await store.releaseStaleLocks() == 0)
            var crashed = try #require(try await store.run(id: first))
            crashed.status = .interrupted
            try await store.updateRun(crashed)
            #expect(try await other.releaseStaleLocks() == 1)
            #expect(
                try await other.acquireLock(
                    LockRecord(name: "deploy:prod", runID: second, holder: "bob", acquiredAt: at(3))) == nil)
            try await store.releaseLock(name: "deploy:prod", runID: second)
            #expect(try await store.acquireLock(lock) == nil)
        },
        StoreCheck(name: "steps are saved, replaced and listed; a run is adopted by one replica") { open in
            let store = try await open()
            let runID = try #require(try await store.insertRun(run("runbook", owner: "dead")).id)
            let build = StepRecord(
                runID: runID, path: "1", name: "build", status: .running, attempts: 1, startedAt: at(1))
            try await store.saveStep(build)
            var built = build
            built.status = .succeeded
            built.finishedAt = at(2)
            built.output = "ok\n"
            built.outputs = ["image": "api:1.2"]
            built.message = "built"
            try await store.saveStep(built)
            let ship = StepRecord(runID: runID, path: "2", name: "ship", status: .awaitingApproval, startedAt: at(3))
            try await store.saveStep(ship)
            #expect(try await store.steps(runID: runID) == [built, ship])
            #expect(try await store.steps(runID: runID + 1).isEmpty)
            let other = try await open()
            let adopters = try await withThrowingTaskGroup(of: Bool.self) { group in
                for (index, handle) in [store, other].enumerated() {
                    group.addTask { try await handle.adoptRun(id: runID, owner: "heir-\(index)", from: "dead") }
                }
                return try await group.reduce(into: 0) { $0 += $1 ? 1 : 0 }
            }
            #expect(adopters == 1)
            #expect(try await store.run(id: runID)?.owner?.hasPrefix("heir-") == true)
            #expect(try await !store.adoptRun(id: runID, owner: "late", from: "dead"))
            let orphan = try #require(try await store.insertRun(run("orphan")).id)
            #expect(try await store.adoptRun(id: orphan, owner: "heir", from: nil))
            let finished = try #require(try await store.insertRun(run("done", status: .succeeded, owner: "dead")).id)
            #expect(try await !store.adoptRun(id: finished, owner: "heir", from: "dead"))
        },
        StoreCheck(name: "a run taken over refuses its old owner's changes (fencing epochs)") { open in
            let store = try await open()
            let slow = try await store.insertRun(run("deploy api", owner: "slow/1"))
            let id = try #require(slow.id)
            #expect(slow.epoch == 0)
            #expect(try await store.adoptRun(id: id, owner: "survivor/2", from: "slow/1"))
            let adopted = try #require(try await store.run(id: id))
            #expect(adopted.epoch == 1 && adopted.owner == "survivor/2")
            // The slow owner, back, tries to finish it: refused, nothing written.
            var finishing = slow
            finishing.status = .succeeded
            finishing.output = "done by the slow one"
            await #expect(throws: StoreError.self) { try await store.updateRun(finishing) }
            let entry = AuditDraft(kind: .finished, actor: "alice", identity: "slack:U1", command: "deploy", runID: id)
            let results = try await store.commitAudit(
                [AuditCommit(drafts: [entry], updatingRun: finishing), AuditCommit(drafts: [entry])], at: at(5))
            #expect(results.map(\.takenOverRun) == [id, nil], "one taken-over commit does not fail the others")
            #expect(results[1].entries.count == 1)
            #expect(try await store.auditEntries(AuditQuery(kind: "finished")).count == 1)
            #expect(try await store.run(id: id)?.status == .running)
            // Its runbook steps are refused too: the survivor's record of a step stays.
            let resumed = StepRecord(
                runID: id, path: "1", name: "ship", status: .running, attempts: 1, startedAt: at(6))
            #expect(try await store.saveStep(resumed, epoch: adopted.epoch))
            var stale = resumed
            stale.status = .succeeded
            stale.output = "shipped by the slow one"
            #expect(try await !store.saveStep(stale, epoch: slow.epoch))
            #expect(
                try await !store.saveStep(StepRecord(runID: id, path: "2", name: "verify", status: .running), epoch: 0))
            #expect(try await store.steps(runID: id) == [resumed])
            let unknown = StepRecord(runID: id + 1000, path: "1", name: "ship", status: .running)
            #expect(try await !store.saveStep(unknown, epoch: 0), "an unknown run is nobody's")
            // The new owner's own changes go through, under the new epoch.
            var done = adopted
            done.status = .succeeded
            try await store.updateRun(done)
            #expect(try await store.run(id: id)?.status == .succeeded)
            // Interrupting moves the epoch on too.
            let other = try await store.insertRun(run("restart api", owner: "dead/3"))
            let interrupted = try await store.interruptUnfinishedRuns(reason: "gone") { $0.owner == "dead/3" }
            #expect(interrupted.map(\.epoch) == [1])
            #expect(try await store.run(id: try #require(other.id))?.epoch == 1)
            var late = other
            late.status = .failed
            await #expect(throws: StoreError.self) { try await store.updateRun(late) }
        },
        StoreCheck(name: "replicas heartbeat with the runs they own and are judged by the store's clock") { open in
            let store = try await open()
            let owned = try await store.insertRun(run("deploy api", owner: "replica-a"))
            _ = try await store.insertRun(run("done", status: .succeeded, owner: "replica-a"))
            _ = try await store.insertRun(run("theirs", owner: "replica-b"))
            let started = Date(timeIntervalSinceNow: -60)
            let mine = try await store.heartbeat(
                id: "replica-a", host: "host-a", version: "1.0", startedAt: started, ttl: .seconds(30))
            #expect(mine == [try #require(owned.id): 0], "only its running runs, with their epochs")
            _ = try await store.heartbeat(
                id: "replica-b", host: "host-b", version: "1.0", startedAt: started, ttl: .milliseconds(1))
            try await Task.sleep(for: .milliseconds(50))
            let seen = try await open().replicas()
            #expect(seen.map(\.id).sorted() == ["replica-a", "replica-b"])
            #expect(seen.first { $0.id == "replica-a" }?.isAlive == true)
            #expect(seen.first { $0.id == "replica-b" }?.isAlive == false, "its heartbeat ran out")
            #expect(seen.first { $0.id == "replica-a" }?.host == "host-a")
            // A heartbeat again brings it back; leaving removes it.
            _ = try await store.heartbeat(
                id: "replica-b", host: "host-b", version: "1.1", startedAt: started, ttl: .seconds(30))
            let back = try #require(try await store.replicas().first { $0.id == "replica-b" })
            #expect(back.isAlive && back.version == "1.1")
            try await store.removeReplica(id: "replica-b")
            #expect(try await store.replicas().map(\.id) == ["replica-a"])
        },
        StoreCheck(name: "alerts are deduplicated by fingerprint and acknowledged") { open in
            let store = try await open()
            let firing = Alert(
                source: "alertmanager", status: .firing, labels: ["alertname": "HighLatency", "service": "api"],
                annotations: ["summary": "p99 > 1s"], startsAt: at(0), url: "http://prom/graph")
            let disk = Alert(source: "alertmanager", status: .firing, labels: ["alertname": "DiskFull"])
            let first = try await store.recordAlerts([firing, disk], at: at(1))
            #expect(first.map(\.received) == [1, 1])
            #expect(first[0].alert == firing)
            var resolved = firing
            resolved.status = .resolved
            resolved.endsAt = at(60)
            let second = try await open().recordAlerts([resolved], at: at(61))
            #expect(second[0].id == first[0].id)
            #expect(second[0].received == 2)
            #expect(second[0].firstSeen == at(1))
            #expect(second[0].lastSeen == at(61))
            #expect(second[0].status == .resolved)
            #expect(try await store.alertEventCount() == 3)
            let diskID = try #require(first[1].id)
            #expect(try await store.alerts(AlertQuery(status: .firing)).map(\.id) == [diskID])
            #expect(try await store.alerts(AlertQuery(acknowledged: true)).isEmpty)
            let acked = try await store.acknowledgeAlert(id: diskID, by: "bob", note: "on it", at: at(70))
            #expect(acked?.acknowledgedBy == "bob")
            #expect(acked?.acknowledgement == "on it")
            #expect(acked?.acknowledgedAt == at(70))
            #expect(try await store.alert(id: diskID) == acked)
            #expect(try await store.alerts(AlertQuery(acknowledged: true)).map(\.id) == [diskID])
            #expect(try await store.acknowledgeAlert(id: diskID + 1_000, by: "bob", note: nil, at: at(71)) == nil)
            #expect(try await store.alerts(AlertQuery()).count == 2)
            #expect(try await store.alerts(AlertQuery(limit: 1)).count == 1)
        },
        StoreCheck(name: "an alert's message is claimed by one replica and counted by all") { open in
            let store = try await open()
            let other = try await open()
            let record = AlertMessageRecord(
                fingerprint: "fp1", room: "slack:C1", messageRef: nil, postedAt: at(10), count: 1, status: .firing)
            let claims = try await withThrowingTaskGroup(of: Bool.self) { group in
                for handle in [store, other] {
                    group.addTask { try await handle.claimAlertMessage(record, window: .seconds(600)) }
                }
                return try await group.reduce(into: 0) { $0 += $1 ? 1 : 0 }
            }
            #expect(claims == 1)
            try await store.setAlertMessageReference(
                fingerprint: "fp1", room: "slack:C1", postedAt: at(10), messageRef: "1700.01")
            // Each replica adds what it counted; the totals add up, whoever writes last.
            async let a = store.countAlertMessage(fingerprint: "fp1", room: "slack:C1", adding: 3, status: .firing)
            async let b = other.countAlertMessage(fingerprint: "fp1", room: "slack:C1", adding: 5, status: .firing)
            _ = try await (a, b)
            let counted = try #require(
                try await store.countAlertMessage(fingerprint: "fp1", room: "slack:C1", adding: 1, status: .resolved))
            #expect(counted.count == 10 && counted.status == .resolved && counted.messageRef == "1700.01")
            #expect(try await other.alertMessage(fingerprint: "fp1", room: "slack:C1") == counted)
            #expect(
                try await store.countAlertMessage(fingerprint: "fp2", room: "slack:C1", adding: 1, status: .firing)
                    == nil)
            // Within the window the message stands; after it, a new one is claimed, counting afresh.
            var later = record
            later.postedAt = at(300)
            #expect(try await !store.claimAlertMessage(later, window: .seconds(600)))
            later.postedAt = at(700)
            #expect(try await other.claimAlertMessage(later, window: .seconds(600)))
            let fresh = try #require(try await store.alertMessage(fingerprint: "fp1", room: "slack:C1"))
            #expect(fresh.count == 1 && fresh.messageRef == nil && fresh.postedAt == at(700))
            // A claim that posted nothing is taken back, and the alert can be claimed again.
            try await store.releaseAlertMessage(fingerprint: "fp1", room: "slack:C1", postedAt: at(700))
            #expect(try await other.alertMessage(fingerprint: "fp1", room: "slack:C1") == nil)
            later.postedAt = at(701)
            #expect(try await store.claimAlertMessage(later, window: .seconds(600)))
        },
        StoreCheck(name: "a room's alert storm is shared: folded once, posted by one replica") { open in
            let store = try await open()
            let other = try await open()
            #expect(try await store.alertStorm(room: "irc:#ops") == nil)
            let first = try await store.foldAlert(
                room: "irc:#ops", fingerprint: "a", name: "HighCPU", at: at(10), window: .seconds(60))
            #expect(first.since == at(10) && first.folded == ["a": "HighCPU"] && !first.posted)
            let second = try await other.foldAlert(
                room: "irc:#ops", fingerprint: "b", name: "DiskFull", at: at(20), window: .seconds(60))
            #expect(second.since == at(10) && second.folded == ["a": "HighCPU", "b": "DiskFull"])
            _ = try await other.foldAlert(
                room: "irc:#ops", fingerprint: "a", name: "HighCPU", at: at(25), window: .seconds(60))
            let claims = try await withThrowingTaskGroup(of: Bool.self) { group in
                for handle in [store, other] {
                    group.addTask { try await handle.claimAlertStormPost(room: "irc:#ops", since: at(10)) }
                }
                return try await group.reduce(into: 0) { $0 += $1 ? 1 : 0 }
            }
            #expect(claims == 1)
            try await store.setAlertStormMessage(room: "irc:#ops", since: at(10), messageRef: "m7")
            let stored = try #require(try await other.alertStorm(room: "irc:#ops"))
            #expect(stored.posted && stored.messageRef == "m7" && stored.folded.count == 2)
            // Rooms are apart; an old storm gives way to a new one that starts empty.
            #expect(try await store.alertStorm(room: "irc:#dev") == nil)
            let next = try await other.foldAlert(
                room: "irc:#ops", fingerprint: "c", name: "Latency", at: at(100), window: .seconds(60))
            #expect(next.since == at(100) && next.folded == ["c": "Latency"] && !next.posted && next.messageRef == nil)
            #expect(try await !store.claimAlertStormPost(room: "irc:#ops", since: at(10)), "the old storm is over")
        },
        StoreCheck(name: "a commit records its alerts with its entries") { open in
            let store = try await open()
            let alert = Alert(source: "grafana", status: .firing, labels: ["alertname": "Down"])
            let results = try await store.commitAudit(
                [
                    AuditCommit(
                        drafts: [AuditDraft(kind: .alertReceived, actor: "grafana", detail: "Down")],
                        eventKey: "alert-1", alerts: [alert, alert])
                ], at: at(5))
            #expect(results[0].alerts.map(\.received) == [1, 2])
            #expect(results[0].entries.count == 1)
            #expect(try await store.alertEventCount() == 2)
        },
        StoreCheck(name: "an alert's message in a room is kept and replaced") { open in
            let store = try await open()
            #expect(try await store.alertMessage(fingerprint: "f1", room: "#ops") == nil)
            let posted = AlertMessageRecord(
                fingerprint: "f1", room: "#ops", messageRef: "1700.1", postedAt: at(0), count: 1, status: .firing)
            try await store.saveAlertMessage(posted)
            var updated = posted
            updated.count = 3
            updated.status = .resolved
            try await store.saveAlertMessage(updated)
            try await store.saveAlertMessage(
                AlertMessageRecord(
                    fingerprint: "f1", room: "#other", messageRef: nil, postedAt: at(1), count: 1, status: .firing))
            #expect(try await open().alertMessage(fingerprint: "f1", room: "#ops") == updated)
            #expect(try await store.alertMessage(fingerprint: "f1", room: "#other")?.messageRef == nil)
        },
        StoreCheck(name: "a schedule's firing is claimed by exactly one replica") { open in
            let stores = [try await open(), try await open()]
            #expect(try await stores[0].lastScheduledRun(name: "nightly") == nil)
            let claims = try await withThrowingTaskGroup(of: Bool.self) { group in
                for index in 0..<6 {
                    let store = stores[index % 2]
                    group.addTask { try await store.claimScheduledRun(name: "nightly", at: at(3_600), by: "r\(index)") }
                }
                return try await group.reduce(into: 0) { $0 += $1 ? 1 : 0 }
            }
            #expect(claims == 1)
            #expect(try await stores[1].claimScheduledRun(name: "nightly", at: at(7_200), by: "r1"))
            #expect(try await stores[0].claimScheduledRun(name: "hourly", at: at(3_600), by: "r1"))
            #expect(try await stores[0].lastScheduledRun(name: "nightly") == at(7_200))
        },
        StoreCheck(name: "a lease has one holder; it changes hands when it expires, is released or its holder died") {
            open in
            let stores = [try await open(), try await open()]
            let alive: @Sendable (String) -> Bool = { _ in false }
            let winners = try await withThrowingTaskGroup(of: LeaseRecord?.self) { group in
                for index in 0..<6 {
                    let store = stores[index % 2]
                    group.addTask {
                        try await store.acquireLease(
                            name: "adapter:irc", holder: "r\(index)", ttl: .seconds(60), isDead: alive)
                    }
                }
                return try await group.reduce(into: [LeaseRecord]()) { if let lease = $1 { $0.append(lease) } }
            }
            #expect(winners.count == 1)
            let leader = try #require(winners.first)
            #expect(leader.epoch == 1)
            // Renewing keeps the epoch and pushes the expiry on.
            let renewed = try #require(
                try await stores[1].acquireLease(
                    name: "adapter:irc", holder: leader.holder, ttl: .seconds(120), isDead: alive))
            #expect(renewed.epoch == 1 && renewed.expiresAt > leader.expiresAt)
            #expect(
                try await stores[0].acquireLease(name: "adapter:irc", holder: "other", ttl: .seconds(60), isDead: alive)
                    == nil)
            // Its holder died: taken at once, with the next epoch.
            let heir = try #require(
                try await stores[0].acquireLease(
                    name: "adapter:irc", holder: "heir", ttl: .seconds(60), isDead: { $0 == leader.holder }))
            #expect(heir.epoch == 2)
            // Released: the next one takes it without waiting, and the epoch goes on.
            try await stores[1].releaseLease(name: "adapter:irc", holder: "not-the-holder")
            #expect(
                try await stores[1].acquireLease(name: "adapter:irc", holder: "third", ttl: .seconds(60), isDead: alive)
                    == nil)
            try await stores[1].releaseLease(name: "adapter:irc", holder: "heir")
            let third = try #require(
                try await stores[1].acquireLease(
                    name: "adapter:irc", holder: "third", ttl: .milliseconds(200), isDead: alive))
            #expect(third.epoch == 3)
            // Expired: taken over after its time, by the store's clock.
            var fourth: LeaseRecord?
            for _ in 0..<100 where fourth == nil {
                try await Task.sleep(for: .milliseconds(50))
                fourth = try await stores[0].acquireLease(
                    name: "adapter:irc", holder: "fourth", ttl: .seconds(60), isDead: alive)
            }
            #expect(fourth?.epoch == 4)
            _ = try await stores[0].acquireLease(
                name: "adapter:matrix", holder: "fourth", ttl: .seconds(60), isDead: alive)
            let all = try await stores[1].leases()
            #expect(all.map(\.name) == ["adapter:irc", "adapter:matrix"])
            #expect(all.map(\.holder) == ["fourth", "fourth"])
        },
        StoreCheck(name: "the outbox hands each message to one claimer, in order, and keeps what became of it") {
            open in
            let follower = try await open()
            let leader = try await open()
            let first = try await follower.enqueueOutbound(
                platform: "irc", room: "#ops", thread: nil, action: .send, reference: nil, body: #"{"a":1}"#)
            let second = try await follower.enqueueOutbound(
                platform: "irc", room: "#ops", thread: "t", action: .edit, reference: "m1", body: #"{"a":2}"#)
            _ = try await follower.enqueueOutbound(
                platform: "matrix", room: "!r", thread: nil, action: .send, reference: nil, body: "{}")
            #expect(second > first)
            #expect(try await follower.outboundOutcome(id: first) == .queued)
            // Two claimers at once: every message goes to exactly one of them.
            let claims = try await withThrowingTaskGroup(of: [OutboxMessage].self) { group in
                for (index, store) in [follower, leader].enumerated() {
                    group.addTask {
                        try await store.claimOutbound(
                            platform: "irc", holder: "r\(index)", ttl: .seconds(60), limit: 10)
                    }
                }
                return try await group.reduce(into: [OutboxMessage]()) { $0 += $1 }
            }
            #expect(claims.map(\.id).sorted() == [first, second])
            let claimed = claims.sorted { $0.id < $1.id }
            #expect(claimed.map(\.action) == [.send, .edit])
            #expect(claimed[1].room == "#ops" && claimed[1].thread == "t" && claimed[1].reference == "m1")
            #expect(claimed[1].body == #"{"a":2}"#)
            #expect(try await leader.claimOutbound(platform: "irc", holder: "r2", ttl: .seconds(60), limit: 10).isEmpty)
            // Settled: kept with its result; given back: claimed again after the delay, the failure counted.
            try await leader.settleOutbound(id: first, outcome: .delivered("msg-9"))
            #expect(try await follower.outboundOutcome(id: first) == .delivered("msg-9"))
            try await leader.retryOutbound(id: second, after: .zero, failure: "not connected")
            let again = try await leader.claimOutbound(platform: "irc", holder: "r2", ttl: .seconds(60), limit: 10)
            #expect(again.map(\.id) == [second] && again.first?.attempts == 1)
            try await leader.retryOutbound(id: second, after: .seconds(600), failure: nil)
            #expect(try await leader.claimOutbound(platform: "irc", holder: "r2", ttl: .seconds(60), limit: 10).isEmpty)
            try await leader.settleOutbound(id: second, outcome: .failed("gave up"))
            #expect(try await follower.outboundOutcome(id: second) == .failed("gave up"))
            // A claim whose holder died runs out and the message is claimed again.
            let third = try await follower.enqueueOutbound(
                platform: "irc", room: "#ops", thread: nil, action: .send, reference: nil, body: "{}")
            _ = try await leader.claimOutbound(platform: "irc", holder: "dies", ttl: .milliseconds(100), limit: 10)
            var reclaimed: [OutboxMessage] = []
            for _ in 0..<100 where reclaimed.isEmpty {
                try await Task.sleep(for: .milliseconds(50))
                reclaimed = try await follower.claimOutbound(
                    platform: "irc", holder: "heir", ttl: .seconds(60), limit: 10)
            }
            #expect(reclaimed.map(\.id) == [third])
            #expect(try await follower.outboundOutcome(id: 999_999) == nil)
            let matrix = try await leader.claimOutbound(platform: "matrix", holder: "m", ttl: .seconds(60), limit: 10)
            #expect(matrix.map(\.room) == ["!r"])
        },
        StoreCheck(name: "a rate is counted once across replicas, and a refund gives the hit back") { open in
            let stores = [try await open(), try await open()]
            // Eight replicas' worth of hits at once against a limit of three: three are counted.
            let now = Date()
            let admitted = try await withThrowingTaskGroup(of: Date?.self) { group in
                for index in 0..<8 {
                    let store = stores[index % 2]
                    group.addTask {
                        try await store.admitHit(
                            key: "alice|deploy", limit: 3, window: .seconds(60),
                            at: now.addingTimeInterval(Double(index) / 1000))
                    }
                }
                return try await group.reduce(into: [Date?]()) { $0.append($1) }
            }
            #expect(admitted.filter { $0 == nil }.count == 3)
            let refusals = admitted.compactMap { $0 }
            #expect(refusals.count == 5)
            #expect(refusals.allSatisfy { $0 > now.addingTimeInterval(59) && $0 <= now.addingTimeInterval(61) })
            // Another key counts on its own; a refund frees a hit; a window gone frees them all.
            #expect(try await stores[0].admitHit(key: "bob|deploy", limit: 3, window: .seconds(60), at: now) == nil)
            let later = now.addingTimeInterval(1)
            #expect(try await stores[0].admitHit(key: "alice|deploy", limit: 3, window: .seconds(60), at: later) != nil)
            let hitAt = now.addingTimeInterval(0.5)
            #expect(try await stores[1].admitHit(key: "carol|deploy", limit: 1, window: .seconds(60), at: hitAt) == nil)
            #expect(try await stores[0].admitHit(key: "carol|deploy", limit: 1, window: .seconds(60), at: later) != nil)
            try await stores[0].refundHit(key: "carol|deploy", at: hitAt)
            #expect(try await stores[1].admitHit(key: "carol|deploy", limit: 1, window: .seconds(60), at: later) == nil)
            let afterWindow = now.addingTimeInterval(61)
            #expect(
                try await stores[1].admitHit(key: "alice|deploy", limit: 3, window: .seconds(60), at: afterWindow)
                    == nil)
        },
        StoreCheck(name: "failed sign-ins are counted across replicas, cleared and pruned") { open in
            let stores = [try await open(), try await open()]
            let now = Date()
            try await stores[0].recordHits(keys: ["login:pair", "login:*"], at: now.addingTimeInterval(-400))
            try await stores[0].recordHits(keys: ["login:pair", "login:*"], at: now.addingTimeInterval(-10))
            try await stores[1].recordHits(keys: ["login:pair", "login:other", "login:*"], at: now)
            let counts = try await stores[1].recentHits(
                keys: ["login:pair", "login:other", "login:*", "login:nobody"], window: .seconds(300), at: now)
            #expect(counts.count == 3)
            #expect(counts["login:pair"]?.count == 2 && counts["login:*"]?.count == 2)
            let oldest = try #require(counts["login:pair"]?.oldest)
            #expect(abs(oldest.timeIntervalSince(now.addingTimeInterval(-10))) < 0.01)
            try await stores[0].clearHits(key: "login:pair")
            #expect(try await stores[1].recentHits(keys: ["login:pair"], window: .seconds(300), at: now) == [:])
            // Pruning removes the old hits of the prefix only.
            try await stores[0].recordHits(keys: ["rate:alice"], at: now.addingTimeInterval(-400))
            try await stores[1].pruneHits(prefix: "login:", before: now.addingTimeInterval(-300))
            let day = Duration.seconds(86_400)
            #expect(try await stores[0].recentHits(keys: ["login:*"], window: day, at: now)["login:*"]?.count == 2)
            #expect(
                try await stores[0].recentHits(keys: ["rate:alice"], window: day, at: now)["rate:alice"]?.count == 1)
        },
        StoreCheck(name: "max_concurrent slots are shared by replicas and freed when their run stops") { open in
            let stores = [try await open(), try await open()]
            var runs: [Int64] = []
            for index in 0..<6 {
                runs.append(try #require(try await stores[0].insertRun(run("deploy \(index)", owner: "r/\(index)")).id))
            }
            let ids = runs
            let taken = try await withThrowingTaskGroup(of: Bool.self) { group in
                for (index, id) in ids.enumerated() {
                    let store = stores[index % 2]
                    group.addTask { try await store.takeSlot(name: "deploy", max: 2, runID: id) }
                }
                return try await group.reduce(into: 0) { $0 += $1 ? 1 : 0 }
            }
            #expect(taken == 2)
            let holders = try await withThrowingTaskGroup(of: Int64?.self) { group in
                for id in ids {
                    group.addTask { try await stores[1].takeSlot(name: "deploy", max: 2, runID: id) ? id : nil }
                }
                return try await group.reduce(into: [Int64]()) { if let id = $1 { $0.append(id) } }
            }
            #expect(holders.count == 2, "the two holders keep theirs; nobody else gets one")
            #expect(
                try await stores[0].takeSlot(name: "migrate", max: 1, runID: ids[5]), "another command counts apart")
            // Released: the slot is free for another run.
            try await stores[0].releaseSlot(name: "deploy", runID: holders[0])
            let waiting = try #require(ids.first { !holders.contains($0) })
            #expect(try await stores[1].takeSlot(name: "deploy", max: 2, runID: waiting))
            // A holder interrupted (its replica died) frees its slot without a release.
            let stillHolding = holders[1]
            _ = try await stores[0].interruptUnfinishedRuns(reason: "replica gone") { $0.id == stillHolding }
            let next = try #require(ids.first { !holders.contains($0) && $0 != waiting })
            #expect(try await stores[0].takeSlot(name: "deploy", max: 2, runID: next))
        },
        StoreCheck(name: "incidents are numbered, changed with their timeline, and reminded once across replicas") {
            open in
            let store = try await open()
            let other = try await open()
            func declared(_ title: String, in room: String, at seconds: Int) -> Incident {
                Incident(
                    severity: "sev1", title: title, declaredAt: at(seconds), declaredBy: "alice", declaredIn: room,
                    auditFromSeq: 7, roles: ["commander": "alice"])
            }
            let first = try await store.declareIncident(
                declared("Checkout errors 'EU' ✓", in: "slack:C1", at: 0),
                event: IncidentEvent(
                    incident: 0, at: at(0), actor: "alice", kind: .declared, text: "declared", runID: 3))
            let second = try await other.declareIncident(
                declared("Search slow", in: "irc:#ops", at: 5),
                event: IncidentEvent(incident: 0, at: at(5), actor: "bob", kind: .declared, text: "declared"))
            #expect(first.number == 1)
            #expect(second.number == 2)
            #expect(try await other.incident(number: 1) == first)
            #expect(try await store.openIncidents(inRoom: "slack:C1").map(\.number) == [1])
            // A dedicated room replaces the declaring room as where the incident is worked on.
            let moved = try #require(
                try await other.changeIncident(
                    number: 1, .room("slack:C9"),
                    event: IncidentEvent(incident: 1, at: at(1), actor: "alice", kind: .status, text: "room")))
            #expect(moved.room == "slack:C9")
            #expect(try await store.openIncidents(inRoom: "slack:C1").isEmpty)
            #expect(try await store.openIncidents(inRoom: "slack:C9").map(\.number) == [1])
            _ = try await store.changeIncident(number: 1, .role("comms", holder: "bob"), event: nil)
            _ = try await other.changeIncident(number: 1, .role("scribe", holder: "carol"), event: nil)
            let updated = try #require(
                try await store.changeIncident(number: 1, .update(summary: "rolled back", at: at(60)), event: nil))
            #expect(updated.roles == ["commander": "alice", "comms": "bob", "scribe": "carol"])
            #expect(updated.summary == "rolled back")
            #expect(updated.lastUpdateAt == at(60))
            #expect(try await store.changeIncident(number: 99, .severity("sev2"), event: nil) == nil)
            // Reminders: level 1 once, whichever replica asks first; level 2 only after level 1.
            #expect(try await !store.claimIncidentReminder(number: 1, level: 1, updatedBefore: at(59)))
            #expect(try await !store.claimIncidentReminder(number: 1, level: 2, updatedBefore: at(100)))
            #expect(try await store.claimIncidentReminder(number: 1, level: 1, updatedBefore: at(100)))
            #expect(try await !other.claimIncidentReminder(number: 1, level: 1, updatedBefore: at(100)))
            #expect(try await other.claimIncidentReminder(number: 1, level: 2, updatedBefore: at(100)))
            let reset = try #require(
                try await other.changeIncident(number: 1, .update(summary: "better", at: at(120)), event: nil))
            #expect(reset.reminders == 0)
            let resolved = try #require(
                try await store.changeIncident(
                    number: 1, .status(.resolved, at: at(300)),
                    event: IncidentEvent(
                        incident: 1, at: at(300), actor: "alice", kind: .resolved, text: "resolved", runID: 9,
                        auditSeq: 42)))
            #expect(resolved.resolvedAt == at(300))
            #expect(try await !store.claimIncidentReminder(number: 1, level: 1, updatedBefore: at(1000)))
            #expect(try await other.incidents(IncidentQuery(openOnly: true)).map(\.number) == [2])
            #expect(try await other.incidents(IncidentQuery()).map(\.number) == [2, 1])
            #expect(try await other.incidents(IncidentQuery(beforeNumber: 2)).map(\.number) == [1])
            let reopened = try #require(
                try await other.changeIncident(number: 1, .status(.investigating, at: at(400)), event: nil))
            #expect(reopened.resolvedAt == nil)
            let events = try await other.incidentEvents(number: 1)
            #expect(events.map(\.kind) == [.declared, .status, .resolved])
            #expect(events.last?.auditSeq == 42)
            #expect(events.last?.runID == 9)
            #expect(events.first?.incident == 1)
            // Tasks are closed once; alerts attached once.
            let task = try await store.addIncidentTask(
                IncidentTask(incident: 1, text: "Add a canary", owner: "bob", createdAt: at(310), createdBy: "alice"))
            #expect(
                try await other.finishIncidentTask(id: try #require(task.id), by: "bob", at: at(320))?.doneBy == "bob")
            #expect(try await store.finishIncidentTask(id: try #require(task.id), by: "carol", at: at(330)) == nil)
            #expect(try await other.incidentTasks(number: 1).map(\.doneAt) == [at(320)])
            #expect(try await store.attachAlert(incident: 1, alertID: 5, at: at(10)))
            #expect(try await !other.attachAlert(incident: 1, alertID: 5, at: at(11)))
            #expect(try await other.attachAlert(incident: 1, alertID: 3, at: at(12)))
            #expect(try await store.incidentAlerts(number: 1) == [5, 3])
        },
        StoreCheck(name: "on-call overrides are kept per schedule, in order, until they end") { open in
            let store = try await open()
            let other = try await open()
            func override(_ person: String, _ from: Int, _ to: Int) -> OnCallOverrideRecord {
                OnCallOverrideRecord(
                    schedule: "payments",
                    override: OnCallOverride(person: person, start: at(from), end: at(to), madeBy: "alice ✓"),
                    createdAt: at(0))
            }
            let first = try await store.addOverride(override("carol", 0, 100))
            let second = try await other.addOverride(override("dave", 50, 200))
            _ = try await store.addOverride(
                OnCallOverrideRecord(
                    schedule: "billing",
                    override: OnCallOverride(person: "erin", start: at(0), end: at(300), madeBy: "x"),
                    createdAt: at(0)))
            #expect(try await other.overrides(schedule: "payments", endingAfter: at(10)) == [first, second])
            #expect(try await other.overrides(schedule: "payments", endingAfter: at(100)) == [second])
            #expect(try await store.removeOverride(id: try #require(first.id)))
            #expect(try await !other.removeOverride(id: try #require(first.id)))
            #expect(
                try await store.overrides(schedule: "payments", endingAfter: at(0)).map(\.override.person) == ["dave"])
        },
        StoreCheck(name: "a page is open once per key, advanced once per step and settled once, across replicas") {
            open in
            let store = try await open()
            let other = try await open()
            let draft = PageRecord(
                key: "alert:fp1", policy: "payments", summary: "HighErrorRate ✓", room: "irc:#ops", nextAt: at(0),
                createdAt: at(0))
            let (first, isNew) = try await store.openPage(draft)
            #expect(isNew)
            let (again, isNewAgain) = try await other.openPage(draft)
            #expect(!isNewAgain)
            #expect(again.id == first.id)
            let id = try #require(first.id)
            #expect(try await other.duePages(at: at(0), limit: 10).map(\.id) == [id])
            // Two replicas step it at once: one wins.
            async let a = store.advancePage(
                id: id, from: (-1, 0), to: (0, 0), nextAt: at(300), status: .open, at: at(0))
            async let b = other.advancePage(
                id: id, from: (-1, 0), to: (0, 0), nextAt: at(300), status: .open, at: at(0))
            let wins = try await [a, b].filter { $0 }.count
            #expect(wins == 1)
            #expect(try await store.duePages(at: at(299), limit: 10).isEmpty)
            #expect(try await store.duePages(at: at(300), limit: 10).map(\.level) == [0])
            let settled = try #require(
                try await other.settlePage(key: "alert:fp1", status: .acknowledged, by: "bob", at: at(120)))
            #expect(settled.status == .acknowledged)
            #expect(settled.settledBy == "bob")
            #expect(settled.nextAt == nil)
            #expect(try await store.settlePage(key: "alert:fp1", status: .resolved, by: "x", at: at(130)) == nil)
            #expect(
                try await !store.advancePage(
                    id: id, from: (0, 0), to: (1, 0), nextAt: at(900), status: .open, at: at(300)))
            #expect(try await store.duePages(at: at(10_000), limit: 10).isEmpty)
            // Settled, the key may be paged again.
            let (next, isNewNext) = try await other.openPage(draft)
            #expect(isNewNext)
            #expect(next.id != id)
            #expect(try await store.pages(openOnly: true, limit: 10).map(\.id) == [next.id])
            #expect(try await store.pages(openOnly: false, limit: 10).map(\.id) == [next.id, id])
            #expect(try await other.page(id: id)?.summary == "HighErrorRate ✓")
        },
    ]
}
