import Foundation
import ParleyStore
import Testing

/// `kill -9` of `parley serve` with twenty programs running, a restart 0.2 s later on the same data,
/// five times in a row: nothing is left `running`, no program of a killed server lives on, and
/// nothing runs twice.
@Suite(.serialized) struct ServeCrashRecoveryTests {
    static let rounds = 5
    static let commandsPerRound = 20

    func writeConfig(_ directory: URL, marker: String) throws -> String {
        let path = directory.appendingPathComponent("parley.yaml").path
        let ran = directory.appendingPathComponent("ran.log").path
        try """
        server: { listen: "127.0.0.1:0", shutdown_grace: 1s }
        users:
          alice: { roles: [ops], identities: ["local:alice"] }
        roles:
          ops: { allow: ["*"] }
        commands:
          work:
            usage: "work {tag}"
            action: { exec: ["sh", "-c", "echo \\"$1\\" >> \(ran); sleep 30 & wait", "\(marker)", "{{tag}}"], timeout: 60s }
        """.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func ran(_ directory: URL) -> [String] {
        ((try? String(contentsOf: directory.appendingPathComponent("ran.log"), encoding: .utf8)) ?? "")
            .split(separator: "\n").map(String.init)
    }

    /// Waits until `condition` holds or `deadline` passes; returns whether it held.
    func wait(upTo deadline: Duration, _ condition: () async throws -> Bool) async throws -> Bool {
        let end = ContinuousClock.now + deadline
        while ContinuousClock.now < end {
            if try await condition() { return true }
            try await Task.sleep(for: .milliseconds(50))
        }
        return try await condition()
    }

    @Test func killedServersLeaveNoRunRunningNoProgramAliveAndNothingRunsTwice() async throws {
        let directory = try scratch()
        let marker = "parley-crash-" + UUID().uuidString
        let config = try writeConfig(directory, marker: marker)
        let token = try await ParleyBinary.run(["tokens", "create", "--user", "alice", "--config", config]).output
            .trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(token.hasPrefix("plt_"))
        let host = ProcessInfo.processInfo.hostName
        var server = try await ServeProcess.start(
            config: config, log: directory.appendingPathComponent("serve-0.log"),
            errors: directory.appendingPathComponent("serve-0.err"))
        let store = try SQLiteStore(dataDirectory: directory.appendingPathComponent(".parley").path)
        var groups = Set<Int32>()
        var killed: [ServeProcess] = []
        var tags: [String] = []
        for round in 1...Self.rounds {
            let roundTags = (1...Self.commandsPerRound).map { "r\(round)c\($0)" }
            tags += roundTags
            var sockets: [Int32] = []
            for tag in roundTags { sockets.append(try postMessage("work \(tag)", port: server.port, token: token)) }
            // Every program of this round runs and its process group is on record with the run.
            let owner = "\(host)/\(server.pid)/"
            let started = try await wait(upTo: .seconds(30)) {
                let noted = try await store.runs(RunQuery(limit: 1000, commandID: "work", status: .running))
                    .filter { $0.owner?.hasPrefix(owner) == true && $0.processGroup != nil }
                let written = Set(ran(directory))
                return noted.count == Self.commandsPerRound && roundTags.allSatisfy(written.contains)
            }
            #expect(started, "round \(round): the \(Self.commandsPerRound) programs did not all start")
            for program in processes(withMarker: marker) { groups.insert(program.group) }
            kill(server.pid, SIGKILL)
            // Not reaped: the dead server stays a zombie while the next one starts.
            killed.append(server)
            for socket in sockets { close(socket) }
            try await Task.sleep(for: .milliseconds(200))
            server = try await ServeProcess.start(
                config: config, log: directory.appendingPathComponent("serve-\(round).log"),
                errors: directory.appendingPathComponent("serve-\(round).err"))
        }
        #expect(groups.count >= Self.rounds * Self.commandsPerRound)
        defer { for server in killed { _ = server.reap() } }

        // The last server settles everything the killed ones left (at start, or on its next round).
        let settled = try await wait(upTo: .seconds(30)) {
            try await store.runs(RunQuery(limit: 1000, status: .running)).isEmpty
                && processes(withMarker: marker).isEmpty && liveMembers(ofGroups: groups).isEmpty
        }
        #expect(settled)
        #expect(processes(withMarker: marker).isEmpty, "a killed server's program is still running")
        #expect(liveMembers(ofGroups: groups).isEmpty, "a killed server's program group still has members")
        let runs = try await store.runs(RunQuery(limit: 1000, commandID: "work"))
        #expect(runs.count == tags.count)
        #expect(runs.allSatisfy { $0.status == .interrupted }, "\(runs.map(\.status))")
        #expect(runs.map(\.text).sorted() == tags.map { "work \($0)" }.sorted(), "each command is one run")
        #expect(ran(directory).sorted() == tags.sorted(), "each program ran once")

        kill(server.pid, SIGTERM)
        #expect(try await server.waitForExit(within: .seconds(10)))
        let verify = try await ParleyBinary.run(["audit", "verify", "--config", config])
        #expect(verify.status == 0, "\(verify.output)")
        let interrupted = try await store.auditEntries(AuditQuery(afterSeq: 0, limit: 10_000))
            .filter { $0.kind == "interrupted" }
        #expect(Set(interrupted.compactMap(\.runID)) == Set(runs.compactMap(\.id)), "each interruption is audited")
        #expect(interrupted.count == runs.count, "and audited once")
        print("crash recovery: \(runs.count) runs over \(Self.rounds) kill -9 restarts, all interrupted once")
    }

    @Test func sigtermStopsAnIdleServerPromptlyAndFreesItsPort() async throws {
        let directory = try scratch()
        let config = try writeConfig(directory, marker: "parley-idle-" + UUID().uuidString)
        let server = try await ServeProcess.start(
            config: config, log: directory.appendingPathComponent("serve.log"),
            errors: directory.appendingPathComponent("serve.err"))
        let started = ContinuousClock.now
        kill(server.pid, SIGTERM)
        let exited = try await server.waitForExit(within: .seconds(3))
        let took = ContinuousClock.now - started
        #expect(exited, "parley serve did not stop within 3 s of SIGTERM")
        if !exited {
            kill(server.pid, SIGKILL)
            _ = server.reap()
        }
        #expect(server.exitedCleanly, "exit status \(server.exitStatus.map(String.init) ?? "none")")
        #expect(canBind(port: server.port), "the port is free for a restart straight after")
        print("idle parley serve stopped \(took) after SIGTERM")
    }
}
