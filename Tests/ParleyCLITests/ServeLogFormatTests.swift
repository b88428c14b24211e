import Foundation
import Testing

/// `parley serve --log-format json`: every line it writes, on either stream, is a JSON object a log
/// collector can read, and the first-start password is never in a log line.
@Suite struct ServeLogFormatTests {
    @Test func everyLineIsJSONAndTheFirstPasswordGoesToAPrivateFile() async throws {
        let directory = try scratch()
        let config = directory.appendingPathComponent("parley.yaml").path
        try """
        server: { listen: "127.0.0.1:0" }
        users:
          alice: { roles: [ops], identities: ["web:alice"] }
        roles:
          ops: { allow: ["*"] }
        """.write(toFile: config, atomically: true, encoding: .utf8)
        let log = directory.appendingPathComponent("serve.out")
        let errors = directory.appendingPathComponent("serve.err")
        let server = try await ServeProcess.start(config: config, log: log, errors: errors)
        kill(server.pid, SIGTERM)
        #expect(try await server.waitForExit(within: .seconds(20)))
        #expect(server.exitedCleanly)

        let file = directory.appendingPathComponent(".parley/first-password")
        let password = try String(contentsOf: file, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(password.count >= 12)
        let mode = try FileManager.default.attributesOfItem(atPath: file.path)[.posixPermissions] as? Int
        #expect(mode == 0o600)

        let out = try String(contentsOf: log, encoding: .utf8)
        let err = try String(contentsOf: errors, encoding: .utf8)
        let lines = (out + err).split(separator: "\n")
        #expect(lines.contains { $0.contains("listening: open http://127.0.0.1:") })
        #expect(lines.contains { $0.contains("first-password") && $0.contains("alice") })
        for line in lines {
            let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            #expect(object?["level"] is String && object?["message"] is String, "not a JSON log line: \(line)")
        }
        #expect(!out.contains(password) && !err.contains(password))
    }
}
