import Crypto
import Foundation
import ParleyCore
import ParleyEngine
import ParleyStore
import Synchronization
import Testing

/// An audit store that counts how many transactions appends took.
final class CountingAuditStore: AuditStore {
    let inner: SQLiteStore
    let calls = Mutex(0)

    init(_ inner: SQLiteStore) {
        self.inner = inner
    }

    func appendAudit(_ drafts: [AuditDraft], at date: Date) async throws -> [AuditEntry] {
        calls.withLock { $0 += 1 }
        return try await inner.appendAudit(drafts, at: date)
    }

    func commitAudit(_ commits: [AuditCommit], at date: Date) async throws -> [AuditCommitResult] {
        calls.withLock { $0 += 1 }
        return try await inner.commitAudit(commits, at: date)
    }

    func auditEntries(_ query: AuditQuery) async throws -> [AuditEntry] { try await inner.auditEntries(query) }
    func lastAuditEntry() async throws -> AuditEntry? { try await inner.lastAuditEntry() }
    func feedAuditChain(to verifier: AuditVerifier) async throws -> AuditVerifier {
        try await inner.feedAuditChain(to: verifier)
    }
    func insertCheckpoint(_ checkpoint: AuditCheckpoint) async throws { try await inner.insertCheckpoint(checkpoint) }
    func checkpoints() async throws -> [AuditCheckpoint] { try await inner.checkpoints() }
}

@Suite struct AuditLogTests {
    @Test func aBurstOfAppendsIsGroupCommittedAndStaysOneChain() async throws {
        let store = CountingAuditStore(try SQLiteStore(dataDirectory: temporaryDirectory()))
        let key = Curve25519.Signing.PrivateKey()
        let log = AuditLog(store: store, masker: SecretMasker(values: []), signingKey: key, checkpointEvery: 50)
        let entries = try await withThrowingTaskGroup(of: AuditEntry.self) { group in
            for index in 0..<200 {
                group.addTask { try await log.append(AuditDraft(kind: .received, actor: "user\(index)")) }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(Set(entries.map(\.seq)) == Set(1...200))
        #expect(store.calls.withLock { $0 } < 200, "every append took its own transaction")
        let outcome = try await AuditVerification.verifyStore(store, publicKey: key.publicKey)
        #expect(outcome.problem == nil)
        #expect(outcome.entries == 200)
        #expect(outcome.checkpoints >= 1)
    }

    @Test func secretsAreMaskedBeforeTheyAreWritten() async throws {
        let store = try SQLiteStore(dataDirectory: temporaryDirectory())
        let log = AuditLog(
            store: store, masker: SecretMasker(values: ["hunter2"]), signingKey: nil, checkpointEvery: 100)
        let entry = try await log.append(
            AuditDraft(
                kind: .finished, actor: "a", arguments: ["p": "hunter2"], outcome: "printed hunter2", detail: "hunter2!"
            ))
        #expect(entry.arguments == #"{"p":"••••"}"#)
        #expect(entry.outcome == "printed ••••")
        #expect(entry.detail == "••••!")
    }
}

@Suite struct AuditTrailTests {
    let directory = temporaryDirectory()

    func yaml(bobRole: String) -> String {
        """
        users:
          alice: { roles: [auditor], identities: ["local:alice"] }
          bob: { roles: [\(bobRole)], identities: ["local:bob"] }
        roles:
          auditor: { allow: [audit, ping] }
          dev: { allow: [ping] }
          ops: { allow: [ping, whoami] }
        """
    }

    @Test func userAndRoleChangesBetweenStartsAreAudited() async throws {
        let (first, _) = try makeEngine(yaml(bobRole: "dev"), directory: directory)
        _ = try await first.start()
        let (second, store) = try makeEngine(yaml(bobRole: "ops"), directory: directory)
        _ = try await second.start()
        let entries = try await store.auditEntries(AuditQuery())
        #expect(entries.filter { $0.kind == "config_loaded" }.count == 2)
        #expect(entries.contains { $0.kind == "user_changed" && $0.detail == "user bob changed: dev → ops" })
        let unchanged = try makeEngine(yaml(bobRole: "ops"), directory: directory).0
        _ = try await unchanged.start()
        #expect(try await store.auditEntries(AuditQuery(kind: "user_changed")).count == 1)
    }

    @Test func theAuditCommandShowsEntriesToThoseGrantedIt() async throws {
        let (engine, _) = try makeEngine(yaml(bobRole: "dev"), directory: directory)
        _ = await engine.handle(say("ping", as: "local:bob"))
        let shown = try #require(await engine.handle(say("audit --user bob", as: "local:alice")))
        #expect(shown.reply.plainText.contains("received"))
        #expect(shown.reply.plainText.contains("finished"))
        let refused = try #require(await engine.handle(say("audit", as: "local:bob")))
        #expect(refused.outcome == .denied)
    }
}

@Suite struct ShutdownTests {
    /// A service group cancels its services when it stops; the checkpoint must be signed anyway.
    @Test func aCancelledShutdownStillSignsTheHeadOfTheChain() async throws {
        let (engine, store) = try makeEngine("roles: { guest: { allow: [ping] } }")
        _ = try await engine.start()
        _ = await engine.handle(say("ping", as: "local:nobody"))
        let head = try #require(try await store.lastAuditEntry())
        let stopping = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            await engine.shutdown(grace: .milliseconds(10))
        }
        await stopping.value
        let checkpoints = try await store.checkpoints()
        #expect(checkpoints.last?.seq == head.seq)
    }
}
