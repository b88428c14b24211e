import Crypto
import Foundation
import Testing

@testable import ParleyCore

/// The verifier holds the distance between checkpoints to the schedule they were signed under, so
/// deleting checkpoints or recomputing the chain is caught without knowing what was there.
@Suite struct AuditScheduleTests {
    let key = Curve25519.Signing.PrivateKey()
    let schedule = AuditSchedule(every: 10, intervalSeconds: 60)

    /// Entries one second apart, from the Unix epoch.
    func chain(_ count: Int, from start: Int = 1, previous: String = AuditEntry.genesisHash, detail: String = "")
        -> [AuditEntry]
    {
        var entries: [AuditEntry] = []
        var previous = previous
        for seq in start..<(start + count) {
            let entry = AuditEntry.make(
                AuditDraft(kind: .received, actor: "alice", detail: detail), seq: Int64(seq),
                at: Date(timeIntervalSince1970: Double(seq)), previousHash: previous)
            previous = entry.hash
            entries.append(entry)
        }
        return entries
    }

    func signed(_ entries: [AuditEntry], every step: Int, schedule: AuditSchedule? = nil) throws -> [AuditCheckpoint] {
        try stride(from: step, through: entries.count, by: step).map { seq in
            try AuditCheckpoint.sign(
                seq: Int64(seq), hash: entries[seq - 1].hash, key: key, schedule: schedule ?? self.schedule)
        }
    }

    func verify(
        _ entries: [AuditEntry], _ checkpoints: [AuditCheckpoint], tail: AuditSchedule? = nil,
        witnessed: [AuditCheckpoint] = []
    ) -> AuditVerifier.Problem? {
        let seqs = Set(checkpoints.map(\.seq) + witnessed.map(\.seq))
        var verifier = AuditVerifier(fromGenesis: true, checkpointSeqs: seqs)
        for entry in entries where !verifier.feed(entry) { break }
        verifier.finish(
            checkpoints: checkpoints, publicKey: key.publicKey, tailSchedule: tail ?? schedule,
            witnessed: witnessed.map { AuditWitnessedHead(checkpoint: $0, source: "witness.jsonl") })
        return verifier.problem
    }

    @Test func aChainSignedOnScheduleVerifies() throws {
        let entries = chain(100)
        #expect(verify(entries, try signed(entries, every: 10)) == nil)
    }

    @Test func checkpointsDeletedFromTheMiddleAreNamedFromTheFirstUncoveredEntry() throws {
        let entries = chain(100)
        let kept = try signed(entries, every: 10).filter { $0.seq < 20 || $0.seq > 70 }
        let problem = verify(entries, kept)
        #expect(problem?.seq == 11)
        #expect(problem?.description.contains("up to the checkpoint at #80 have no checkpoint between them") == true)
        #expect(problem?.description.contains("allows at most 32") == true)
    }

    @Test func aLongUnsignedTailIsCaughtEvenWithEveryCheckpointDeleted() {
        let problem = verify(chain(60), [])
        #expect(problem?.seq == 1)
        #expect(problem?.description.contains("covered by no signed checkpoint") == true)
    }

    @Test func aRechainedTailAfterTheLastKeptCheckpointIsCaught() throws {
        let original = chain(100)
        let kept = try signed(original, every: 10).filter { $0.seq <= 30 }
        let rechained = Array(original.prefix(30)) + chain(70, from: 31, previous: original[29].hash, detail: "forged")
        #expect(verify(rechained, kept)?.seq == 31)
    }

    @Test func entriesAppendedLongAfterTheOldestUnsignedOneNeedACheckpointBetween() throws {
        let entries = chain(30)
        let problem = verify(entries, try signed(entries, every: 30), tail: schedule)
        #expect(problem == nil, "30 seconds fit in one 60 s interval")
        let strict = AuditSchedule(every: 10, intervalSeconds: 5)
        let late = verify(entries, try signed(entries, every: 30, schedule: strict), tail: strict)
        #expect(late?.seq == 1)
        #expect(late?.description.contains("#30 was appended 29s later") == true)
        #expect(late?.description.contains("needs one within 10s") == true)
    }

    @Test func aRelaxedScheduleOnASignedCheckpointIsAForgery() throws {
        let entries = chain(100)
        var checkpoints = try signed(entries, every: 100)
        checkpoints[0].every = 1000
        #expect(verify(entries, checkpoints)?.message.contains("forged") == true)
        checkpoints[0].every = nil
        checkpoints[0].intervalSeconds = nil
        #expect(verify(entries, checkpoints)?.message.contains("forged") == true)
    }

    @Test func aChainCutBelowAWitnessedHeadIsCaught() throws {
        let entries = chain(40)
        let checkpoints = try signed(entries, every: 10)
        let problem = verify(
            Array(entries.prefix(35)), checkpoints.filter { $0.seq <= 30 }, witnessed: [checkpoints[3]])
        #expect(problem?.seq == 36)
        #expect(problem?.description.contains("witness.jsonl recorded a signed head at #40") == true)
    }

    @Test func aRechainedChainNoLongerExtendsAWitnessedHead() throws {
        let original = chain(40)
        let witnessed = try signed(original, every: 40)
        let rechained = Array(original.prefix(20)) + chain(20, from: 21, previous: original[19].hash, detail: "x")
        let resigned = [
            try AuditCheckpoint.sign(seq: 40, hash: rechained[39].hash, key: Curve25519.Signing.PrivateKey())
        ]
        #expect(verify(rechained, [], witnessed: witnessed)?.seq == 40)
        #expect(verify(rechained, resigned, witnessed: witnessed)?.message.contains("forged") == true)
    }

    @Test func entriesDeletedFromTheStartOfAWholeLogAreNamed() {
        #expect(verify(Array(chain(20).dropFirst(3)), [])?.description.hasPrefix("entry #1 is missing") == true)
    }
}
