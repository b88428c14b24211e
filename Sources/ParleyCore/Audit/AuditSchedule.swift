/// How often the head of the audit chain is signed: after `every` entries, and `intervalSeconds` after
/// the oldest entry no checkpoint covers yet. Each checkpoint carries the schedule it was signed under,
/// inside its signature, so whoever deletes rows cannot also relax the schedule the verifier applies.
public struct AuditSchedule: Sendable, Equatable, Codable, CustomStringConvertible {
    /// Entries between checkpoints.
    public var every: Int64
    /// Seconds between the oldest unsigned entry and the checkpoint that covers it.
    public var intervalSeconds: Int64

    /// Creates a schedule (values below 1 count as 1).
    public init(every: Int64, intervalSeconds: Int64) {
        self.every = max(1, every)
        self.intervalSeconds = max(1, intervalSeconds)
    }

    /// The default: every 100 entries or 5 minutes.
    public static let standard = AuditSchedule(every: 100, intervalSeconds: 300)

    /// The most entries a group commit holds: `every`, or 16 when `every` is smaller.
    public var batchLimit: Int64 { max(every, 16) }

    /// The most entries the verifier accepts without a checkpoint: one process closes every stretch at
    /// `every` entries at most (it signs before a group commit that would pass `every`, and a commit
    /// holds at most `batchLimit`), and another process sharing the database may land one group commit
    /// before the signature: twice `batchLimit`.
    public var maxUnsignedEntries: Int64 { 2 * batchLimit }

    /// How much later than the oldest unsigned entry another entry may be appended before a checkpoint
    /// covers the first: twice the interval (Parley signs before it appends once one interval has passed,
    /// and its timer looks at least four times per interval).
    public var maxUnsignedSeconds: Int64 { 2 * intervalSeconds }

    /// `a checkpoint every 100 entries or 5m`.
    public var description: String {
        "a checkpoint every \(every) entr\(every == 1 ? "y" : "ies") or \(Self.duration(intervalSeconds))"
    }

    /// `90s`, `5m`, `2h`.
    public static func duration(_ seconds: Int64) -> String {
        if seconds % 3600 == 0 { return "\(seconds / 3600)h" }
        if seconds % 60 == 0 { return "\(seconds / 60)m" }
        return "\(seconds)s"
    }
}
