import Foundation
import ParleyConformance
import ParleyCore
import ParleyStore
import Testing

extension TestService {
    /// The PostgreSQL of `scripts/test` with TLS on and the CA that signed its certificate.
    static let postgresTLS = TestService.environment(
        "PostgreSQL with TLS", variables: ["PARLEY_TEST_POSTGRES_URL", "PARLEY_TEST_POSTGRES_CA"],
        hint: "scripts/test starts its PostgreSQL with ssl = on (a certificate for 127.0.0.1 from its test CA) "
            + "and sets PARLEY_TEST_POSTGRES_CA")
}

/// TLS to the database against a real PostgreSQL with `ssl = on`: `verify-full` with the CA that
/// signed the server's certificate encrypts every connection of the pool; with another CA it refuses
/// to connect, saying why; `require` encrypts without checking; `disable` does not encrypt.
@Suite(.requires(.postgresTLS)) struct PostgresTLSTests {
    var ca: String { ProcessInfo.processInfo.environment["PARLEY_TEST_POSTGRES_CA"] ?? "" }

    /// How many of the server's connections to `database` are encrypted, and how many there are.
    func connections(to database: PostgresURL) async throws -> (encrypted: Int, all: Int) {
        let server = try TestPostgres.serverURL()
        let encrypted = try await TestPostgres.integer(
            """
            SELECT count(*)::bigint FROM pg_stat_ssl JOIN pg_stat_activity USING (pid)
            WHERE datname = '\(database.database)' AND ssl
            """, on: server)
        let all = try await TestPostgres.integer(
            "SELECT count(*)::bigint FROM pg_stat_activity WHERE datname = '\(database.database)'", on: server)
        return (encrypted, all)
    }

    /// Opens a store on `database`, records a run through it (the pool's connections are opened by
    /// then) and returns what the server saw, with the store closed afterwards.
    func use(_ settings: PostgresSettings) async throws -> (encrypted: Int, all: Int) {
        let store = try await PostgresStore.connect(settings)
        let run = try await store.insertRun(
            RunRecord(
                userName: "alice", identity: "local:alice", room: "terminal", text: "deploy api", commandID: "deploy",
                decision: .allowed, status: .succeeded))
        #expect(try await store.run(id: try #require(run.id))?.text == "deploy api")
        let seen = try await connections(to: settings.url)
        await store.close()
        return seen
    }

    @Test func verifyFullWithTheServersCAEncryptsEveryConnection() async throws {
        let database = try await TestPostgres.freshDatabase()
        let seen = try await use(PostgresSettings(url: database, tls: .verifyFull, caFile: ca, pool: 2))
        #expect(seen.all > 0 && seen.encrypted == seen.all, "\(seen)")
        try? await TestPostgres.drop(database)
    }

    @Test func verifyFullWithAnotherCARefusesToConnectAndSaysWhy() async throws {
        let database = try await TestPostgres.freshDatabase()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        // A CA of its own, which did not sign the server's certificate.
        let other = directory.appendingPathComponent("other-ca.pem").path
        let made = try await runOpenSSL([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=Another CA",
            "-keyout", directory.appendingPathComponent("other-ca.key").path, "-out", other,
        ])
        try #require(made == 0)
        do {
            _ = try await PostgresStore.connect(PostgresSettings(url: database, tls: .verifyFull, caFile: other))
            Issue.record("connected to a server whose certificate another CA signed")
        } catch let error as StoreError {
            let text = "\(error)"
            #expect(text.contains(database.redacted), "\(text)")
            #expect(text.contains("is not signed by the CA in \(other)") && text.contains("set `ca:`"), "\(text)")
        }
        // A CA file that is not there is named too.
        do {
            _ = try await PostgresStore.connect(
                PostgresSettings(
                    url: database, tls: .verifyFull, caFile: directory.appendingPathComponent("no.pem").path))
            Issue.record("connected with a CA file that does not exist")
        } catch let error as StoreError {
            #expect("\(error)".contains("no.pem"), "\(error)")
        }
        #expect(try await connections(to: database).all == 0, "no connection was left open")
        try? await TestPostgres.drop(database)
    }

    @Test func requireEncryptsAndDisableDoesNot() async throws {
        // A database each, so that no connection of one lingers in the other's count.
        let encrypted = try await TestPostgres.freshDatabase()
        let required = try await use(PostgresSettings(url: encrypted, tls: .require, pool: 2))
        #expect(required.all > 0 && required.encrypted == required.all, "\(required)")
        let clear = try await TestPostgres.freshDatabase()
        let plain = try await use(PostgresSettings(url: clear, tls: .disable, pool: 2))
        #expect(plain.all > 0 && plain.encrypted == 0, "\(plain)")
        try? await TestPostgres.drop(encrypted)
        try? await TestPostgres.drop(clear)
    }

    func runOpenSSL(_ arguments: [String]) async throws -> Int32 {
        try await offThread {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
            process.arguments = arguments
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            process.waitUntilExit()
            return process.terminationStatus
        }
    }
}
