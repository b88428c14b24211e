import Crypto
import Foundation
import ParleyCore
import ParleyEngine
import ParleyStore
import Synchronization
import Testing

/// A clock the test moves by hand.
final class TestClock: Sendable {
    private let date = Mutex(Date(timeIntervalSince1970: 1_800_000_000))
    var now: Date { date.withLock { $0 } }
    func advance(seconds: Double) { date.withLock { $0 += seconds } }
}

/// Checkpoints follow a schedule counted from the stored chain, not from the process: a restart or a
/// crash does not reset it, and time is counted as well as entries.
@Suite struct AuditCheckpointScheduleTests {
    let directory = temporaryDirectory()
    let key = Curve25519.Signing.PrivateKey()
    let clock = TestClock()

    func log(_ store: SQLiteStore, every: Int64 = 10, interval: Int64 = 300, witnesses: [any AuditWitness] = [])
        -> AuditLog
    {
        let clock = self.clock
        return AuditLog(
            store: store, masker: SecretMasker(values: []), signingKey: key,
            schedule: AuditSchedule(every: every, intervalSeconds: interval), witnesses: witnesses,
            now: { clock.now })
    }

    func append(_ count: Int, to log: AuditLog) async throws {
        for index in 0..<count { try await log.append(AuditDraft(kind: .received, actor: "user\(index)")) }
    }

    @Test func theEntryCountSurvivesARestart() async throws {
        let store = try SQLiteStore(dataDirectory: directory)
        try await append(9, to: log(store))
        #expect(try await store.checkpoints().isEmpty)
        // A new process (no shutdown signature: killed) goes on counting from the chain.
        try await append(1, to: log(store))
        #expect(try await store.checkpoints().map(\.seq) == [10])
        try await append(10, to: log(store))
        #expect(try await store.checkpoints().map(\.seq) == [10, 20])
    }

    @Test func theTimerSignsOnceTheOldestUnsignedEntryIsOneIntervalOld() async throws {
        let store = try SQLiteStore(dataDirectory: directory)
        let audit = log(store, every: 100, interval: 60)
        try await append(3, to: audit)
        await audit.signIfDue()
        #expect(try await store.checkpoints().isEmpty)
        clock.advance(seconds: 59)
        await audit.signIfDue()
        #expect(try await store.checkpoints().isEmpty)
        clock.advance(seconds: 1)
        await audit.signIfDue()
        let checkpoint = try #require(try await store.checkpoints().last)
        #expect(checkpoint.seq == 3)
        #expect(checkpoint.schedule == AuditSchedule(every: 100, intervalSeconds: 60))
        clock.advance(seconds: 600)
        await audit.signIfDue()
        #expect(try await store.checkpoints().count == 1, "nothing new to sign")
    }

    @Test func aChainLeftPastDueByAKilledProcessIsSignedBeforeTheNextAppend() async throws {
        let store = try SQLiteStore(dataDirectory: directory)
        try await append(3, to: log(store, every: 100, interval: 60))
        clock.advance(seconds: 3600)
        let restarted = log(store, every: 100, interval: 60)
        try await append(1, to: restarted)
        #expect(try await store.checkpoints().map(\.seq) == [3])
        let outcome = try await AuditVerification.verifyStore(
            store, publicKey: key.publicKey, schedule: AuditSchedule(every: 100, intervalSeconds: 60))
        #expect(outcome.problem == nil)
    }

    @Test func anEngineStartSignsAChainThatIsPastDue() async throws {
        let yaml = "roles: { guest: { allow: [ping] } }\naudit: { checkpoint_every: 1000, checkpoint_interval: 1m }"
        let config = try ConfigLoader(builtins: Builtins.declarations, environment: [:])
            .load(yaml: yaml, file: "test.yaml", baseDirectory: directory)
        let store = try SQLiteStore(dataDirectory: config.dataDirectory)
        let clock = self.clock
        let first = Engine(config: config, store: store, auditClock: { clock.now })
        _ = await first.handle(say("ping", as: "local:nobody"))
        let head = try #require(try await store.lastAuditEntry())
        #expect(try await store.checkpoints().isEmpty)
        clock.advance(seconds: 120)
        let restarted = Engine(config: config, store: store, auditClock: { clock.now })
        _ = try await restarted.start()
        #expect(try await store.checkpoints().first?.seq == head.seq)
    }

    @Test func everyCheckpointIsKeptByTheWitnessFileAndAFailingWitnessHoldsNothingUp() async throws {
        let store = try SQLiteStore(dataDirectory: directory)
        let file = directory + "/witness.jsonl"
        let audit = log(
            store, every: 5,
            witnesses: [HTTPWitness(url: "http://127.0.0.1:9/unreachable"), FileWitness(path: file)])
        try await append(12, to: audit)
        try await audit.checkpoint()
        let heads = try AuditVerification.witnessedHeads(path: file)
        #expect(heads.map(\.checkpoint.seq) == [5, 10, 12])
        #expect(heads.allSatisfy { $0.checkpoint.isValid(for: key.publicKey) })
        let outcome = try await AuditVerification.verifyStore(
            store, publicKey: key.publicKey, schedule: AuditSchedule(every: 5, intervalSeconds: 300), witnessed: heads)
        #expect(outcome.problem == nil)
        #expect(outcome.witnessed == 3)
    }

    @Test func theSigningKeyCanComeFromTheEnvironment() throws {
        let settings = AuditSettings(signingKey: .environment("PARLEY_AUDIT_KEY"))
        let loaded = try AuditKeys.load(
            settings, dataDirectory: directory,
            environment: ["PARLEY_AUDIT_KEY": key.rawRepresentation.base64EncodedString()])
        #expect(loaded.publicKey.rawRepresentation == key.publicKey.rawRepresentation)
        #expect(!FileManager.default.fileExists(atPath: directory + "/" + AuditKeys.fileName))
        #expect(throws: AuditKeyError.self) {
            try AuditKeys.load(settings, dataDirectory: directory, environment: [:])
        }
        #expect(throws: AuditKeyError.self) {
            try AuditKeys.load(settings, dataDirectory: directory, environment: ["PARLEY_AUDIT_KEY": "not a key"])
        }
    }
}
