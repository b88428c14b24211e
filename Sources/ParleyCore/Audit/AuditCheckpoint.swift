import Crypto
import Foundation

/// A signed statement "the chain's entry number `seq` has hash `hash`", made with Parley's Ed25519 key.
///
/// With checkpoints, an auditor who holds only the public key can tell that an export was not
/// rewritten after the fact, including entries removed from its end.
public struct AuditCheckpoint: Sendable, Equatable, Codable {
    public var seq: Int64
    public var hash: String
    public var at: String
    /// Base64 Ed25519 signature of `message`.
    public var signature: String

    /// Creates a checkpoint.
    public init(seq: Int64, hash: String, at: String, signature: String) {
        self.seq = seq
        self.hash = hash
        self.at = at
        self.signature = signature
    }

    /// The bytes that are signed.
    public static func message(seq: Int64, hash: String) -> Data {
        Data("parley-audit-checkpoint-v1|\(seq)|\(hash)".utf8)
    }

    /// Signs the head of the chain.
    public static func sign(seq: Int64, hash: String, key: Curve25519.Signing.PrivateKey, at date: Date = Date()) throws
        -> AuditCheckpoint
    {
        let signature = try key.signature(for: message(seq: seq, hash: hash))
        return AuditCheckpoint(
            seq: seq, hash: hash, at: AuditClock.format(date), signature: signature.base64EncodedString())
    }

    /// True when the signature is the key's, over this sequence number and hash.
    public func isValid(for key: Curve25519.Signing.PublicKey) -> Bool {
        guard let bytes = Data(base64Encoded: signature) else { return false }
        return key.isValidSignature(bytes, for: Self.message(seq: seq, hash: hash))
    }
}
