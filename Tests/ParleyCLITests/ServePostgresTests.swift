import Foundation
import ParleyConformance
import ParleyCore
import Testing

/// `parley serve` on PostgreSQL as an operator runs it: two replicas on one database, each taking
/// commands, the CLI reading and verifying what both wrote.
@Suite(.requires(.postgres)) struct ServePostgresTests {
    func writeConfig(_ directory: URL, database: PostgresURL) throws -> String {
        let path = directory.appendingPathComponent("parley.yaml").path
        let ran = directory.appendingPathComponent("ran.log").path
        try """
        server: { listen: "127.0.0.1:0", shutdown_grace: 1s }
        storage:
          url: \(database.redacted)
          tls: disable
          pool: 4
        users:
          alice: { roles: [ops], identities: ["local:alice"] }
        roles:
          ops: { allow: ["*"] }
        commands:
          note:
            usage: "note {tag}"
            action: { exec: ["sh", "-c", "echo \\"$0\\" >> \(ran)", "{{tag}}"] }
        """.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func twoReplicasShareOneDatabaseAndOneChain() async throws {
        let database = try await TestPostgres.freshDatabase()
        #expect(database.password == nil, "the test server trusts local connections; no password in the file")
        let directory = try scratch()
        let config = try writeConfig(directory, database: database)
        let token = try await ParleyBinary.run(["tokens", "create", "--user", "alice", "--config", config]).output
            .trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(token.hasPrefix("plt_"))
        var replicas: [ServeProcess] = []
        for name in ["a", "b"] {
            let replica = try await ServeProcess.start(
                config: config, log: directory.appendingPathComponent("serve-\(name).log"),
                errors: directory.appendingPathComponent("serve-\(name).err"))
            replicas.append(replica)
        }
        defer {
            for replica in replicas where !replica.reap(wait: false) {
                kill(replica.pid, SIGKILL)
                _ = replica.reap()
            }
        }
        let log = try String(contentsOf: directory.appendingPathComponent("serve-a.log"), encoding: .utf8)
        #expect(log.contains("data in \(database.redacted)"), "\(log)")
        // The token made by the CLI is known to both; each replica runs the command sent to it.
        var sockets: [Int32] = []
        defer { for socket in sockets { close(socket) } }
        for (index, replica) in replicas.enumerated() {
            for round in 0..<3 {
                sockets.append(try postMessage("note r\(index)-\(round)", port: replica.port, token: token))
            }
        }
        let expected = Set((0..<2).flatMap { index in (0..<3).map { "r\(index)-\($0)" } })
        var ran: [String] = []
        for _ in 0..<200 where Set(ran) != expected {
            try await Task.sleep(for: .milliseconds(50))
            ran = ((try? String(contentsOf: directory.appendingPathComponent("ran.log"), encoding: .utf8)) ?? "")
                .split(separator: "\n").map(String.init)
        }
        #expect(ran.sorted() == expected.sorted(), "each command ran once")
        var finished = false
        for _ in 0..<100 where !finished {
            try await Task.sleep(for: .milliseconds(100))
            let runs = try await ParleyBinary.run([
                "run", "runs --status succeeded", "--as", "local:alice", "--config", config,
            ])
            finished = expected.allSatisfy { runs.output.contains($0) }
        }
        #expect(finished, "both replicas' runs are read back from the one database")
        for replica in replicas { kill(replica.pid, SIGTERM) }
        for replica in replicas {
            let exited = try await replica.waitForExit(within: .seconds(20))
            #expect(exited && replica.exitedCleanly, "replica \(replica.pid) did not stop cleanly")
        }
        // Two replicas appended to the chain at once; it is still one line, and signed.
        let verify = try await ParleyBinary.run(["audit", "verify", "--config", config])
        #expect(verify.status == 0, "\(verify.output)")
        #expect(verify.output.contains("signed through"), "\(verify.output)")
        let tail = try await ParleyBinary.run(["audit", "tail", "-n", "100", "--config", config]).output
        #expect(expected.allSatisfy { tail.contains($0) }, "\(tail)")
        #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent(".parley/parley.sqlite").path))
        try await TestPostgres.drop(database)
    }

    @Test func anUnreachableDatabaseStopsServeWithAClearError() async throws {
        var database = try TestPostgres.serverURL()
        database.port = 1
        database.password = "do-not-print-me"
        let directory = try scratch()
        let path = directory.appendingPathComponent("parley.yaml").path
        try """
        server: { listen: "127.0.0.1:0" }
        storage: "postgres://\(database.user):do-not-print-me@127.0.0.1:1/\(database.database)"
        """.write(toFile: path, atomically: true, encoding: .utf8)
        let serve = try await ParleyBinary.run(["serve", "--config", path])
        #expect(serve.status != 0)
        let said = serve.output + serve.error
        #expect(said.contains("cannot open the database at postgres://\(database.user):***@127.0.0.1:1/"), "\(said)")
        #expect(!said.contains("do-not-print-me"))
    }

    @Test(.timeLimit(.minutes(3)))
    func aReplicaWhoseDatabaseStopsAnsweringIsNotReadyAnswersInTimeAndRecovers() async throws {
        let database = try await TestPostgres.freshDatabase()
        let proxy = try await FreezingProxy.start(to: database.port)
        defer { proxy.stop() }
        var proxied = database
        proxied.port = proxy.port
        let directory = try scratch()
        let config = try writeConfig(directory, database: proxied)
        var text = try String(contentsOfFile: config, encoding: .utf8)
        text = text.replacingOccurrences(of: "  pool: 4\n", with: "  pool: 4\n  timeout: 2s\n")
        try text.write(toFile: config, atomically: true, encoding: .utf8)
        let token = try await ParleyBinary.run(["tokens", "create", "--user", "alice", "--config", config]).output
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let replica = try await ServeProcess.start(
            config: config, log: directory.appendingPathComponent("serve.log"),
            errors: directory.appendingPathComponent("serve.err"))
        defer {
            if !replica.reap(wait: false) {
                kill(replica.pid, SIGKILL)
                _ = replica.reap()
            }
        }
        #expect(try await httpGet("/readyz", port: replica.port).status == 200)

        proxy.freeze()
        // Each answer comes within the deadline, whatever the database does: not ready, and why.
        var readiness = (status: 0, body: "")
        for _ in 0..<60 {
            readiness = try await httpGet("/readyz", port: replica.port)
            if readiness.status == 503 { break }
            try await Task.sleep(for: .milliseconds(250))
        }
        #expect(readiness.status == 503, "\(readiness.body)")
        #expect(
            readiness.body.contains("stuck (") || readiness.body.contains("unreachable"), "\(readiness.body)")
        let command = try await httpRequest(
            "POST", "/api/v1/messages", port: replica.port, token: token, json: #"{"text": "note frozen"}"#)
        // Refused, or answered that it could not be recorded; never run, never left without an answer.
        #expect(
            (command.status == 503 && command.body.contains("did not answer within 2 s"))
                || (command.status == 200 && command.body.contains("could not record this command")),
            "\(command.status) \(command.body)")
        let metrics = try await httpGet("/metrics", port: replica.port).body
        #expect(metrics.contains("parley_store_timeouts_total"), "\(metrics)")

        // The partition ends: the replica is ready again and runs commands, without a restart.
        proxy.cut()
        var ready = false
        for _ in 0..<120 where !ready {
            try await Task.sleep(for: .milliseconds(250))
            ready = try await httpGet("/readyz", port: replica.port).status == 200
        }
        #expect(ready)
        let after = try await httpRequest(
            "POST", "/api/v1/messages", port: replica.port, token: token, json: #"{"text": "note thawed"}"#)
        #expect(after.status == 200, "\(after.body)")
        let ran = ((try? String(contentsOf: directory.appendingPathComponent("ran.log"), encoding: .utf8)) ?? "")
            .split(separator: "\n")
        #expect(ran.contains("thawed") && !ran.contains("frozen"), "\(ran)")
        kill(replica.pid, SIGTERM)
        #expect(try await replica.waitForExit(within: .seconds(20)))
        try await TestPostgres.drop(database)
    }
}
