import Foundation
import Logging
import ParleyCore
import PostgresNIO
import Testing

extension TestService {
    /// A PostgreSQL server that `scripts/test` starts (its own cluster on a free port).
    public static let postgres = TestService.environment(
        "PostgreSQL", variables: ["PARLEY_TEST_POSTGRES_URL"],
        hint: "scripts/test starts one and sets PARLEY_TEST_POSTGRES_URL=postgres://USER@127.0.0.1:PORT/postgres")
}

/// Databases for tests on the PostgreSQL server of `scripts/test`: each test gets its own, empty.
public enum TestPostgres {
    /// The server's URL (its maintenance database), or a failure naming the missing service.
    public static func serverURL() throws -> PostgresURL {
        let text = try TestService.postgres.require(ProcessInfo.processInfo.environment["PARLEY_TEST_POSTGRES_URL"])
        switch PostgresURL.parse(text) {
        case .success(let url): return url
        case .failure(let error): throw TestPostgresError(message: "PARLEY_TEST_POSTGRES_URL: \(error.message)")
        }
    }

    /// Creates a new, empty database and returns its URL.
    public static func freshDatabase() async throws -> PostgresURL {
        var url = try serverURL()
        let name = "parley_test_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        try await execute("CREATE DATABASE \(name)", on: url)
        url.database = name
        return url
    }

    /// Drops a database `freshDatabase` made, even when a killed process's sessions still linger.
    public static func drop(_ url: PostgresURL) async throws {
        try await execute("DROP DATABASE IF EXISTS \(url.database) WITH (FORCE)", on: try serverURL())
    }

    /// The integer in the first column of the first row a query (no parameters) returns.
    public static func integer(_ sql: String, on url: PostgresURL) async throws -> Int {
        try await query(sql, on: url).first?.decode(Int.self) ?? 0
    }

    /// Runs one statement (no parameters) on the database at `url`.
    public static func execute(_ sql: String, on url: PostgresURL) async throws {
        _ = try await query(sql, on: url)
    }

    /// The rows of one statement (no parameters), on a connection of its own to `url`.
    private static func query(_ sql: String, on url: PostgresURL) async throws -> [PostgresRow] {
        let logger = Logger(label: "parley.test.postgres")
        let connection = try await PostgresConnection.connect(
            configuration: PostgresConnection.Configuration(
                host: url.host, port: url.port, username: url.user, password: url.password, database: url.database,
                tls: .disable),
            id: 1, logger: logger)
        do {
            let rows = try await connection.query(PostgresQuery(unsafeSQL: sql), logger: logger).collect()
            try await connection.close()
            return rows
        } catch {
            try? await connection.close()
            throw TestPostgresError(message: "\(sql): \(String(reflecting: error))")
        }
    }
}

/// A statement of a test's set-up that PostgreSQL refused.
public struct TestPostgresError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}
