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
