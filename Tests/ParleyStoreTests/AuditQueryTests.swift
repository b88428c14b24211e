import Foundation
import ParleyCore
import Testing

@testable import ParleyStore

@Suite struct AuditQueryTests {
    /// The run page asks for one run's entries; a run whose entries come after 10,000 others is
    /// still shown whole (it used to read the oldest 10,000 entries and filter them).
    @Test func aRunsEntriesAreFoundBehindTwentyThousandOthers() async throws {
        let store = try SQLiteStore(dataDirectory: temporaryDirectory())
        for batch in 0..<20 {
            let count = batch == 19 ? 990 : 1000
            let drafts = (0..<count).map { index in
                AuditDraft(kind: .received, actor: "user\(index)", runID: index % 3 == 0 ? nil : Int64(index % 50))
            }
            _ = try await store.appendAudit(drafts, at: Date())
        }
        let kinds: [AuditKind] = [.received, .started, .finished]
        let own = (0..<10).map { AuditDraft(kind: kinds[$0 % 3], actor: "alice", command: "deploy", runID: 4242) }
        let appended = try await store.appendAudit(own, at: Date())
        #expect(try await store.lastAuditEntry()?.seq == 20_000)

        let query = AuditQuery(runID: 4242, limit: 10_000)
        let found = try await store.auditEntries(query)
        #expect(found.map(\.seq) == appended.map(\.seq))
        #expect(found.allSatisfy { $0.runID == 4242 && $0.actor == "alice" })
        #expect(
            try await store.auditEntries(AuditQuery(runID: 4242, limit: 3, newestFirst: true)).map(\.seq) == [
                20_000, 19_999, 19_998,
            ])
        #expect(try await store.auditEntries(AuditQuery(runID: 999_999)).isEmpty)
    }

    /// Entries of one run are not a stretch of the chain: an export of them must not claim to be.
    @Test func aRunFilterIsNotContiguous() {
        #expect(AuditQuery(limit: 10).isContiguous)
        #expect(!AuditQuery(runID: 1).isContiguous)
    }

    /// The run filter is answered from an index (a migration adds it to existing databases).
    @Test func theAuditLogHasARunIndex() async throws {
        let store = try SQLiteStore(dataDirectory: temporaryDirectory())
        let indexes = try await store.pool.read { db in
            try String.fetchAll(db, sql: "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'audit'")
        }
        #expect(indexes.contains { $0.contains("runID") }, "\(indexes)")
    }
}

/// The verifier's in-place reader (SQLite's buffers) against the library's path (GRDB rows decoded
/// into `AuditEntry` values), on generated chains and tamperings: both must find the same thing.
@Suite struct AuditRawReaderTests {
    static let alphabet: [String] = [
        "a", "Z", "0", " ", "|", ":", "\"", "\\", "\n", "\t", "é", "ß", "日", "🙂", "\u{0}", "\u{1F}", "%", "'",
    ]

    func text(_ generator: inout some RandomNumberGenerator, maximum: Int) -> String {
        String(
            (0..<Int.random(in: 0...maximum, using: &generator)).map { _ in
                Self.alphabet.randomElement(using: &generator)!
            }.joined())
    }

    func verifyThroughGRDB(_ store: SQLiteStore) async throws -> AuditVerifier {
        var verifier = AuditVerifier()
        for entry in try await store.auditEntries(AuditQuery(limit: 100_000)) where !verifier.feed(entry) { break }
        return verifier
    }

    @Test(arguments: 0..<6)
    func theInPlaceReaderFindsWhatTheLibraryPathFinds(round: Int) async throws {
        var generator = SystemRandomNumberGenerator()
        let store = try SQLiteStore(dataDirectory: temporaryDirectory())
        let kinds: [AuditKind] = [.received, .started, .finished, .denied]
        for _ in 0..<5 {
            let drafts = (0..<40).map { _ in
                AuditDraft(
                    kind: kinds.randomElement(using: &generator)!, actor: text(&generator, maximum: 12),
                    identity: text(&generator, maximum: 20), room: text(&generator, maximum: 8),
                    command: text(&generator, maximum: 8),
                    arguments: [text(&generator, maximum: 4): text(&generator, maximum: 10)],
                    decision: text(&generator, maximum: 6), outcome: text(&generator, maximum: 30),
                    runID: Bool.random(using: &generator) ? nil : Int64.random(in: 1...1_000_000, using: &generator),
                    detail: text(&generator, maximum: 200))
            }
            _ = try await store.appendAudit(drafts, at: Date(timeIntervalSince1970: .random(in: 0..<4e9)))
        }
        // Round 0 is untouched; the others change one field of one entry.
        if round > 0 {
            let seq = Int.random(in: 1...200, using: &generator)
            let column = ["actor", "identity", "room", "command", "arguments", "outcome", "detail", "at", "runID"][
                round % 9]
            let value = column == "runID" ? "77" : "'x'"
            try await store.pool.write { db in
                try db.execute(sql: "UPDATE audit SET \(column) = \(value) WHERE seq = \(seq)")
            }
        }
        let library = try await verifyThroughGRDB(store)
        let inPlace = try await store.feedAuditChain(to: AuditVerifier(), segments: 1, minimumLength: 0)
        #expect(inPlace.problem == library.problem)
        #expect(inPlace.count == library.count)
        #expect(inPlace.lastSeq == library.lastSeq)
        if round == 0 {
            #expect(library.problem == nil && library.count == 200, "\(String(describing: library.problem))")
        }
    }
}

@Suite struct StoredTextTests {
    /// SQLite's C API ends text at a NUL: stored as it came, the rest would be lost and the entry's
    /// hash (computed over the whole text) would call an untouched log tampered with.
    @Test func aNULFromOutsideIsKeptVisiblyAndTheChainStillVerifies() async throws {
        let store = try SQLiteStore(dataDirectory: temporaryDirectory())
        let entries = try await store.appendAudit(
            [AuditDraft(kind: .received, actor: "mallory\u{0}admin", detail: "echo a\u{0}b")], at: Date())
        #expect(entries.first?.detail == "echo a\u{2400}b")
        #expect(try await store.auditEntries(AuditQuery(limit: 1)).first?.actor == "mallory\u{2400}admin")
        let verifier = try await store.feedAuditChain(to: AuditVerifier(), segments: 1, minimumLength: 0)
        #expect(verifier.problem == nil && verifier.count == 1)

        var run = try await store.insertRun(
            RunRecord(
                userName: "alice", identity: "local:alice", room: "terminal", text: "find -print0",
                commandID: "find", decision: .allowed, status: .running))
        run.output = "one\u{0}two\u{0}"
        run.status = .succeeded
        try await store.updateRun(run)
        #expect(try await store.run(id: run.id ?? 0)?.output == "one\u{2400}two\u{2400}")
    }
}
