import Foundation
import Testing

/// `kill -9` in the middle of a runbook step, then a restart: the run resumes (idempotent step) or is
/// marked interrupted (any other), and nothing that finished runs twice — the side-effect file says so.
@Suite(.serialized) struct CrashRecoveryTests {
    func config(_ directory: URL, idempotent: Bool) throws -> String {
        let path = directory.appendingPathComponent("parley.yaml").path
        try """
        users:
          alice: { roles: [ops], identities: ["local:alice"] }
        roles:
          ops: { allow: ["*"] }
        commands:
          migrate:
            usage: migrate
            runbook:
              steps:
                - name: backup
                  action: { exec: ["sh", "-c", "echo backup >> side.log"] }
                - name: copy
                  idempotent: \(idempotent)
                  action: { exec: ["sh", "-c", "echo $$$$ > copy.pid; echo copy-start >> side.log; if [ -f resumed ]; then echo resumed; else touch resumed; sleep 60; fi; echo copy-end >> side.log"] }
                - name: switch
                  action: { exec: ["sh", "-c", "echo switch >> side.log"] }
        """.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// True while `pid` runs (a zombie waiting to be reaped has stopped running).
    func isRunning(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return false }
        return stat[stat.index(close, offsetBy: 2)] != "Z"
    }

    func side(_ directory: URL) -> [String] {
        ((try? String(contentsOf: directory.appendingPathComponent("side.log"), encoding: .utf8)) ?? "")
            .split(separator: "\n").map(String.init)
    }

    /// Starts the runbook in `parley chat`, waits until step `copy` is running, then kill -9.
    func crashDuringCopy(_ config: String, _ directory: URL) async throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: ParleyBinary.path)
        process.arguments = ["chat", "--as", "local:alice", "--config", config]
        let input = Pipe()
        process.standardInput = input
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        input.fileHandleForWriting.write(Data("migrate\n".utf8))
        for _ in 0..<100 where !side(directory).contains("copy-start") { try await Task.sleep(for: .milliseconds(100)) }
        #expect(side(directory) == ["backup", "copy-start"])
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        try? input.fileHandleForWriting.close()
    }

    /// Restarts Parley: `parley chat` with nothing to say resumes what it can, then exits.
    func restart(_ config: String) async throws -> ParleyBinary.Result {
        try await ParleyBinary.run(["chat", "--as", "local:alice", "--config", config], stdin: "")
    }

    @Test func anIdempotentStepResumesAndNothingFinishedRunsTwice() async throws {
        let directory = try scratch()
        let config = try config(directory, idempotent: true)
        try await crashDuringCopy(config, directory)
        _ = try await restart(config)
        #expect(side(directory) == ["backup", "copy-start", "copy-start", "copy-end", "switch"])
        let run = try await ParleyBinary.run(["run", "run 1", "--as", "local:alice", "--config", config]).output
        #expect(run.range(of: #"status: +succeeded"#, options: .regularExpression) != nil, "\(run)")
        let audit = try await ParleyBinary.run(["audit", "tail", "-n", "100", "--config", config]).output
        #expect(audit.contains("resuming at step 2"))
    }

    @Test func aStepThatIsNotIdempotentIsMarkedInterruptedNeverRerun() async throws {
        let directory = try scratch()
        let config = try config(directory, idempotent: false)
        try await crashDuringCopy(config, directory)
        let orphan = try #require(
            Int32(
                try String(contentsOf: directory.appendingPathComponent("copy.pid"), encoding: .utf8)
                    .trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(isRunning(orphan), "the crashed run's program is still running before the restart")
        _ = try await restart(config)
        for _ in 0..<200 where isRunning(orphan) { try await Task.sleep(for: .milliseconds(50)) }
        #expect(!isRunning(orphan), "the restart stops what the crashed process left running")
        // The program is gone, so what it would have written next can no longer come.
        #expect(side(directory) == ["backup", "copy-start"], "the killed step must not finish or run again")
        let run = try await ParleyBinary.run(["run", "run 1", "--as", "local:alice", "--config", config]).output
        #expect(run.range(of: #"status: +interrupted"#, options: .regularExpression) != nil, "\(run)")
        let audit = try await ParleyBinary.run(["audit", "verify", "--config", config])
        #expect(audit.status == 0, "\(audit.output)")
    }
}
