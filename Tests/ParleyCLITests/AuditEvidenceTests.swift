import Foundation
import ParleyConformance
import Testing

/// An intruder with write access to the database (or to an export) and the public hashing scheme:
/// cutting the tail, deleting checkpoints and recomputing the chain all end in exit 9, through the
/// checkpoint schedule, the signed export header and the witness file kept outside the database.
@Suite(.serialized) struct AuditEvidenceTests {
    /// A configuration that signs every 5 entries (so the verifier accepts at most 2 × 16 = 32
    /// unsigned) and keeps each signed head in `witness.jsonl` beside it.
    func populated(commands: Int = 70) async throws -> (config: String, data: String, witness: String) {
        let directory = try scratch()
        let config = directory.appendingPathComponent("parley.yaml").path
        try """
        users:
          alice: { roles: [sre], identities: ["local:*"] }
        roles:
          sre: { allow: ["*"] }
        audit:
          checkpoint_every: 5
          checkpoint_interval: 1h
          signing_key: file:keys/audit.key
          witnesses: ["file:witness.jsonl"]
        """.write(toFile: config, atomically: true, encoding: .utf8)
        let script = String(repeating: "ping\n", count: commands)
        let result = try await ParleyBinary.run(["chat", "--config", config], stdin: script)
        #expect(result.status == 0, "\(result.error)")
        return (
            config, directory.appendingPathComponent(".parley").path,
            directory.appendingPathComponent("witness.jsonl").path
        )
    }

    func sqlite(_ data: String, _ sql: String) async throws {
        let status = try await run(["sqlite3", data + "/parley.sqlite", sql])
        #expect(status == 0, "sqlite3 failed on: \(sql)")
    }

    func run(_ arguments: [String]) async throws -> Int32 {
        try await offThread {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = arguments
            try process.run()
            process.waitUntilExit()
            return process.terminationStatus
        }
    }

    func scalar(_ data: String, _ sql: String) async throws -> Int {
        try await offThread {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["sqlite3", data + "/parley.sqlite", sql]
            let output = Pipe()
            process.standardOutput = output
            try process.run()
            let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            return Int(text.trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
        }
    }

    func verify(_ config: String, _ extra: [String] = []) async throws -> ParleyBinary.Result {
        try await ParleyBinary.run(["audit", "verify", "--config", config] + extra)
    }

    /// Recomputes `hash` and `previousHash` from entry `from` on with the documented scheme, after
    /// changing that entry: what an intruder who read the README does. Python, independent of Parley.
    static let rechain = """
        import hashlib, json, sqlite3, sys
        def link(prev, e):
            fields = [str(e["seq"]), e["at"], e["kind"], e["actor"], e["identity"], e["room"], e["command"],
                      e["arguments"], e["decision"], e["outcome"],
                      "" if e.get("runID") is None else str(e["runID"]), e["detail"]]
            text = "parley-audit-v1" + "".join("|%d:%s" % (len(f.encode()), f) for f in fields)
            return hashlib.sha256(prev.encode() + text.encode()).hexdigest()
        path, start = sys.argv[1], int(sys.argv[2])
        if path.endswith(".sqlite"):
            db = sqlite3.connect(path)
            db.row_factory = sqlite3.Row
            prev = db.execute("SELECT hash FROM audit WHERE seq = ?", (start - 1,)).fetchone()[0]
            db.execute("UPDATE audit SET detail = 'nothing happened' WHERE seq = ?", (start,))
            for row in db.execute("SELECT * FROM audit WHERE seq >= ? ORDER BY seq", (start,)).fetchall():
                prev_hash, new = prev, link(prev, dict(row))
                db.execute("UPDATE audit SET previousHash = ?, hash = ? WHERE seq = ?", (prev_hash, new, row["seq"]))
                prev = new
            db.execute("DELETE FROM auditCheckpoint WHERE seq >= ?", (start,))
            db.commit()
        else:
            lines = [json.loads(line) for line in open(path)]
            out, prev = [], None
            for line in lines:
                e = line.get("entry")
                if e is not None and e["seq"] == start - 1: prev = e["hash"]
                if e is not None and e["seq"] >= start:
                    if e["seq"] == start: e["detail"] = "nothing happened"
                    e["previousHash"] = prev
                    e["hash"] = prev = link(prev, e)
                if line.get("checkpoint") is not None and line["checkpoint"]["seq"] >= start: continue
                out.append(json.dumps(line, sort_keys=True, separators=(",", ":"), ensure_ascii=False))
            open(path, "w").write("\\n".join(out) + "\\n")
        """

    func rechain(_ path: String, from start: Int) async throws {
        #expect(try await run(["python3", "-c", Self.rechain, path, String(start)]) == 0)
    }

    @Test func aLogSignedOnItsScheduleVerifiesAgainstItsWitness() async throws {
        let (config, _, witness) = try await populated()
        let result = try await verify(config, ["--witness", witness])
        #expect(result.status == 0, "\(result.output)\(result.error)")
        #expect(result.output.contains("extends all "))
        #expect(result.output.contains("signed through #"))
    }

    @Test(.requires(.sqlite3)) func deletingEveryCheckpointFailsVerification() async throws {
        let (config, data, _) = try await populated()
        try await sqlite(data, "DELETE FROM auditCheckpoint")
        let result = try await verify(config)
        #expect(result.status == 9, "\(result.output)")
        #expect(result.output.hasPrefix("TAMPERED: entry #1 and the "))
        #expect(result.output.contains("are covered by no signed checkpoint"))
        #expect(result.output.contains("checkpoints were removed or the chain was recomputed"))
    }

    @Test(.requires(.sqlite3)) func deletingCheckpointsFromTheMiddleNamesWhereTheGapStarts() async throws {
        let (config, data, _) = try await populated()
        let first = try await scalar(data, "SELECT MIN(seq) FROM auditCheckpoint")
        try await sqlite(data, "DELETE FROM auditCheckpoint WHERE seq > \(first) AND seq < \(first + 45)")
        let result = try await verify(config)
        #expect(result.status == 9, "\(result.output)")
        #expect(result.output.hasPrefix("TAMPERED: entry #\(first + 1) and the "))
        #expect(result.output.contains("have no checkpoint between them"))
    }

    @Test(.requires(.sqlite3)) func cuttingTheTailWithTheCheckpointsThatCoveredItFails() async throws {
        let (config, data, _) = try await populated()
        try await sqlite(data, "DELETE FROM audit WHERE seq > 50; DELETE FROM auditCheckpoint WHERE seq > 10")
        let result = try await verify(config)
        #expect(result.status == 9, "\(result.output)")
        #expect(result.output.contains("are covered by no signed checkpoint"))
    }

    @Test(.requires(.sqlite3)) func cuttingTheTailThroughACheckpointNamesTheMissingEntry() async throws {
        let (config, data, _) = try await populated()
        let last = try await scalar(data, "SELECT MAX(seq) FROM auditCheckpoint")
        try await sqlite(data, "DELETE FROM audit WHERE seq > \(last - 3)")
        let result = try await verify(config)
        #expect(result.status == 9)
        #expect(result.output.hasPrefix("TAMPERED: entry #\(last - 2) is missing: a signed checkpoint covers #"))
    }

    @Test(.requires(.sqlite3)) func aShortCutTailIsCaughtOnlyByTheWitness() async throws {
        let (config, data, witness) = try await populated()
        let last = try await scalar(data, "SELECT MAX(seq) FROM audit")
        try await sqlite(
            data, "DELETE FROM audit WHERE seq > \(last - 3); DELETE FROM auditCheckpoint WHERE seq > \(last - 6)")
        // The documented limit: a cut shorter than one interval leaves a chain that keeps to the schedule.
        let alone = try await verify(config)
        #expect(alone.status == 0, "\(alone.output)")
        let witnessed = try await verify(config, ["--witness", witness])
        #expect(witnessed.status == 9, "\(witnessed.output)")
        #expect(witnessed.output.hasPrefix("TAMPERED: entry #\(last - 2) is missing: \(witness) line "))
        #expect(witnessed.output.contains("but the log ends at #\(last - 3) (cut from the end)"))
    }

    @Test(.requires(.python3)) func recomputingTheChainFromAnEntryFailsVerification() async throws {
        let (config, data, witness) = try await populated()
        try await rechain(data + "/parley.sqlite", from: 20)
        let result = try await verify(config)
        #expect(result.status == 9, "\(result.output)")
        #expect(result.output.contains("are covered by no signed checkpoint"))
        let witnessed = try await verify(config, ["--witness", witness])
        #expect(witnessed.status == 9)
        #expect(witnessed.output.contains("differs from the signed head \(witness) line "))
        #expect(witnessed.output.contains("(the chain was rewritten or recomputed)"))
    }

    @Test(.requires(.sqlite3)) func aDroppedTableIsNamedNotAnSQLError() async throws {
        let (config, data, _) = try await populated(commands: 3)
        try await sqlite(data, "DROP TABLE auditCheckpoint")
        let checkpoints = try await verify(config)
        #expect(checkpoints.status == 9, "\(checkpoints.output)\(checkpoints.error)")
        #expect(
            checkpoints.output
                == "TAMPERED: the audit log's table auditCheckpoint is gone from the database (it was dropped)\n")
        let (other, otherData, _) = try await populated(commands: 3)
        try await sqlite(otherData, "DROP TABLE audit")
        let entries = try await verify(other)
        #expect(entries.status == 9)
        #expect(entries.output == "TAMPERED: the audit log's table audit is gone from the database (it was dropped)\n")
    }

    @Test func theSigningKeyLivesWhereTheConfigurationSays() async throws {
        let (config, data, _) = try await populated(commands: 3)
        let keyFile = URL(fileURLWithPath: config).deletingLastPathComponent().appendingPathComponent("keys/audit.key")
        #expect(FileManager.default.fileExists(atPath: keyFile.path))
        #expect(!FileManager.default.fileExists(atPath: data + "/audit-signing.key"))
        let attributes = try FileManager.default.attributesOfItem(atPath: keyFile.path)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        #expect(try await verify(config).status == 0)
    }

    func export(_ config: String) async throws -> (file: String, key: String) {
        let key = try await ParleyBinary.run(["audit", "public-key", "--config", config]).output
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let file = try scratch().appendingPathComponent("audit.jsonl").path
        let result = try await ParleyBinary.run(["audit", "export", "--config", config, "-o", file])
        #expect(result.status == 0, "\(result.error)")
        return (file, key)
    }

    func verifyExport(_ file: String, _ key: String, _ extra: [String] = []) async throws -> ParleyBinary.Result {
        try await ParleyBinary.run(["audit", "verify", "--export", file, "--public-key", key] + extra)
    }

    @Test func anExportWithItsCheckpointLinesRemovedFails() async throws {
        let (config, _, _) = try await populated()
        let (file, key) = try await export(config)
        #expect(try await verifyExport(file, key).status == 0)
        let lines = try String(contentsOfFile: file, encoding: .utf8).split(separator: "\n")
        let stripped = lines.filter { !$0.contains(#""type":"checkpoint""#) }
        #expect(stripped.count < lines.count)
        try (stripped.joined(separator: "\n") + "\n").write(toFile: file, atomically: true, encoding: .utf8)
        let result = try await verifyExport(file, key)
        #expect(result.status == 9, "\(result.output)")
        #expect(result.output.contains("is covered by no checkpoint, but an export ends in one"))
        let lastOnly = lines.dropLast()
        try (lastOnly.joined(separator: "\n") + "\n").write(toFile: file, atomically: true, encoding: .utf8)
        #expect(try await verifyExport(file, key).status == 9)
    }

    @Test(.requires(.python3)) func aRechainedExportFailsAgainstItsSignedHeaderAndTheWitness() async throws {
        let (config, _, witness) = try await populated()
        let (file, key) = try await export(config)
        try await rechain(file, from: 30)
        let result = try await verifyExport(file, key)
        #expect(result.status == 9, "\(result.output)")
        #expect(result.output.contains("differs from the export's signed header (the chain was recomputed)"))
        let witnessed = try await verifyExport(file, key, ["--witness", witness])
        #expect(witnessed.status == 9)
    }

    @Test func aCutExportFailsAgainstItsSignedHeader() async throws {
        let (config, _, _) = try await populated()
        let (file, key) = try await export(config)
        let lines = try String(contentsOfFile: file, encoding: .utf8).split(separator: "\n")
        let entries = lines.filter { $0.contains(#""type":"entry""#) }
        let cut = lines.filter { line in !entries.suffix(4).contains(line) && !line.contains(#""type":"checkpoint""#) }
        try (cut.joined(separator: "\n") + "\n").write(toFile: file, atomically: true, encoding: .utf8)
        let result = try await verifyExport(file, key)
        #expect(result.status == 9, "\(result.output)")
        #expect(result.output.contains("the export's signed header says it ends at #"))
    }
}
