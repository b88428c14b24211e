import Crypto

/// Walks an audit chain in order and names the first entry that was altered, removed, inserted or
/// reordered. Entries are fed one at a time, so a log of any size verifies in constant memory.
public struct AuditVerifier: Sendable {
    /// What is wrong, at which entry.
    public struct Problem: Sendable, Equatable, CustomStringConvertible {
        /// The entry the problem was found at.
        public var seq: Int64
        /// What is wrong there.
        public var message: String

        /// Creates a problem report.
        public init(seq: Int64, message: String) {
            self.seq = seq
            self.message = message
        }

        public var description: String { seq == 0 ? message : "entry #\(seq) \(message)" }
    }

    private var previous: (seq: Int64, hash: String)?
    private var buffer: [UInt8] = []
    private var hashes: [Int64: String] = [:]
    private let contiguous: Bool
    private var checkpointSeqs: Set<Int64> = []
    /// How many entries were checked.
    public private(set) var count: Int64 = 0
    /// The first problem found, if any.
    public private(set) var problem: Problem?

    /// Creates a verifier. `contiguous` is false for filtered exports, whose entries need not follow
    /// one another; then only each entry's own hash and the checkpoints are checked.
    public init(contiguous: Bool = true, checkpointSeqs: Set<Int64> = []) {
        self.contiguous = contiguous
        self.checkpointSeqs = checkpointSeqs
    }

    /// Checks the next entry; returns false once a problem is found.
    @discardableResult
    public mutating func feed(_ entry: AuditEntry) -> Bool {
        guard problem == nil else { return false }
        count += 1
        if contiguous {
            let expected = (previous?.seq ?? (entry.seq == 1 ? 0 : entry.seq - 1)) + 1
            if previous == nil && entry.seq == 1 && entry.previousHash != AuditEntry.genesisHash {
                return fail(1, "the first entry does not start the chain (inserted before it?)")
            }
            if entry.seq > expected {
                return fail(expected, "is missing: #\(expected - 1) is followed by #\(entry.seq) (deleted)")
            }
            if entry.seq < expected {
                return fail(entry.seq, "appears out of order after #\(expected - 1) (inserted or reordered)")
            }
            if let previous, entry.previousHash != previous.hash {
                return fail(entry.seq, "does not follow #\(previous.seq): the chain is broken (inserted or reordered)")
            }
        }
        if !entry.hashMatches(buffer: &buffer) {
            return fail(entry.seq, "does not match its hash: it was altered, or moved from another position")
        }
        previous = (entry.seq, entry.hash)
        if checkpointSeqs.contains(entry.seq) { hashes[entry.seq] = entry.hash }
        return true
    }

    /// Checks signed checkpoints against the entries seen; call after the last entry.
    public mutating func finish(checkpoints: [AuditCheckpoint], publicKey: Curve25519.Signing.PublicKey?) {
        guard problem == nil else { return }
        for checkpoint in checkpoints.sorted(by: { $0.seq < $1.seq }) {
            if let publicKey, !checkpoint.isValid(for: publicKey) {
                _ = fail(checkpoint.seq, "its checkpoint's signature is not Parley's key's (forged checkpoint)")
                return
            }
            if let hash = hashes[checkpoint.seq] {
                if hash != checkpoint.hash {
                    _ = fail(checkpoint.seq, "differs from what the signed checkpoint recorded (rewritten chain)")
                    return
                }
            } else if let last = previous?.seq, checkpoint.seq > last, contiguous {
                _ = fail(
                    last + 1,
                    "is missing: a signed checkpoint covers #\(checkpoint.seq) but the log ends at #\(last) (removed from the end)"
                )
                return
            }
        }
    }

    private mutating func fail(_ seq: Int64, _ message: String) -> Bool {
        problem = Problem(seq: seq, message: message)
        return false
    }
}
