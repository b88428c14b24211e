import Foundation
import ParleyConformance
import ParleyCore
import ParleyStore
import Testing

/// Replicas sharing a PostgreSQL database sign audit checkpoints with one key, so the log verifies
/// with one public key: a replica with another key refuses to start and says what to set.
@Suite(.requires(.postgres)) struct SharedSigningKeyTests {
    func config(_ directory: URL, _ name: String, database: PostgresURL, key: String) throws -> String {
        let path = directory.appendingPathComponent("\(name).yaml").path
        try """
        storage: { url: "\(database.redacted)", tls: disable, pool: 2 }
        data_dir: "\(directory.appendingPathComponent("data-\(name)").path)"
        audit: { signing_key: "file:\(key)" }
        users:
          alice: { roles: [ops], identities: ["local:alice"] }
        roles:
          ops: { allow: ["*"] }
        """.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func aReplicaWithAnotherSigningKeyRefusesToStartAndNamesBothKeys() async throws {
        let database = try await TestPostgres.freshDatabase()
        let directory = try scratch()
        let keyA = directory.appendingPathComponent("a.key").path
        let keyB = directory.appendingPathComponent("b.key").path
        let first = try config(directory, "a", database: database, key: keyA)
        let second = try config(directory, "b", database: database, key: keyB)

        let a = try await ParleyBinary.run(["chat", "--as", "local:alice", "--config", first], stdin: "whoami\n")
        #expect(a.status == 0, "\(a.error)")
        let b = try await ParleyBinary.run(["chat", "--as", "local:alice", "--config", second], stdin: "whoami\n")
        #expect(b.status != 0)
        #expect(b.error.contains("replicas sharing a database must share the key"), "\(b.error)")
        let publicA = try await ParleyBinary.run(["audit", "public-key", "--config", first]).output
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let publicB = try await ParleyBinary.run(["audit", "public-key", "--config", second]).output
            .trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(!publicA.isEmpty && publicA != publicB)
        #expect(b.error.contains(publicA) && b.error.contains(publicB), "\(b.error)")
        #expect(!b.output.contains("alice"), "it answered nothing")

        // Given the shared key, it starts; the log verifies with the one public key.
        try FileManager.default.removeItem(atPath: keyB)
        try FileManager.default.copyItem(atPath: keyA, toPath: keyB)
        let again = try await ParleyBinary.run(["chat", "--as", "local:alice", "--config", second], stdin: "whoami\n")
        #expect(again.status == 0, "\(again.error)")
        let verify = try await ParleyBinary.run(["audit", "verify", "--config", second, "--public-key", publicA])
        #expect(verify.status == 0, "\(verify.output)\(verify.error)")
        try await TestPostgres.drop(database)
    }
}
