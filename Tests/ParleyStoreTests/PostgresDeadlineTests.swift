import Foundation
import ParleyConformance
import ParleyCore
import Testing

@testable import ParleyStore

/// A database that stops answering (a partition that drops packets, a failed-over host) must not
/// hang the replica: its callers are told within the deadline, the store says it is stuck, and it
/// works again once the connections are reset.
@Suite(.requires(.postgres)) struct PostgresDeadlineTests {
    @Test(.timeLimit(.minutes(2)))
    func aDatabaseThatStopsAnsweringFailsCallersInTimeAndTheStoreRecovers() async throws {
        try await withFreshDatabase { url, stores in
            let proxy = try await FreezingProxy.start(to: url.port)
            defer { proxy.stop() }
            var proxied = url
            proxied.port = proxy.port
            let store = try await stores.open(PostgresSettings(url: proxied, tls: .disable, pool: 2, timeout: 2))
            let first = try await store.insertRun(StoreConformance.run("deploy api"))
            #expect(store.stuckOperations == 0)

            proxy.freeze()
            // A change and a read, each answered with the reason instead of waiting as long as the database.
            await #expect(throws: StoreError.self) { _ = try await store.insertRun(StoreConformance.run("deploy web")) }
            do {
                _ = try await store.run(id: first.id ?? 0)
                Issue.record("a read through a frozen connection returned")
            } catch let error as StoreError {
                guard case .timedOut(let seconds) = error else {
                    Issue.record("expected a timeout, got \(error)")
                    throw error
                }
                #expect(seconds == 2)
                #expect("\(error)".contains("did not answer within 2 s"))
            }
            #expect(store.stuckOperations >= 1)
            #expect(store.isNotAnswering)
            #expect(store.timedOutOperations == 2)

            // The partition ends with its connections reset: the abandoned operations end, and the
            // store answers again on new connections.
            proxy.cut()
            #expect(try await eventually(seconds: 60) { store.stuckOperations == 0 })
            let again = try await eventually(seconds: 60) { (try? await store.run(id: first.id ?? 0)) != nil }
            #expect(again)
            #expect(!store.isNotAnswering)
            let runs = try await store.runs(RunQuery(limit: 10)).map(\.text)
            // The change that timed out was rolled back by the server (its COMMIT never arrived).
            #expect(runs == ["deploy api"])
        }
    }

    /// PostgreSQL drops the store's connections while it commits (a restart, a failover,
    /// `pg_terminate_backend`): every commit either lands or fails with a reason, none waits for ever,
    /// the chain stays one line, and the store goes on.
    @Test(.timeLimit(.minutes(3)))
    func connectionsDroppedDuringCommitsLoseNothingAndHangNothing() async throws {
        try await withFreshDatabase { url, stores in
            let store = try await stores.open(PostgresSettings(url: url, tls: .disable, pool: 4, timeout: 5))
            let server = try TestPostgres.serverURL()
            let attempts = 60
            let committing = Task {
                var landed = 0
                var failures: [String] = []
                for index in 0..<attempts {
                    do {
                        _ = try await store.appendAudit(
                            [AuditDraft(kind: .received, actor: "alice", command: "deploy", detail: "commit \(index)")],
                            at: Date())
                        landed += 1
                    } catch {
                        failures.append("\(error)")
                    }
                }
                return (landed, failures)
            }
            for _ in 0..<4 {
                try await Task.sleep(for: .milliseconds(150))
                try await TestPostgres.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '\(url.database)' AND pid <> pg_backend_pid()",
                    on: server)
            }
            let (landed, failures) = await committing.value
            // A commit whose answer was lost may have landed without its caller knowing; none lands twice.
            let chain = try await store.feedAuditChain(to: AuditVerifier(fromGenesis: true))
            #expect(chain.problem == nil, "\(chain.problem.map(String.init(describing:)) ?? "")")
            #expect(chain.count >= landed && chain.count <= attempts, "\(chain.count) entries, \(landed) landed")
            #expect(landed + failures.count == attempts)
            #expect(landed > 0)
            for failure in failures {
                #expect(
                    failure.contains("did not answer") || failure.contains("onnection") || failure.contains("SQLSTATE"),
                    "\(failure)")
            }
            // And it goes on.
            let after = try await store.appendAudit(
                [AuditDraft(kind: .received, actor: "bob", detail: "after")], at: Date())
            #expect(after.first?.seq == Int64(chain.count) + 1)
            // A statement PostgresNIO lost may stay stuck; answered since, the store is not reported as down.
            #expect(!store.isNotAnswering)
        }
    }

    /// Polls `condition` until it holds or `seconds` pass; looks once more after the deadline.
    func eventually(seconds: Double, _ condition: () async -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + .seconds(seconds)
        while ContinuousClock.now < deadline {
            if await condition() { return true }
            try await Task.sleep(for: .milliseconds(100))
        }
        return await condition()
    }
}
