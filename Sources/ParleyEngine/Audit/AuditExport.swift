import Crypto
import Foundation
import ParleyCore
import ParleyStore

/// Writes audit entries as JSONL (verifiable offline with the public key) or CSV.
public enum AuditExport {
    /// The first line of a JSONL export.
    public struct Header: Codable, Equatable {
        public var type = "parley-audit-export"
        public var version = 1
        public var exportedAt: String
        public var publicKey: String
        /// False when the export was filtered by user, so entries need not follow one another.
        public var contiguous: Bool
    }

    /// A line of a JSONL export: an entry or a checkpoint.
    public struct Line: Codable {
        public var type: String
        public var entry: AuditEntry?
        public var checkpoint: AuditCheckpoint?
    }

    /// The export's text. A JSONL export first signs the current head, so it ends in a checkpoint.
    public static func render(
        store: any AuditStore, query: AuditQuery, format: String, key: Curve25519.Signing.PrivateKey
    ) async throws -> String {
        if format == "jsonl", let head = try await store.lastAuditEntry() {
            try await store.insertCheckpoint(try AuditCheckpoint.sign(seq: head.seq, hash: head.hash, key: key))
        }
        let entries = try await store.auditEntries(query)
        if format == "csv" { return csv(entries) }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let header = Header(
            exportedAt: AuditClock.format(Date()), publicKey: AuditKeys.publicKeyText(key),
            contiguous: query.isContiguous)
        var lines = [String(decoding: try encoder.encode(header), as: UTF8.self)]
        for entry in entries {
            lines.append(String(decoding: try encoder.encode(Line(type: "entry", entry: entry)), as: UTF8.self))
        }
        let range = (entries.first?.seq ?? 0)...(entries.last?.seq ?? 0)
        for checkpoint in try await store.checkpoints() where range.contains(checkpoint.seq) {
            lines.append(
                String(decoding: try encoder.encode(Line(type: "checkpoint", checkpoint: checkpoint)), as: UTF8.self))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func csv(_ entries: [AuditEntry]) -> String {
        let header =
            "seq,at,kind,actor,identity,room,command,arguments,decision,outcome,run_id,detail,previous_hash,hash"
        let rows = entries.map { entry in
            [
                String(entry.seq), entry.at, entry.kind, entry.actor, entry.identity, entry.room, entry.command,
                entry.arguments, entry.decision, entry.outcome, entry.runID.map(String.init) ?? "", entry.detail,
                entry.previousHash, entry.hash,
            ].map(quote).joined(separator: ",")
        }
        return ([header] + rows).joined(separator: "\n") + "\n"
    }

    /// RFC 4180 quoting, with a leading quote on cells a spreadsheet would run as a formula.
    static func quote(_ cell: String) -> String {
        var value = cell
        if let first = value.first, "=+-@".contains(first) { value = "'" + value }
        guard value.contains(where: { ",\"\n\r".contains($0) }) || value != cell else { return value }
        return "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// One entry as a line for `parley audit tail`.
    public static func line(_ entry: AuditEntry) -> String {
        var parts = ["#\(entry.seq)", entry.at, entry.kind, entry.actor]
        if !entry.room.isEmpty { parts.append(entry.room) }
        if !entry.command.isEmpty { parts.append(entry.command) }
        if entry.arguments != "{}" { parts.append(entry.arguments) }
        if !entry.outcome.isEmpty { parts.append("→ " + entry.outcome) }
        if !entry.detail.isEmpty { parts.append("(\(entry.detail))") }
        return printable(parts.joined(separator: "  "))
    }

    /// Text safe for a terminal: line breaks shown as ⏎ and other control characters escaped, so
    /// that what someone typed in chat cannot move the cursor or recolour an auditor's screen.
    public static func printable(_ text: String) -> String {
        var result = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\n": result += " ⏎ "
            case "\t": result += " "
            case _ where scalar.properties.generalCategory == .control || scalar.value == 0x7F:
                result += "\\u{\(String(scalar.value, radix: 16))}"
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result
    }
}

/// Verifies the audit chain in the store, or in an export file.
public enum AuditVerification {
    /// What verification found.
    public struct Outcome: Sendable {
        public var entries: Int64
        public var checkpoints: Int
        public var problem: AuditVerifier.Problem?
        /// The last entry a valid signature covers; entries after it are only chained, not signed.
        public var signedThrough: Int64? = nil
        /// The last entry checked.
        public var lastSeq: Int64? = nil
    }

    /// Walks the whole chain in the store, a batch at a time, then checks the signed checkpoints.
    public static func verifyStore(_ store: any AuditStore, publicKey: Curve25519.Signing.PublicKey) async throws
        -> Outcome
    {
        let checkpoints = try await store.checkpoints()
        var verifier = try await store.feedAuditChain(
            to: AuditVerifier(checkpointSeqs: Set(checkpoints.map(\.seq))))
        verifier.finish(checkpoints: checkpoints, publicKey: publicKey)
        return Outcome(
            entries: verifier.count, checkpoints: checkpoints.count, problem: verifier.problem,
            signedThrough: checkpoints.map(\.seq).max(), lastSeq: verifier.lastSeq)
    }

    /// Verifies an export offline with only the public key.
    public static func verifyExport(path: String, publicKey: Curve25519.Signing.PublicKey) throws -> Outcome {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let decoder = JSONDecoder()
        var lines = text.split(separator: "\n", omittingEmptySubsequences: true).makeIterator()
        guard let first = lines.next(),
            let header = try? decoder.decode(AuditExport.Header.self, from: Data(first.utf8)),
            header.type == "parley-audit-export"
        else {
            return Outcome(entries: 0, checkpoints: 0, problem: .init(seq: 0, message: "is not a Parley audit export"))
        }
        var entries: [AuditEntry] = []
        var checkpoints: [AuditCheckpoint] = []
        var number = 1
        while let line = lines.next() {
            number += 1
            guard let decoded = try? decoder.decode(AuditExport.Line.self, from: Data(line.utf8)) else {
                return Outcome(
                    entries: 0, checkpoints: 0,
                    problem: .init(seq: 0, message: "line \(number) of the export is not valid"))
            }
            if let entry = decoded.entry { entries.append(entry) }
            if let checkpoint = decoded.checkpoint { checkpoints.append(checkpoint) }
        }
        var verifier = AuditVerifier(contiguous: header.contiguous, checkpointSeqs: Set(checkpoints.map(\.seq)))
        for entry in entries where !verifier.feed(entry) { break }
        verifier.finish(checkpoints: checkpoints, publicKey: publicKey)
        return Outcome(
            entries: verifier.count, checkpoints: checkpoints.count, problem: verifier.problem,
            signedThrough: checkpoints.map(\.seq).max(), lastSeq: entries.last?.seq)
    }
}
