import Crypto
import Foundation
import ParleyCore
import ParleyStore

/// Writes audit entries as JSONL (verifiable offline with the public key) or CSV.
public enum AuditExport {
    /// The first line of a JSONL export. It is signed: it names the export's first and last entry and
    /// the last entry's hash, so an export cut at either end, recomputed, or passed off as filtered no
    /// longer matches its header.
    /// A value: one field per line of the export's signed header.
    public struct Header: Codable, Equatable {
        public var type = "parley-audit-export"
        public var version = 2
        public var exportedAt: String
        public var publicKey: String
        /// False when the export was filtered by user, command or kind, so entries need not follow one
        /// another.
        public var contiguous: Bool
        public var firstSeq: Int64?
        public var lastSeq: Int64?
        public var lastHash: String?
        /// True when the export runs to the head it signed at export time, so it ends in a checkpoint.
        public var throughHead: Bool?
        /// Base64 Ed25519 signature of `message`.
        public var signature: String?

        /// The bytes that are signed.
        public var message: Data {
            Data(
                "parley-audit-export-v2|\(exportedAt)|\(contiguous)|\(firstSeq ?? 0)|\(lastSeq ?? 0)|\(lastHash ?? "")|\(throughHead ?? false)"
                    .utf8)
        }

        /// True when the header is signed by `key`.
        public func isValid(for key: Curve25519.Signing.PublicKey) -> Bool {
            guard let signature, let bytes = Data(base64Encoded: signature) else { return false }
            return key.isValidSignature(bytes, for: message)
        }
    }

    /// A line of a JSONL export: an entry or a checkpoint.
    public struct Line: Codable {
        public var type: String
        public var entry: AuditEntry?
        public var checkpoint: AuditCheckpoint?
    }

    /// The export's text. A JSONL export first signs the current head through `log` (which also tells
    /// the witnesses), so an unfiltered export ends in a checkpoint; then it signs its header.
    public static func render(
        store: any AuditStore, query: AuditQuery, format: String, key: Curve25519.Signing.PrivateKey, log: AuditLog
    ) async throws -> String {
        var query = query
        var signedHead: Int64?
        if format == "jsonl", let head = try await log.checkpoint() {
            // Entries appended after the signature wait for the next export: the last one is signed.
            query.throughSeq = head.seq
            signedHead = head.seq
        }
        let entries = try await store.auditEntries(query)
        if format == "csv" { return csv(entries) }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var header = Header(
            exportedAt: AuditClock.format(Date()), publicKey: AuditKeys.publicKeyText(key),
            contiguous: query.isContiguous, firstSeq: entries.first?.seq, lastSeq: entries.last?.seq,
            lastHash: entries.last?.hash, throughHead: query.isContiguous && entries.last?.seq == signedHead)
        header.signature = try key.signature(for: header.message).base64EncodedString()
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
