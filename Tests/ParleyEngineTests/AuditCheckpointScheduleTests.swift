import Crypto
import Foundation
import Hummingbird
import HummingbirdTesting
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

/// A witness that never takes anything.
final class FailingWitness: AuditWitness {
    let attempts = Mutex(0)
    var name: String { "failing" }
    func keep(_ line: Data) async throws {
        attempts.withLock { $0 += 1 }
        throw AuditWitnessError(message: "down")
    }
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

    @Test func groupCommitsNeverTakeAStretchPastTheEntryCount() async throws {
        let store = try SQLiteStore(dataDirectory: directory)
        let audit = log(store, every: 20)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<300 {
                group.addTask { try await audit.append(AuditDraft(kind: .received, actor: "user\(index)")) }
            }
            try await group.waitForAll()
        }
        try await audit.checkpoint()
        let seqs = [0] + (try await store.checkpoints().map(\.seq))
        let stretches = zip(seqs.dropFirst(), seqs).map { $0 - $1 }
        #expect(stretches.allSatisfy { $0 <= 20 }, "\(stretches)")
        #expect(seqs.last == 300)
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
        let failing = FailingWitness()
        let audit = log(store, every: 5, witnesses: [failing, FileWitness(path: file)])
        try await append(12, to: audit)
        try await audit.checkpoint()
        await audit.settleWitnesses()
        let heads = try AuditVerification.witnessedHeads(path: file)
        #expect(heads.map(\.checkpoint.seq) == [5, 10, 12])
        #expect(heads.allSatisfy { $0.checkpoint.isValid(for: key.publicKey) })
        #expect(failing.attempts.withLock { $0 } >= 1)
        let outcome = try await AuditVerification.verifyStore(
            store, publicKey: key.publicKey, schedule: AuditSchedule(every: 5, intervalSeconds: 300), witnessed: heads)
        #expect(outcome.problem == nil)
        #expect(outcome.witnessed == 3)
    }

    @Test func anHTTPWitnessReceivesEachCheckpointAndGetsWhatItMissedLater() async throws {
        let received = Mutex<[String]>([])
        let refuseFirst = Mutex(true)
        let router = Router()
        router.post("witness") { request, _ -> Response in
            let body = String(buffer: try await request.body.collect(upTo: 10_000))
            let refuse = refuseFirst.withLock { first in
                defer { first = false }
                return first
            }
            guard !refuse else { return Response(status: .serviceUnavailable) }
            received.withLock { $0.append(body) }
            return Response(status: .ok)
        }
        router.get("witness") { _, _ -> String in
            received.withLock { $0.joined(separator: "\n") + "\n" }
        }
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await app.test(.live) { client in
            let port = try #require(client.port)
            let store = try SQLiteStore(dataDirectory: directory)
            let audit = log(store, every: 5, witnesses: [HTTPWitness(url: "http://127.0.0.1:\(port)/witness")])
            try await append(5, to: audit)
            await audit.settleWitnesses()
            #expect(received.withLock { $0 }.isEmpty, "the first POST was refused")
            try await append(5, to: audit)
            await audit.settleWitnesses()
            let bodies = received.withLock { $0 }
            #expect(bodies.count == 2)
            #expect(bodies.first?.hasPrefix(#"{"checkpoint":{"at":"#) == true)
            #expect(bodies.first?.contains(#""seq":5,"#) == true)
            #expect(bodies.last?.contains(#""seq":10,"#) == true)
            // `audit verify --witness URL` reads back what the witness kept.
            let kept = try await HTTPWitness(url: "http://127.0.0.1:\(port)/witness").kept()
            let heads = try AuditVerification.witnessedHeads(text: kept, source: "witness")
            #expect(heads.map(\.checkpoint.seq) == [5, 10])
            let outcome = try await AuditVerification.verifyStore(
                store, publicKey: key.publicKey, schedule: AuditSchedule(every: 5, intervalSeconds: 300),
                witnessed: heads)
            #expect(outcome.problem == nil)
            #expect(outcome.witnessed == 2)
            await #expect(throws: AuditWitnessError.self) {
                try await HTTPWitness(url: "http://127.0.0.1:\(port)/elsewhere").kept()
            }
        }
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
