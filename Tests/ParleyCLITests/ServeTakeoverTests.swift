import Foundation
import ParleyConformance
import ParleyCore
import ParleyStore
import Testing

/// A replica that was slow, not dead (the bug solid_queue PR #761 fixed): paused with SIGSTOP past
/// its heartbeat while it runs a command, then resumed. The survivor takes the run over — stops its
/// program, marks it interrupted, audits it — and the resumed replica can neither complete the run
/// nor answer for it, since the run's epoch moved on.
@Suite(.requires(.postgres)) struct ServeTakeoverTests {
    func writeConfig(_ directory: URL, database: PostgresURL) throws -> String {
        let path = directory.appendingPathComponent("parley.yaml").path
        let side = directory.appendingPathComponent("side.log").path
        let started = directory.appendingPathComponent("started").path
        try """
        server: { listen: "127.0.0.1:0", shutdown_grace: 1s }
        storage: { url: "\(database.redacted)", tls: disable, pool: 4 }
        users:
          alice: { roles: [ops], identities: ["local:alice"] }
        roles:
          ops: { allow: ["*"] }
        commands:
          slow:
            usage: slow
            action: { exec: ["sh", "-c", "echo started > \(started); sleep 40; echo finished >> \(side)"] }
        """.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func aReplicaPausedPastItsHeartbeatCannotFinishARunASurvivorTookOver() async throws {
        let database = try await TestPostgres.freshDatabase()
        let directory = try scratch()
        let config = try writeConfig(directory, database: database)
        let token = try await ParleyBinary.run(["tokens", "create", "--user", "alice", "--config", config]).output
            .trimmingCharacters(in: .whitespacesAndNewlines)
        var replicas: [ServeProcess] = []
        for name in ["slow", "survivor"] {
            replicas.append(
                try await ServeProcess.start(
                    config: config, log: directory.appendingPathComponent("serve-\(name).log"),
                    errors: directory.appendingPathComponent("serve-\(name).err")))
        }
        // The second replica is the survivor: it serves nothing here but its recovery sweep.
        let slow = replicas[0]
        defer {
            for replica in replicas where !replica.reap(wait: false) {
                kill(replica.pid, SIGCONT)
                kill(replica.pid, SIGKILL)
                _ = replica.reap()
            }
        }
        let store = try await PostgresStore.connect(PostgresSettings(url: database, tls: .disable, pool: 1))

        // The slow replica starts the command; the answer waits for the program.
        let port = slow.port
        let answer = Task { @Sendable in
            try await httpRequest("POST", "/api/v1/messages", port: port, token: token, json: #"{"text": "slow"}"#)
        }
        var running: RunRecord?
        for _ in 0..<300 where running?.processGroup == nil {
            try await Task.sleep(for: .milliseconds(100))
            running = try await store.runs(RunQuery(limit: 5, status: .running)).first
        }
        let run = try #require(running, "the command did not start")
        let runID = try #require(run.id)
        let group = try #require(run.processGroup)
        #expect(run.owner?.split(separator: "/").dropFirst().first == "\(slow.pid)")
        #expect(run.epoch == 0)
        #expect(FileManager.default.fileExists(atPath: directory.appendingPathComponent("started").path))

        // Paused: its process exists, but its heartbeat runs out, and the survivor takes it for dead.
        #expect(kill(slow.pid, SIGSTOP) == 0)
        var settled: RunRecord?
        for _ in 0..<900 where settled?.status != .interrupted {
            try await Task.sleep(for: .milliseconds(100))
            settled = try await store.run(id: runID)
        }
        let takenOver = try #require(settled)
        #expect(takenOver.status == .interrupted, "the survivor did not take the run over")
        #expect(takenOver.epoch == 1, "taking it over moved its epoch on")
        var groupGone = false
        for _ in 0..<100 where !groupGone {
            // What is left of it is a zombie the paused replica cannot reap yet.
            groupGone = liveMembers(ofGroups: [group]).isEmpty
            if !groupGone { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(groupGone, "the survivor stopped the program the paused replica had started")
        let cluster = try await ParleyBinary.run(["cluster", "--config", config])
        #expect(
            cluster.output.contains("\(slow.pid)/") && cluster.output.contains("gone (its heartbeat ran out)"),
            "\(cluster.output)")

        // Resumed: it may not finish the run nor answer for it.
        #expect(kill(slow.pid, SIGCONT) == 0)
        let (status, body) = try await answer.value
        #expect(status == 409, "\(body)")
        #expect(body.contains("run #\(runID) was taken over by another replica"), "\(body)")
        #expect(!body.contains("succeeded") && !body.contains("failed"), "\(body)")
        let after = try #require(try await store.run(id: runID))
        #expect(after.status == .interrupted && after.epoch == 1)
        let kinds = try await store.auditEntries(AuditQuery(runID: runID, limit: 50)).map(\.kind)
        #expect(kinds.contains("interrupted"), "\(kinds)")
        #expect(!kinds.contains("finished"), "the paused replica wrote no outcome for the run: \(kinds)")
        #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent("side.log").path))
        var told = false
        for _ in 0..<100 where !told {
            let log =
                (try? String(contentsOf: directory.appendingPathComponent("serve-slow.err"), encoding: .utf8)) ?? ""
            told = log.contains("run #\(runID) was taken over by another replica")
            if !told { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(told, "the resumed replica says why it answers nothing")
        // Back, it heartbeats again and is alive to the others.
        var back = false
        for _ in 0..<100 where !back {
            try await Task.sleep(for: .milliseconds(100))
            back = try await store.replicas().contains { $0.id == run.owner && $0.isAlive }
        }
        #expect(back)
        let verify = try await ParleyBinary.run(["audit", "verify", "--config", config])
        #expect(verify.status == 0, "\(verify.output)\(verify.error)")

        for replica in replicas { kill(replica.pid, SIGTERM) }
        for replica in replicas { #expect(try await replica.waitForExit(within: .seconds(20))) }
        // A clean stop leaves the cluster.
        #expect(try await store.replicas().isEmpty)
        await store.close()
        try await TestPostgres.drop(database)
    }
}
