import Crypto
import Foundation
import ParleyCore
import ParleyStore

/// Verifies the audit chain in the store, or in an export file, against its checkpoints, its schedule
/// and the heads its witnesses kept.
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
        /// How many witnessed heads the chain was held against.
        public var witnessed = 0

        static func failed(_ message: String, seq: Int64 = 0) -> Outcome {
            Outcome(entries: 0, checkpoints: 0, problem: .init(seq: seq, message: message))
        }
    }

    /// Walks the whole chain in the store, a batch at a time, then checks the signed checkpoints, the
    /// schedule (`schedule` for the entries after the last checkpoint) and the witnessed heads.
    public static func verifyStore(
        _ store: any AuditStore, publicKey: Curve25519.Signing.PublicKey, schedule: AuditSchedule = .standard,
        witnessed: [AuditWitnessedHead] = []
    ) async throws -> Outcome {
        do {
            let checkpoints = try await store.checkpoints()
            let seqs = Set(checkpoints.map(\.seq) + witnessed.map(\.checkpoint.seq))
            var verifier = try await store.feedAuditChain(to: AuditVerifier(fromGenesis: true, checkpointSeqs: seqs))
            verifier.finish(
                checkpoints: checkpoints, publicKey: publicKey, tailSchedule: schedule, witnessed: witnessed)
            return Outcome(
                entries: verifier.count, checkpoints: checkpoints.count, problem: verifier.problem,
                signedThrough: checkpoints.map(\.seq).max(), lastSeq: verifier.lastSeq, witnessed: witnessed.count)
        } catch StoreError.missingTable(let name) {
            return .failed("the audit log's table \(name) is gone from the database (it was dropped)")
        }
    }

    /// Verifies an export offline with only the public key. The export's signed header must match its
    /// entries; a whole (unfiltered) export must end in a checkpoint and keep to the schedule its
    /// checkpoints state (or `schedule`, when given, for the entries after the last one).
    public static func verifyExport(
        path: String, publicKey: Curve25519.Signing.PublicKey, schedule: AuditSchedule? = nil,
        witnessed: [AuditWitnessedHead] = []
    ) throws -> Outcome {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let decoder = JSONDecoder()
        var lines = text.split(separator: "\n", omittingEmptySubsequences: true).makeIterator()
        guard let first = lines.next(),
            let header = try? decoder.decode(AuditExport.Header.self, from: Data(first.utf8)),
            header.type == "parley-audit-export"
        else {
            return .failed("is not a Parley audit export")
        }
        guard header.isValid(for: publicKey) else {
            return .failed(
                "the export's header is not signed by this public key (altered, made by an older Parley, or the wrong key)"
            )
        }
        var entries: [AuditEntry] = []
        var checkpoints: [AuditCheckpoint] = []
        var number = 1
        while let line = lines.next() {
            number += 1
            guard let decoded = try? decoder.decode(AuditExport.Line.self, from: Data(line.utf8)) else {
                return .failed("line \(number) of the export is not valid")
            }
            if let entry = decoded.entry { entries.append(entry) }
            if let checkpoint = decoded.checkpoint { checkpoints.append(checkpoint) }
        }
        // Heads witnessed after the export was made are not in it; its signed header says where it ends.
        let witnessed = witnessed.filter { $0.checkpoint.seq <= (header.lastSeq ?? 0) }
        let seqs = Set(checkpoints.map(\.seq) + witnessed.map(\.checkpoint.seq))
        var verifier = AuditVerifier(contiguous: header.contiguous, checkpointSeqs: seqs)
        for entry in entries where !verifier.feed(entry) { break }
        var outcome = Outcome(
            entries: verifier.count, checkpoints: checkpoints.count, problem: verifier.problem,
            signedThrough: checkpoints.map(\.seq).max(), lastSeq: entries.last?.seq, witnessed: witnessed.count)
        guard outcome.problem == nil else { return outcome }
        if let problem = headerProblem(header, entries: entries, checkpoints: checkpoints) {
            outcome.problem = problem
            return outcome
        }
        let stated = checkpoints.max { $0.seq < $1.seq }?.schedule
        verifier.finish(
            checkpoints: checkpoints, publicKey: publicKey, tailSchedule: schedule ?? stated ?? .standard,
            witnessed: witnessed)
        outcome.problem = verifier.problem
        return outcome
    }

    /// The entries must be the ones the signed header names, and a whole export ends in a checkpoint.
    private static func headerProblem(
        _ header: AuditExport.Header, entries: [AuditEntry], checkpoints: [AuditCheckpoint]
    ) -> AuditVerifier.Problem? {
        let firstSeq = entries.first?.seq
        let lastSeq = entries.last?.seq
        if let expected = header.firstSeq, firstSeq != expected {
            return .init(
                seq: expected,
                message: "is missing: the export's signed header says it starts at #\(expected) (cut from the start)")
        }
        if let expected = header.lastSeq, lastSeq != expected {
            let last = lastSeq ?? 0
            return .init(
                seq: min(last + 1, expected),
                message: "is missing: the export's signed header says it ends at #\(expected) (cut from the end)")
        }
        if let entry = entries.last, entry.hash != header.lastHash {
            return .init(
                seq: entry.seq, message: "differs from the export's signed header (the chain was recomputed)")
        }
        if header.throughHead == true, let lastSeq, !checkpoints.contains(where: { $0.seq == lastSeq }) {
            let signed = checkpoints.map(\.seq).max().map { "#\($0)" } ?? "no entry"
            return .init(
                seq: lastSeq,
                message:
                    "is covered by no checkpoint, but an export ends in one; its checkpoints cover \(signed) (checkpoint lines were removed)"
            )
        }
        return nil
    }

    /// The signed heads a witness file kept (a witness JSONL file, or an earlier export: its checkpoint
    /// lines count, other lines are skipped).
    public static func witnessedHeads(path: String) throws -> [AuditWitnessedHead] {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw AuditWitnessError(message: "cannot read the witness file \(path): \(error.localizedDescription)")
        }
        return try witnessedHeads(text: text, source: path)
    }

    /// The checkpoints in JSON Lines `text` (non-checkpoint lines of an export are skipped);
    /// `source` names where they came from in messages.
    public static func witnessedHeads(text: String, source path: String) throws -> [AuditWitnessedHead] {
        let decoder = JSONDecoder()
        var heads: [AuditWitnessedHead] = []
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            guard !line.trimmingCharacters(in: .whitespaces).isEmpty else { continue }
            guard let decoded = try? decoder.decode(AuditExport.Line.self, from: Data(line.utf8)) else {
                throw AuditWitnessError(message: "line \(index + 1) of the witness \(path) is not a checkpoint")
            }
            if let checkpoint = decoded.checkpoint {
                heads.append(AuditWitnessedHead(checkpoint: checkpoint, source: "\(path) line \(index + 1)"))
            }
        }
        return heads
    }
}
