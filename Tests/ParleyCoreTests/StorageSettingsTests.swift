import Foundation
import Testing

@testable import ParleyCore

@Suite struct StorageSettingsTests {
    let loader = ConfigLoader(builtins: [], environment: ["DB": "postgres://parley:s3cret@db.internal:6543/ops"])

    func load(_ yaml: String) throws(ConfigError) -> ParleyConfig {
        try loader.load(yaml: yaml, file: "parley.yaml", baseDirectory: "/srv/parley")
    }

    func issues(_ yaml: String) -> [String] {
        do {
            _ = try load(yaml)
            return []
        } catch {
            return error.issues.map { "\($0.line): \($0.message)" }
        }
    }

    @Test func sqliteInTheDataDirectoryIsTheDefault() throws {
        #expect(try load("data_dir: state").storage == .embedded)
        #expect(try load("storage: sqlite").storage == .embedded)
        #expect(try load("storage: sqlite:db/parley.sqlite").storage == .sqlite(path: "/srv/parley/db/parley.sqlite"))
    }

    @Test func aURLIsTakenApart() throws {
        let config = try load("storage: postgres://parley:p%40ss@db.internal:6543/ops?sslmode=verify-full")
        let expected = PostgresURL(
            host: "db.internal", port: 6543, user: "parley", password: "p@ss", database: "ops", sslMode: .verifyFull)
        #expect(config.storage == .postgres(PostgresLocation(url: .literal(expected))))
        // The database password is masked in output like every other credential.
        #expect(config.adapterSecrets.contains(.value("p@ss")))
        guard case .postgres(let location) = config.storage else { return }
        let settings = try location.resolve(environment: [:]).get()
        #expect(settings.tls == .verifyFull)
        #expect(settings.pool == 10)
        #expect(settings.timeout == 30)
        #expect(settings.url.redacted == "postgres://parley:***@db.internal:6543/ops")
    }

    @Test func theURLMayComeFromTheEnvironment() throws {
        let config = try load(
            """
            storage:
              url: env:DB
              tls: require
              pool: 25
              timeout: 1m
            """)
        guard case .postgres(let location) = config.storage else {
            Issue.record("storage is \(config.storage)")
            return
        }
        #expect(location.url == .secret(.environment("DB")))
        let settings = try location.resolve(environment: ["DB": "postgres://parley:s3cret@db.internal:6543/ops"]).get()
        #expect(settings.url.password == "s3cret")
        #expect(settings.tls == .require)
        #expect(settings.pool == 25)
        #expect(settings.timeout == 60)
        #expect(config.adapterSecrets.contains(.reference(.environment("DB"))))
        // Not set where Parley starts: the error names the variable, not a value.
        #expect(throws: StorageSettingsError.self) { try location.resolve(environment: [:]).get() }
        let bad = location.resolve(environment: ["DB": "mysql://x"])
        #expect(
            throws: StorageSettingsError(
                "storage url env:DB: a PostgreSQL URL starts with postgres://; write postgres://USER:PASSWORD@HOST:PORT/DATABASE"
            )
        ) {
            try bad.get()
        }
    }

    @Test(arguments: [
        ("storage: mysql://root@db/ops", "1: storage: storage must be sqlite, sqlite:PATH or postgres://"),
        ("storage: postgres://db.internal/ops", "1: storage: the URL names no user"),
        ("storage: postgres://parley@db.internal", "1: storage: the URL names no database"),
        (
            "storage: postgres://parley@db.internal:99999/ops",
            "1: storage: the URL's port must be a number from 1 to 65535"
        ),
        (
            "storage: postgres://parley@db.internal:-1/ops",
            "1: storage: the URL's port must be a number from 1 to 65535"
        ),
        (
            "storage: postgres://parley@db.internal:99999999999999999999999/ops",
            "1: storage: the URL's port must be a number from 1 to 65535"
        ),
        ("storage: postgres://parley@db.internal/ops?sslmode=maybe", "1: storage: sslmode 'maybe' is not one of"),
        (
            "storage: postgres://parley@db.internal/ops?timeout=3",
            "1: storage: the URL's parameter 'timeout' is not known"
        ),
        (#"storage: "sqlite:""#, "1: storage: sqlite: needs a path"),
        ("storage:\n  tls: require", "2: storage needs a url"),
        ("storage:\n  url: env:DB\n  tls: sometimes", "3: storage tls 'sometimes' is not one of disable, prefer"),
        ("storage:\n  url: env:DB\n  pool: 0", "3: storage pool must be from 1 to 1000 connections, got 0"),
        ("storage:\n  url: env:DB\n  size: 3", "3: "),
        (
            "storage:\n  url: env:DB\n  timeout: 0s",
            "3: storage timeout must be a duration from 1s to 10m, like 30s, got '0s'"
        ),
        ("storage:\n  url: env:DB\n  timeout: 11m", "3: storage timeout must be a duration from 1s to 10m"),
        ("storage:\n  url: env:DB\n  timeout: soon", "3: storage timeout must be a duration"),
        (
            "storage:\n  url: env:DB\n  timeout: 99999999999999999999999s",
            "3: storage timeout must be a duration"
        ),
    ])
    func aBadSettingIsReportedWithItsLine(yaml: String, expected: String) {
        let found = issues(yaml)
        #expect(found.count == 1)
        #expect(found.first?.hasPrefix(expected) == true, "\(found)")
    }

    @Test func aPasswordIsNeverRepeatedInAnError() {
        for text in [
            "postgres://parley:topsecret@db.internal:0/ops", "postgres://parley:topsecret@/ops",
            "postgres://parley:topsecret@db:abc/ops", "postgres://parley:top%ZZsecret@db/ops",
        ] {
            guard case .failure(let error) = PostgresURL.parse(text) else {
                Issue.record("\(text) was accepted")
                continue
            }
            #expect(!error.message.contains("topsecret"), "\(error.message)")
        }
    }

    @Test func anIPv6HostIsWrittenInBrackets() throws {
        let url = try PostgresURL.parse("postgresql://parley@[::1]:5433/ops").get()
        #expect(url.host == "::1")
        #expect(url.port == 5433)
        #expect(url.redacted == "postgres://parley@[::1]:5433/ops")
    }
}
