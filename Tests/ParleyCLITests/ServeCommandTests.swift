import Foundation
import Testing

/// `parley serve` as an operator runs it: a real process, a real socket, a real SIGTERM.
@Suite struct ServeCommandTests {
    func writeConfig(_ directory: URL) throws -> String {
        let path = directory.appendingPathComponent("parley.yaml").path
        try """
        server: { listen: "127.0.0.1:0", shutdown_grace: 1s }
        users:
          alice: { roles: [ops], identities: ["local:alice"] }
        roles:
          ops: { allow: ["*"] }
        commands:
          slow:
            usage: slow
            action: { exec: ["sh", "-c", "echo started; sleep 60; echo never"] }
        """.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func sigtermDuringARunningCommandExitsCleanlyAndTheChainVerifies() async throws {
        let directory = try scratch()
        let config = try writeConfig(directory)
        let token = try await ParleyBinary.run(["tokens", "create", "--user", "alice", "--config", config]).output
            .trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(token.hasPrefix("plt_"))
        let errors = directory.appendingPathComponent("serve.err")
        let server = try await ServeProcess.start(
            config: config, log: directory.appendingPathComponent("serve.log"), errors: errors)
        let connection = try postMessage("slow", port: server.port, token: token)
        defer { close(connection) }
        // Wait until the run is on record as running, then stop the server.
        var running = false
        for _ in 0..<100 where !running {
            try await Task.sleep(for: .milliseconds(100))
            running = try await ParleyBinary.run([
                "run", "runs --status running", "--as", "local:alice", "--config", config,
            ])
            .output.contains("slow")
        }
        #expect(running)
        kill(server.pid, SIGTERM)
        let exited = try await server.waitForExit(within: .seconds(20))
        #expect(exited, "parley serve did not stop after SIGTERM")
        if !exited {
            kill(server.pid, SIGKILL)
            _ = server.reap()
        }
        #expect(server.exitedCleanly)
        let verify = try await ParleyBinary.run(["audit", "verify", "--config", config])
        #expect(verify.status == 0, "\(verify.output)")
        #expect(verify.output.contains("signed through"))
        let run = try await ParleyBinary.run(["run", "run 1", "--as", "local:alice", "--config", config])
        #expect(run.output.contains("interrupted"), "\(run.output)")
        #expect(!run.output.contains("never"))
        let audit = try await ParleyBinary.run(["audit", "tail", "-n", "50", "--config", config]).output
        #expect(audit.contains("interrupted"))
        // --log-format json: every line on stderr is one JSON object with a level and a message.
        let lines = try String(contentsOf: errors, encoding: .utf8).split(separator: "\n")
        #expect(lines.count >= 2)
        for line in lines {
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            #expect(object?["level"] != nil && object?["message"] != nil, "\(line)")
        }
        #expect(lines.contains { $0.contains("stopped 1 run(s) still in flight at shutdown") })
    }
}
