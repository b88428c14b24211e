import Foundation
import ParleyConformance
import Testing

/// Tampering with the audit log the way an intruder would, with the sqlite3 command-line tool, and
/// checking that `parley audit verify` names the entry each time.
@Suite(.serialized) struct AuditCommandTests {
    let example = ParleyBinary.repository.appendingPathComponent("examples/parley.yaml").path

    /// A data directory with a few dozen audit entries from real commands.
    func populated() async throws -> String {
        let data = try scratch().path
        let script =
            "status api\nlogs tail web --lines 2\nhelp\nscale web to 2\nwhoami\necho \u{1B}[31mred\ndeploy api to moon\n"
        let result = try await ParleyBinary.run(["chat", "--config", example, "--data-dir", data], stdin: script)
        #expect(result.status == 0, "\(result.error)")
        return data
    }

    func sqlite(_ data: String, _ sql: String) async throws {
        let status = try await offThread {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["sqlite3", data + "/parley.sqlite", sql]
            try process.run()
            process.waitUntilExit()
            return process.terminationStatus
        }
        #expect(status == 0, "sqlite3 failed on: \(sql)")
    }

    func verify(_ data: String) async throws -> ParleyBinary.Result {
        try await ParleyBinary.run(["audit", "verify", "--config", example, "--data-dir", data])
    }

    @Test func anUntouchedLogVerifies() async throws {
        let result = try await verify(try await populated())
        #expect(result.status == 0, "\(result.output)\(result.error)")
        #expect(result.output.hasPrefix("intact: "))
        #expect(result.output.contains("signed through #"))
    }

    @Test(.requires(.sqlite3)) func changingOneFieldOfOneRowIsNamed() async throws {
        let data = try await populated()
        try await sqlite(data, "UPDATE audit SET actor = 'mallory' WHERE seq = 4")
        let result = try await verify(data)
        #expect(result.status == 9)
        #expect(result.output.hasPrefix("TAMPERED: entry #4 does not match its hash"))
    }

    @Test(.requires(.sqlite3)) func deletingARowIsNamed() async throws {
        let data = try await populated()
        try await sqlite(data, "DELETE FROM audit WHERE seq = 6")
        let result = try await verify(data)
        #expect(result.status == 9)
        #expect(result.output.hasPrefix("TAMPERED: entry #6 is missing"))
    }

    @Test(.requires(.sqlite3)) func swappingTwoRowsIsNamed() async throws {
        let data = try await populated()
        try await sqlite(
            data,
            "UPDATE audit SET seq = -1 WHERE seq = 5; UPDATE audit SET seq = 5 WHERE seq = 6; UPDATE audit SET seq = 6 WHERE seq = -1;"
        )
        let result = try await verify(data)
        #expect(result.status == 9)
        #expect(result.output.hasPrefix("TAMPERED: entry #5 "))
    }

    @Test(.requires(.sqlite3)) func insertingAForgedRowIsNamed() async throws {
        let data = try await populated()
        try await sqlite(
            data,
            """
            UPDATE audit SET seq = seq + 1000 WHERE seq >= 3; UPDATE audit SET seq = seq - 999 WHERE seq >= 1003;
            INSERT INTO audit VALUES (3, '2026-11-26T00:00:00.000Z', 'started', 'mallory', 'local:mallory', 'terminal',
              'deploy', '{}', 'allowed', '', NULL, '', (SELECT hash FROM audit WHERE seq = 2), 'forged');
            """)
        let result = try await verify(data)
        #expect(result.status == 9)
        #expect(result.output.hasPrefix("TAMPERED: entry #3 "))
    }

    @Test(.requires(.sqlite3)) func removingEntriesFromTheEndIsCaughtByTheSignedCheckpoint() async throws {
        let data = try await populated()
        try await sqlite(data, "DELETE FROM audit WHERE seq >= (SELECT MAX(seq) - 1 FROM audit)")
        let result = try await verify(data)
        #expect(result.status == 9)
        #expect(result.output.contains("removed from the end"))
    }

    @Test func anExportVerifiesOfflineWithThePublicKeyAndCatchesTampering() async throws {
        let data = try await populated()
        let key = try await ParleyBinary.run(["audit", "public-key", "--config", example, "--data-dir", data]).output
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let file = try scratch().appendingPathComponent("audit.jsonl").path
        let export = try await ParleyBinary.run([
            "audit", "export", "--config", example, "--data-dir", data, "-o", file,
        ])
        #expect(export.status == 0, "\(export.error)")
        let intact = try await ParleyBinary.run(["audit", "verify", "--export", file, "--public-key", key])
        #expect(intact.status == 0, "\(intact.output)\(intact.error)")
        #expect(intact.output.contains("signed through"))

        var lines = try String(contentsOfFile: file, encoding: .utf8).split(separator: "\n").map(String.init)
        let original = lines
        lines[3] = lines[3].replacingOccurrences(of: "\"actor\":\"alice\"", with: "\"actor\":\"bob\"")
        #expect(lines != original)
        try (lines.joined(separator: "\n") + "\n").write(toFile: file, atomically: true, encoding: .utf8)
        let modified = try await ParleyBinary.run(["audit", "verify", "--export", file, "--public-key", key])
        #expect(modified.status == 9)
        #expect(modified.output.hasPrefix("TAMPERED: entry #3 "))

        var deleted = original
        deleted.remove(at: 5)
        try (deleted.joined(separator: "\n") + "\n").write(toFile: file, atomically: true, encoding: .utf8)
        let gap = try await ParleyBinary.run(["audit", "verify", "--export", file, "--public-key", key])
        #expect(gap.output.hasPrefix("TAMPERED: entry #5 is missing"))

        let otherKey = "MCowBQYDK2VwAyEA3ZhIXnVCbbJ5dS6yv2ioOO1oYzN8FqBEHJU2n6xA1Pk="
        try (original.joined(separator: "\n") + "\n").write(toFile: file, atomically: true, encoding: .utf8)
        let wrongKey = try await ParleyBinary.run(["audit", "verify", "--export", file, "--public-key", otherKey])
        #expect(wrongKey.status != 0)
    }

    @Test func csvExportQuotesCellsAndDefusesFormulas() async throws {
        let data = try scratch().path
        _ = try await ParleyBinary.run(["run", "echo =1+1, \"quoted\"", "--config", example, "--data-dir", data])
        let csv = try await ParleyBinary.run([
            "audit", "export", "--format", "csv", "--config", example, "--data-dir", data,
        ])
        #expect(csv.status == 0)
        #expect(csv.output.hasPrefix("seq,at,kind,actor,identity,room,command,arguments"))
        #expect(csv.output.contains(#""'=1+1, ""quoted"""#) || csv.output.contains(#""echo =1+1, ""quoted""""#))
    }

    @Test func tailNeverPassesTerminalControlCharactersThrough() async throws {
        let data = try await populated()
        let tail = try await ParleyBinary.run(["audit", "tail", "-n", "50", "--config", example, "--data-dir", data])
        #expect(tail.output.contains("echo \\u{1b}[31mred"))
        #expect(!tail.output.contains("\u{1B}"))
    }

    @Test func tailShowsTheNewestEntries() async throws {
        let data = try await populated()
        let tail = try await ParleyBinary.run(["audit", "tail", "-n", "3", "--config", example, "--data-dir", data])
        #expect(tail.status == 0)
        let lines = tail.output.split(separator: "\n")
        #expect(lines.count == 3)
        #expect(lines.last?.contains("rejected") == true)
        #expect(lines.last?.contains("expected staging or prod ⏎ usage: deploy") == true)
    }
}

@Suite struct PolicyCommandTests {
    let example = ParleyBinary.repository.appendingPathComponent("examples/parley.yaml").path

    @Test func checkExplainsADecisionWithoutRunningAnything() async throws {
        let data = try scratch().path
        let denied = try await ParleyBinary.run(
            ["policy", "check", "--as", "local:bob", "deploy api to prod", "--config", example, "--data-dir", data])
        #expect(denied.status == 4)
        #expect(denied.output.contains("decision: denied"))
        #expect(denied.output.contains("by:       rule 'deploy to prod'"))
        #expect(denied.output.contains("reason:   deploy to prod needs role sre; you have developer"))
        let allowed = try await ParleyBinary.run(
            ["policy", "check", "--as", "local:carol", "deploy api to prod", "--config", example, "--data-dir", data])
        #expect(allowed.status == 0)
        #expect(allowed.output.contains("requires: 1 approval from sre"))
        #expect(!FileManager.default.fileExists(atPath: data + "/parley.sqlite"))
    }

    @Test func diffListsWhatAChangeGrantsAndRevokes() async throws {
        let directory = try scratch()
        let old = directory.appendingPathComponent("old.yaml")
        let new = directory.appendingPathComponent("new.yaml")
        let base = """
            users:
              bob: { roles: [developer], identities: ["local:bob"] }
              alice: { roles: [sre], identities: ["local:alice"] }
            roles:
              sre: { allow: ["*"] }
              developer: { allow: [DEVELOPER] }
            commands:
              deploy:
                usage: "deploy {app:choice(api,web)} to {env:choice(staging,prod)}"
                action: { exec: ["true"] }
                rules:
                  - when: 'env == "prod"'
                    require: { roles: [ROLE] }
            """
        try base.replacingOccurrences(of: "DEVELOPER", with: "help").replacingOccurrences(of: "ROLE", with: "sre")
            .write(to: old, atomically: true, encoding: .utf8)
        try base.replacingOccurrences(of: "DEVELOPER", with: "deploy").replacingOccurrences(of: "ROLE", with: "sre")
            .write(to: new, atomically: true, encoding: .utf8)
        let result = try await ParleyBinary.run(["policy", "diff", old.path, new.path])
        #expect(result.status == 1)
        #expect(result.output.contains("bob may now run deploy (app=api env=staging)"))
        #expect(result.output.contains("bob may now run deploy (app=web env=staging)"))
        #expect(!result.output.contains("env=prod"))
        #expect(result.output.contains("bob may no longer run help"))
        #expect(!result.output.contains("alice"))
        let wider = directory.appendingPathComponent("wider.yaml")
        try base.replacingOccurrences(of: "DEVELOPER", with: "deploy").replacingOccurrences(
            of: "ROLE", with: "developer, sre"
        )
        .write(to: wider, atomically: true, encoding: .utf8)
        let all = try await ParleyBinary.run(["policy", "diff", new.path, wider.path])
        #expect(all.output == "bob may now run deploy (app=api env=prod)\nbob may now run deploy (app=web env=prod)\n")
        let same = try await ParleyBinary.run(["policy", "diff", old.path, old.path])
        #expect(same.status == 0)
        #expect(same.output.contains("no change"))
    }
}
