import Foundation
import Testing

@testable import ParleyStore

/// The SQLite store held to the checks every store must pass; each check gets its own data directory,
/// and every `open` is another handle on the same database file.
@Suite struct SQLiteConformanceTests {
    @Test(arguments: StoreConformance.checks)
    func check(_ check: StoreCheck) async throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try await check.body { try SQLiteStore(dataDirectory: directory) }
    }
}
