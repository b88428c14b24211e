import Crypto
import Foundation

/// Walks an audit chain in order and names the first entry that was altered, removed, inserted or
/// reordered. Entries are fed one at a time, so a log of any size verifies in constant memory.
/// Its fields are the state one pass over the chain carries from entry to entry (and across the seams `join`
/// checks).
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

    private var previousSeq: Int64?
    private var previousHash: [UInt8] = []
    /// The first entry fed and the hash it says precedes it: the seam `join` checks.
    private var first: (seq: Int64, previousHash: [UInt8])?
    private var buffer: [UInt8] = []
    /// The hashes of the entries at `checkpointSeqs`.
    var hashes: [Int64: String] = [:]
    /// The times of the entries at and right after `checkpointSeqs`, and of the first entry: where each
    /// stretch between checkpoints starts and ends, for the schedule's time rule.
    var times: [Int64: String] = [:]
    /// The time of the last entry checked.
    var lastAt: [UInt8] = []
    let contiguous: Bool
    private let fromGenesis: Bool
    private var checkpointSeqs: Set<Int64> = []
    /// How many entries were checked.
    public private(set) var count: Int64 = 0
    /// The first problem found, if any.
    public private(set) var problem: Problem?
    /// The last entry checked.
    public var lastSeq: Int64? { previousSeq }

    /// The first entry checked.
    public var firstSeq: Int64? { first?.seq }

    /// Creates a verifier. `contiguous` is false for filtered exports, whose entries need not follow
    /// one another; then only each entry's own hash and the checkpoints are checked. `fromGenesis`
    /// says the entries are a whole log, which starts at #1. `checkpointSeqs` are the entries whose
    /// hashes checkpoints and witnesses will be held against.
    public init(contiguous: Bool = true, fromGenesis: Bool = false, checkpointSeqs: Set<Int64> = []) {
        self.contiguous = contiguous
        self.fromGenesis = fromGenesis && contiguous
        self.checkpointSeqs = checkpointSeqs
        buffer.reserveCapacity(1024)
        previousHash.reserveCapacity(64)
    }

    /// Checks the next entry; returns false once a problem is found.
    @discardableResult
    public mutating func feed(_ entry: AuditEntry) -> Bool {
        var storage: [UInt8] = []
        var ranges: [Range<Int>] = []
        for field in [
            entry.at, entry.kind, entry.actor, entry.identity, entry.room, entry.command, entry.arguments,
            entry.decision, entry.outcome, entry.detail, entry.previousHash, entry.hash,
        ] {
            let start = storage.count
            storage.append(contentsOf: field.utf8)
            ranges.append(start..<storage.count)
        }
        return storage.withUnsafeBytes { all in
            let parts = ranges.map { UnsafeRawBufferPointer(rebasing: all[$0]) }
            return feed(
                raw: AuditRawEntry(
                    seq: entry.seq, runID: entry.runID, texts: Array(parts[0..<10]), previousHash: parts[10],
                    hash: parts[11]))
        }
    }

    /// Checks the next entry, read in place from the database (the fast path for whole logs).
    @discardableResult
    public mutating func feed(raw entry: AuditRawEntry) -> Bool {
        guard problem == nil else { return false }
        count += 1
        let isFirst = first == nil
        if isFirst { first = (entry.seq, Array(entry.previousHash)) }
        if isFirst && fromGenesis && entry.seq != 1 {
            return fail(1, "is missing: the log starts at #\(entry.seq) (entries deleted from its start)")
        }
        if contiguous {
            let expected = (previousSeq ?? (entry.seq == 1 ? 0 : entry.seq - 1)) + 1
            if previousSeq == nil && entry.seq == 1 && !Self.same(entry.previousHash, Self.genesis) {
                return fail(1, "the first entry does not start the chain (inserted before it?)")
            }
            if entry.seq > expected {
                return fail(expected, "is missing: #\(expected - 1) is followed by #\(entry.seq) (deleted)")
            }
            if entry.seq < expected {
                return fail(entry.seq, "appears out of order after #\(expected - 1) (inserted or reordered)")
            }
            if let previousSeq, !Self.same(entry.previousHash, previousHash) {
                return fail(entry.seq, "does not follow #\(previousSeq): the chain is broken (inserted or reordered)")
            }
        }
        entry.writeCanonicalEncoding(into: &buffer)
        var hasher = SHA256()
        hasher.update(bufferPointer: entry.previousHash)
        buffer.withUnsafeBytes { hasher.update(bufferPointer: $0) }
        guard HexDigest.matches(hasher.finalize(), hex: entry.hash) else {
            return fail(entry.seq, "does not match its hash: it was altered, or moved from another position")
        }
        previousSeq = entry.seq
        previousHash.removeAll(keepingCapacity: true)
        previousHash.append(contentsOf: entry.hash)
        if checkpointSeqs.contains(entry.seq) { hashes[entry.seq] = String(decoding: entry.hash, as: UTF8.self) }
        if isFirst || checkpointSeqs.contains(entry.seq) || checkpointSeqs.contains(entry.seq - 1) {
            times[entry.seq] = String(decoding: entry.texts[0], as: UTF8.self)
        }
        lastAt.removeAll(keepingCapacity: true)
        lastAt.append(contentsOf: entry.texts[0])
        return true
    }

    private static let genesis = Array(AuditEntry.genesisHash.utf8)

    private static func same(_ bytes: UnsafeRawBufferPointer, _ other: [UInt8]) -> Bool {
        guard bytes.count == other.count else { return false }
        if other.isEmpty { return true }
        return other.withUnsafeBytes { stored in
            guard let left = bytes.baseAddress, let right = stored.baseAddress else { return false }
            return memcmp(left, right, other.count) == 0
        }
    }

    /// A verifier for a later stretch of the same chain, to be checked at the same time as this one
    /// (on another core) and then joined to it.
    public func segment() -> AuditVerifier {
        AuditVerifier(contiguous: contiguous, checkpointSeqs: checkpointSeqs)
    }

    /// Appends what a verifier of the stretch right after this one found: checks the seam between the
    /// two (no entry missing, the first of `later` follows the last of this one), then takes on its
    /// problem, if this one had none. The outcome is the one a single pass would give.
    public mutating func join(_ later: AuditVerifier) {
        guard problem == nil, let start = later.first else { return }
        if contiguous, let previousSeq {
            // A single pass counts the entry it stops at.
            defer { if problem != nil { count += 1 } }
            if start.seq > previousSeq + 1 {
                problem = Problem(
                    seq: previousSeq + 1, message: "is missing: #\(previousSeq) is followed by #\(start.seq) (deleted)")
                return
            }
            if start.seq <= previousSeq {
                problem = Problem(
                    seq: start.seq, message: "appears out of order after #\(previousSeq) (inserted or reordered)")
                return
            }
            if start.previousHash != previousHash {
                problem = Problem(
                    seq: start.seq,
                    message: "does not follow #\(previousSeq): the chain is broken (inserted or reordered)")
                return
            }
        }
        count += later.count
        problem = later.problem
        if first == nil { first = later.first }
        if let seq = later.previousSeq {
            previousSeq = seq
            previousHash = later.previousHash
        }
        hashes.merge(later.hashes) { mine, _ in mine }
        times.merge(later.times) { mine, _ in mine }
        if later.previousSeq != nil { lastAt = later.lastAt }
    }

    /// Checks signed checkpoints against the entries seen; call after the last entry. With a public key,
    /// each checkpoint's signature is checked, then (for a contiguous log) the distance between
    /// checkpoints against the schedule each states, and the unsigned tail against `tailSchedule`;
    /// then every witnessed head must still be in the chain.
    public mutating func finish(
        checkpoints: [AuditCheckpoint], publicKey: Curve25519.Signing.PublicKey?, tailSchedule: AuditSchedule? = nil,
        witnessed: [AuditWitnessedHead] = []
    ) {
        checkSignatures(checkpoints: checkpoints, publicKey: publicKey)
        guard problem == nil, let publicKey else { return }
        checkWitnesses(witnessed, publicKey: publicKey)
        guard problem == nil, contiguous else { return }
        checkSchedule(checkpoints: checkpoints, tailSchedule: tailSchedule)
    }

    private mutating func checkSignatures(checkpoints: [AuditCheckpoint], publicKey: Curve25519.Signing.PublicKey?) {
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
            } else if contiguous, checkpoint.seq > (previousSeq ?? 0) {
                let last = previousSeq ?? 0
                let end = last == 0 ? "the log is empty" : "the log ends at #\(last)"
                _ = fail(
                    last + 1,
                    "is missing: a signed checkpoint covers #\(checkpoint.seq) but \(end) (removed from the end)")
                return
            }
        }
    }

    mutating func fail(_ seq: Int64, _ message: String) -> Bool {
        problem = Problem(seq: seq, message: message)
        return false
    }
}

/// One stored audit entry's columns as bytes, read in place (nothing is copied or decoded): what
/// `AuditVerifier.feed(raw:)` checks. Valid only while the database row it points into is.
public struct AuditRawEntry {
    public var seq: Int64
    public var runID: Int64?
    /// `at`, `kind`, `actor`, `identity`, `room`, `command`, `arguments`, `decision`, `outcome`, `detail`.
    public var texts: [UnsafeRawBufferPointer]
    public var previousHash: UnsafeRawBufferPointer
    public var hash: UnsafeRawBufferPointer

    /// Creates a raw entry; `texts` holds the ten text fields in the order above.
    public init(
        seq: Int64, runID: Int64?, texts: [UnsafeRawBufferPointer], previousHash: UnsafeRawBufferPointer,
        hash: UnsafeRawBufferPointer
    ) {
        precondition(texts.count == 10, "an audit entry has ten text fields")
        self.seq = seq
        self.runID = runID
        self.texts = texts
        self.previousHash = previousHash
        self.hash = hash
    }

    /// The same bytes as `AuditEntry.canonicalEncoding`.
    func writeCanonicalEncoding(into bytes: inout [UInt8]) {
        bytes.removeAll(keepingCapacity: true)
        bytes.append(contentsOf: AuditEntry.canonicalPrefix)
        AuditEntry.appendField(seq, into: &bytes)
        for index in 0..<9 { AuditEntry.appendField(texts[index], into: &bytes) }
        if let runID {
            AuditEntry.appendField(runID, into: &bytes)
        } else {
            AuditEntry.appendField(UnsafeRawBufferPointer(start: nil, count: 0), into: &bytes)
        }
        AuditEntry.appendField(texts[9], into: &bytes)
    }
}
