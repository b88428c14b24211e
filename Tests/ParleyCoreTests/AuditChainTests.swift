import Crypto
import Foundation
import ParleyConformance
import Testing

@testable import ParleyCore

@Suite struct AuditChainTests {
    func chain(_ count: Int) -> [AuditEntry] {
        var entries: [AuditEntry] = []
        var previous = AuditEntry.genesisHash
        for seq in 1...count {
            let draft = AuditDraft(
                kind: .started, actor: "alice", identity: "local:alice", room: "#ops", command: "deploy",
                arguments: ["env": "prod", "n": String(seq)], runID: Int64(seq))
            let entry = AuditEntry.make(
                draft, seq: Int64(seq), at: Date(timeIntervalSince1970: Double(seq)), previousHash: previous)
            previous = entry.hash
            entries.append(entry)
        }
        return entries
    }

    func verify(_ entries: [AuditEntry], checkpoints: [AuditCheckpoint] = [], key: Curve25519.Signing.PublicKey? = nil)
        -> AuditVerifier.Problem?
    {
        var verifier = AuditVerifier(checkpointSeqs: Set(checkpoints.map(\.seq)))
        for entry in entries where !verifier.feed(entry) { break }
        verifier.finish(checkpoints: checkpoints, publicKey: key)
        return verifier.problem
    }

    @Test func anUntouchedChainVerifies() {
        #expect(verify(chain(50)) == nil)
    }

    @Test func aModifiedFieldIsNamed() {
        var entries = chain(10)
        entries[4].actor = "mallory"
        #expect(verify(entries)?.seq == 5)
        #expect(verify(entries)?.message.contains("altered") == true)
    }

    @Test func aDeletedEntryIsNamed() {
        var entries = chain(10)
        entries.remove(at: 6)
        #expect(verify(entries)?.seq == 7)
        #expect(verify(entries)?.message.contains("missing") == true)
    }

    @Test func swappedEntriesAreNamedAtTheFirst() {
        var entries = chain(10)
        let third = entries[2]
        entries[2] = entries[3]
        entries[3] = third
        #expect(verify(entries)?.seq == 3)
    }

    @Test func aForgedEntryWithAValidLookingHashIsCaughtByTheNextLink() {
        var entries = chain(10)
        // Rewritten entry 6 with its own hash recomputed: entry 7 no longer follows it.
        entries[5].outcome = "nothing happened"
        entries[5].hash = entries[5].computedHash
        #expect(verify(entries)?.seq == 7)
    }

    @Test func checkpointsCatchARewrittenChainAndATruncatedTail() throws {
        let key = Curve25519.Signing.PrivateKey()
        let entries = chain(10)
        let checkpoint = try AuditCheckpoint.sign(seq: 10, hash: entries[9].hash, key: key)
        #expect(verify(entries, checkpoints: [checkpoint], key: key.publicKey) == nil)
        #expect(verify(Array(entries.prefix(8)), checkpoints: [checkpoint], key: key.publicKey)?.seq == 9)
        var rewritten = chain(10)
        for index in 3..<10 {
            rewritten[index].detail = "rewritten"
            rewritten[index].previousHash = index == 0 ? AuditEntry.genesisHash : rewritten[index - 1].hash
            rewritten[index].hash = rewritten[index].computedHash
        }
        #expect(verify(rewritten, checkpoints: [checkpoint], key: key.publicKey)?.seq == 10)
        let forged = try AuditCheckpoint.sign(seq: 10, hash: rewritten[9].hash, key: Curve25519.Signing.PrivateKey())
        #expect(verify(rewritten, checkpoints: [forged], key: key.publicKey)?.message.contains("forged") == true)
    }

    @Test func theCanonicalEncodingSeparatesFieldsUnambiguously() {
        var a = chain(1)[0]
        var b = a
        a.actor = "ab"
        a.identity = "c"
        b.actor = "a"
        b.identity = "bc"
        #expect(a.computedHash != b.computedHash)
    }
}

@Suite struct AuditFormatTests {
    /// The chain's hash, recomputed by Python's hashlib from the documented format, so that a change
    /// to the encoding (which would break every existing chain) cannot go unnoticed.
    @Test(.requires(.python3)) func theHashFollowsTheDocumentedFormatComputedIndependently() async throws {
        let draft = AuditDraft(
            kind: .finished, actor: "alice", identity: "slack:U024BE7LH", room: "#ops — prod",
            command: "deploy", arguments: ["env": "prod", "app": "api"], decision: "allowed",
            outcome: "succeeded (exit 0)", runID: 42, detail: "approved by bob; ✓")
        let date = try #require(AuditClock.parse("2026-11-27T02:00:00.123Z"))
        let entry = AuditEntry.make(draft, seq: 7, at: date, previousHash: String(repeating: "ab", count: 32))
        let script = """
            import hashlib, json, sys
            fields = json.load(sys.stdin)
            text = "parley-audit-v1" + "".join("|%d:%s" % (len(f.encode()), f) for f in fields[1:])
            print(hashlib.sha256(fields[0].encode() + text.encode()).hexdigest())
            """
        let fields = [
            entry.previousHash, "7", "2026-11-27T02:00:00.123Z", "finished", "alice", "slack:U024BE7LH", "#ops — prod",
            "deploy", #"{"app":"api","env":"prod"}"#, "allowed", "succeeded (exit 0)", "42", "approved by bob; ✓",
        ]
        let input = try JSONSerialization.data(withJSONObject: fields)
        let (_, output) = try await runProgram("/usr/bin/env", ["python3", "-c", script], input: Array(input))
        #expect(entry.arguments == #"{"app":"api","env":"prod"}"#)
        #expect(entry.hash == output.trimmingCharacters(in: .whitespacesAndNewlines))
    }
}
