import Crypto
import Foundation

/// A signed statement "the chain's entry number `seq` has hash `hash`", made with Parley's Ed25519 key:
/// a signed tree head, in Certificate Transparency's words.
///
/// With checkpoints, an auditor who holds only the public key can tell that an export was not
/// rewritten after the fact, including entries removed from its end. A checkpoint also states, under
/// its signature, the schedule it was signed under (`every`, `intervalSeconds`), so that a verifier
/// knows how far apart checkpoints may be and notices when some were deleted.
public struct AuditCheckpoint: Sendable, Equatable, Codable {
    public var seq: Int64
    public var hash: String
    public var at: String
    /// Base64 Ed25519 signature of `message`.
    public var signature: String
    /// The schedule's entry count; nil on checkpoints signed before schedules were recorded.
    public var every: Int64?
    /// The schedule's interval in seconds; nil on checkpoints signed before schedules were recorded.
    public var intervalSeconds: Int64?

    /// Creates a checkpoint.
    public init(
        seq: Int64, hash: String, at: String, signature: String, every: Int64? = nil, intervalSeconds: Int64? = nil
    ) {
        self.seq = seq
        self.hash = hash
        self.at = at
        self.signature = signature
        self.every = every
        self.intervalSeconds = intervalSeconds
    }

    /// The schedule this checkpoint was signed under, when it states one.
    public var schedule: AuditSchedule? {
        guard let every, let intervalSeconds else { return nil }
        return AuditSchedule(every: every, intervalSeconds: intervalSeconds)
    }

    /// The bytes signed by checkpoints without a schedule (version 1).
    public static func message(seq: Int64, hash: String) -> Data {
        Data("parley-audit-checkpoint-v1|\(seq)|\(hash)".utf8)
    }

    /// The bytes signed by checkpoints with a schedule (version 2): the time and the schedule too.
    public static func message(seq: Int64, hash: String, at: String, every: Int64, intervalSeconds: Int64) -> Data {
        Data("parley-audit-checkpoint-v2|\(seq)|\(hash)|\(at)|\(every)|\(intervalSeconds)".utf8)
    }

    /// Signs the head of the chain under `schedule`.
    public static func sign(
        seq: Int64, hash: String, key: Curve25519.Signing.PrivateKey, schedule: AuditSchedule = .standard,
        at date: Date = Date()
    ) throws -> AuditCheckpoint {
        let at = AuditClock.format(date)
        let bytes = message(
            seq: seq, hash: hash, at: at, every: schedule.every, intervalSeconds: schedule.intervalSeconds)
        return AuditCheckpoint(
            seq: seq, hash: hash, at: at, signature: try key.signature(for: bytes).base64EncodedString(),
            every: schedule.every, intervalSeconds: schedule.intervalSeconds)
    }

    /// True when the signature is the key's, over this sequence number and hash (and time and schedule).
    public func isValid(for key: Curve25519.Signing.PublicKey) -> Bool {
        guard let bytes = Data(base64Encoded: signature) else { return false }
        if every == nil && intervalSeconds == nil {
            return key.isValidSignature(bytes, for: Self.message(seq: seq, hash: hash))
        }
        guard let every, let intervalSeconds else { return false }
        return key.isValidSignature(
            bytes, for: Self.message(seq: seq, hash: hash, at: at, every: every, intervalSeconds: intervalSeconds))
    }
}
