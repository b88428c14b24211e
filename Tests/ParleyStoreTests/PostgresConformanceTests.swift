import Foundation
import ParleyConformance
import ParleyCore
import Testing

@testable import ParleyStore

/// The handles one check opened, closed when it ends.
actor OpenedStores {
    private var stores: [PostgresStore] = []

    func open(_ url: PostgresURL) async throws -> PostgresStore {
        try await open(PostgresSettings(url: url, tls: .disable, pool: 4))
    }

    func open(_ settings: PostgresSettings) async throws -> PostgresStore {
        let store = try await PostgresStore.connect(settings)
        stores.append(store)
        return store
    }

    func closeAll() async {
        for store in stores { await store.close() }
        stores = []
    }
}

/// Runs `body` with a new, empty database on the test server and drops it afterwards.
func withFreshDatabase(_ body: (PostgresURL, OpenedStores) async throws -> Void) async throws {
    let url = try await TestPostgres.freshDatabase()
    let stores = OpenedStores()
    do {
        try await body(url, stores)
    } catch {
        await stores.closeAll()
        try? await TestPostgres.drop(url)
        throw error
    }
    await stores.closeAll()
    try await TestPostgres.drop(url)
}

@Suite(.requires(.postgres)) struct PostgresConformanceTests {
    @Test(arguments: StoreConformance.checks)
    func check(_ check: StoreCheck) async throws {
        try await withFreshDatabase { url, stores in
            try await check.body { try await stores.open(url) }
        }
    }
}

/// What only the PostgreSQL store has to show: replicas starting at once, errors that say what is
/// wrong without the password, tampering found by the chain.
@Suite(.requires(.postgres)) struct PostgresStoreTests {
    @Test func replicasStartingTogetherApplyEachMigrationOnce() async throws {
        try await withFreshDatabase { url, stores in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<4 { group.addTask { _ = try await stores.open(url) } }
                try await group.waitForAll()
            }
            let store = try await stores.open(url)
            let applied = try await store.rows("SELECT name FROM schema_migration").map {
                try $0.value("name", as: String.self)
            }
            #expect(applied == PostgresMigrations.all.map(\.name))
        }
    }

    @Test func aServerThatIsNotThereIsAClearErrorWithoutThePassword() async throws {
        var url = try TestPostgres.serverURL()
        url.port = 1
        url.password = "hunter2-secret"
        await #expect {
            _ = try await PostgresStore.connect(PostgresSettings(url: url, tls: .disable, pool: 1))
        } throws: { error in
            let text = "\(error)"
            return text.hasPrefix("cannot open the database at postgres://\(url.user):***@\(url.host):1/")
                && !text.contains("hunter2")
        }
    }

    @Test func aDatabaseThatDoesNotExistIsNamedInTheError() async throws {
        var url = try TestPostgres.serverURL()
        url.database = "parley_no_such_database"
        await #expect {
            _ = try await PostgresStore.connect(PostgresSettings(url: url, tls: .disable, pool: 1))
        } throws: { error in
            "\(error)".contains("parley_no_such_database") && "\(error)".contains("does not exist")
        }
    }

    @Test func anAlteredEntryIsNamedByTheChain() async throws {
        try await withFreshDatabase { url, stores in
            let store = try await stores.open(url)
            for index in 1...5 {
                _ = try await store.appendAudit(
                    [AuditDraft(kind: .received, actor: "alice", command: "deploy", detail: "step \(index)")],
                    at: Date())
            }
            let clean = try await store.feedAuditChain(to: AuditVerifier(fromGenesis: true))
            #expect(clean.problem == nil)
            #expect(clean.count == 5)
            // An intruder with database access rewrites entry 3.
            try await TestPostgres.execute("UPDATE audit SET detail = 'nothing happened' WHERE seq = 3", on: url)
            let tampered = try await store.feedAuditChain(to: AuditVerifier(fromGenesis: true))
            #expect(tampered.problem?.seq == 3)
        }
    }

    @Test func aDroppedTableIsReportedAsSuch() async throws {
        try await withFreshDatabase { url, stores in
            let store = try await stores.open(url)
            try await TestPostgres.execute("DROP TABLE audit_checkpoint", on: url)
            await #expect {
                _ = try await store.checkpoints()
            } throws: { error in
                "\(error)" == "the database has no table audit_checkpoint (it was dropped)"
            }
        }
    }
}

extension TestService {
    /// PgBouncer in session mode and in transaction mode in front of the test PostgreSQL.
    static let pgbouncer = TestService.environment(
        "PgBouncer",
        variables: ["PARLEY_TEST_POSTGRES_URL", "PARLEY_TEST_PGBOUNCER_URL", "PARLEY_TEST_PGBOUNCER_TRANSACTION_URL"],
        hint: "scripts/test starts Debian's pgbouncer twice (session and transaction mode) and sets "
            + "PARLEY_TEST_PGBOUNCER_URL and PARLEY_TEST_PGBOUNCER_TRANSACTION_URL")
}

/// The whole conformance suite again, every connection through PgBouncer, as an organisation that
/// pools its database connections runs Parley — in session mode, and in transaction mode too:
/// nothing in the store keeps state in a session (its advisory locks and settings are
/// transaction-scoped, statements are unnamed, nothing listens for notifications).
@Suite(.requires(.pgbouncer)) struct PgBouncerConformanceTests {
    static let modes = ["PARLEY_TEST_PGBOUNCER_URL", "PARLEY_TEST_PGBOUNCER_TRANSACTION_URL"]

    @Test(arguments: StoreConformance.checks, Self.modes)
    func check(_ check: StoreCheck, through variable: String) async throws {
        let text = try TestService.pgbouncer.require(ProcessInfo.processInfo.environment[variable])
        guard case .success(let bouncer) = PostgresURL.parse(text) else {
            Issue.record("\(variable) is not a postgres:// URL: \(text)")
            return
        }
        try await withFreshDatabase { url, stores in
            var through = bouncer
            through.database = url.database
            let pooled = through
            try await check.body { try await stores.open(pooled) }
        }
    }
}
