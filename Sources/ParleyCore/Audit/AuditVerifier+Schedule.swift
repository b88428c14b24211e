import Crypto
import Foundation

/// A signed head of the chain as a witness kept it, outside the database (a witness file's line, or an
/// earlier export's checkpoint).
public struct AuditWitnessedHead: Sendable, Equatable {
    /// The signed head.
    public var checkpoint: AuditCheckpoint
    /// Where it was kept, for messages: `witness.jsonl line 3`.
    public var source: String

    /// Creates a witnessed head.
    public init(checkpoint: AuditCheckpoint, source: String) {
        self.checkpoint = checkpoint
        self.source = source
    }
}

extension AuditVerifier {
    /// Every witnessed head must be Parley's, and the chain must still hold it: the same hash at its
    /// entry, and entries at least up to it. A chain that was cut below a witnessed head, or recomputed
    /// from any entry it covers, no longer extends it.
    mutating func checkWitnesses(_ witnessed: [AuditWitnessedHead], publicKey: Curve25519.Signing.PublicKey) {
        for head in witnessed.sorted(by: { $0.checkpoint.seq < $1.checkpoint.seq }) {
            let checkpoint = head.checkpoint
            guard checkpoint.isValid(for: publicKey) else {
                _ = fail(0, "\(head.source): the head it records for #\(checkpoint.seq) is not signed by Parley's key")
                return
            }
            if let hash = hashes[checkpoint.seq] {
                guard hash == checkpoint.hash else {
                    _ = fail(
                        checkpoint.seq,
                        "differs from the signed head \(head.source) recorded (the chain was rewritten or recomputed)")
                    return
                }
            } else if checkpoint.seq > (lastSeq ?? 0) {
                let last = lastSeq ?? 0
                let end = last == 0 ? "the log is empty" : "the log ends at #\(last)"
                _ = fail(
                    last + 1,
                    "is missing: \(head.source) recorded a signed head at #\(checkpoint.seq) but \(end) (cut from the end)"
                )
                return
            }
        }
    }

    /// Holds the distance between checkpoints to the schedule: each stretch they close to the schedule
    /// its closing checkpoint states (checkpoints that state none, signed before schedules were
    /// recorded, are not judged), and the entries after the last checkpoint to `tailSchedule`.
    mutating func checkSchedule(checkpoints: [AuditCheckpoint], tailSchedule: AuditSchedule?) {
        guard let start = firstSeq, let last = lastSeq else { return }
        var previous = start - 1
        for checkpoint in checkpoints.sorted(by: { $0.seq < $1.seq }) where checkpoint.seq > previous {
            guard checkpoint.seq <= last else { break }
            if let schedule = checkpoint.schedule,
                !checkStretch(after: previous, through: checkpoint.seq, endAt: times[checkpoint.seq], schedule, true)
            {
                return
            }
            previous = checkpoint.seq
        }
        if last > previous, let tailSchedule {
            _ = checkStretch(
                after: previous, through: last, endAt: String(decoding: lastAt, as: UTF8.self), tailSchedule, false)
        }
    }

    /// One stretch of entries with no checkpoint inside: `previous` is the checkpoint before it (or the
    /// entry before the first), `end` its last entry.
    private mutating func checkStretch(
        after previous: Int64, through end: Int64, endAt: String?, _ schedule: AuditSchedule, _ closed: Bool
    ) -> Bool {
        let count = end - previous
        let cause = "checkpoints were removed or the chain was recomputed"
        if count > schedule.maxUnsignedEntries {
            let span =
                closed
                ? "and the \(count - 1) entries after it up to the checkpoint at #\(end) have no checkpoint between them"
                : "and the \(count - 1) entries after it are covered by no signed checkpoint"
            return fail(
                previous + 1,
                "\(span), but the schedule (\(schedule)) allows at most \(schedule.maxUnsignedEntries): \(cause)")
        }
        guard let startText = times[previous + 1], let endText = endAt, let startDate = AuditClock.parse(startText),
            let endDate = AuditClock.parse(endText)
        else { return true }
        let elapsed = Int64(endDate.timeIntervalSince(startDate))
        if elapsed > schedule.maxUnsignedSeconds {
            return fail(
                previous + 1,
                "was still covered by no checkpoint when #\(end) was appended \(AuditSchedule.duration(elapsed)) later, "
                    + "but the schedule (\(schedule)) needs one within \(AuditSchedule.duration(schedule.maxUnsignedSeconds)): \(cause)"
            )
        }
        return true
    }
}
