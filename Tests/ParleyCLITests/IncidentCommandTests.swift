import Foundation
import Testing

/// `parley incident list` and `parley incident export`, on a store an incident was run in.
@Suite struct IncidentCommandTests {
    @Test func anIncidentIsListedAndItsPostmortemExportedAsMarkdownAndJSON() async throws {
        let directory = try scratch()
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = directory.appendingPathComponent("parley.yaml").path
        try """
        data_dir: data
        users: { alice: { roles: [ops], identities: ["local:*"] } }
        roles: { ops: { allow: ["*"] } }
        """.write(toFile: config, atomically: true, encoding: .utf8)
        let declared = try await ParleyBinary.run(
            ["run", #"incident declare sev1 "Disk | full" --commander alice"#, "--config", config])
        #expect(declared.status == 0, "\(declared.error)")
        #expect(declared.output.contains("INC-1 declared (sev1): Disk | full"))
        _ = try await ParleyBinary.run(["run", "incident note --incident INC-1 grew the volume", "--config", config])
        let list = try await ParleyBinary.run(["incident", "list", "--config", config])
        #expect(list.output.hasPrefix("INC-1  sev1  investigating  "))
        let markdown = try await ParleyBinary.run(["incident", "export", "INC-1", "--config", config])
        #expect(markdown.status == 0)
        #expect(markdown.output.hasPrefix("# INC-1: Disk \\| full\n"))
        #expect(markdown.output.contains("| note | grew the volume | #"))
        let json = try await ParleyBinary.run(["incident", "export", "1", "--format", "json", "--config", config])
        let object = try JSONSerialization.jsonObject(with: Data(json.output.utf8)) as? [String: Any]
        #expect((object?["incident"] as? [String: Any])?["title"] as? String == "Disk | full")
        let missing = try await ParleyBinary.run(["incident", "export", "INC-7", "--config", config])
        #expect(missing.status != 0)
        #expect(missing.error.contains("there is no incident INC-7 in this store"))
        let bad = try await ParleyBinary.run(["incident", "export", "INC-x", "--config", config])
        #expect(bad.error.contains("'INC-x' is not an incident number; write INC-42"))
    }
}
