import Foundation
import Testing

@testable import ParleyCore

/// Hardening of Core's readers of outside input: each test failed before its fix.
@Suite struct CoreHardeningTests {
    let loader = ConfigLoader(builtins: [], environment: [:])

    func issues(_ yaml: String) -> [ConfigIssue] {
        do {
            _ = try loader.load(yaml: yaml, file: "parley.yaml", baseDirectory: "/srv/parley")
            return []
        } catch {
            return error.issues
        }
    }

    @Test func matrixRoomIdsOfRoomVersion12AreAccepted() {
        let base =
            "adapters:\n  matrix: { homeserver: \"http://127.0.0.1:1\", user_id: \"@parley:example.org\", access_token: t, rooms: [ROOM] }\n"
        for good in [
            "\"!PxwngvC-vmPgVFB-0bHX4D1leTVkv5-nYWeKiFOohzo\"", "\"!abc:example.org\"", "\"#ops:example.org\"",
        ] {
            #expect(issues(base.replacingOccurrences(of: "ROOM", with: good)).isEmpty, "\(good)")
        }
        for bad in ["ops", "\"!\"", "\"!a b\"", "\"#ops\"", "\"!short\""] {
            let found = issues(base.replacingOccurrences(of: "ROOM", with: bad))
            #expect(found.contains { $0.message.contains("must be an id") }, "\(bad): \(found)")
        }
    }

    @Test func sizesThatOverflowAreRefusedNotTrapped() {
        #expect(CommandReader.byteCount("9223372036854775807MiB") == nil)
        #expect(CommandReader.byteCount("-5KiB") == nil)
        #expect(CommandReader.byteCount("64KiB") == 65536)
        let found = issues("server: { max_body: 99999999999999999MiB }\n")
        #expect(found.contains { $0.message.contains("max_body") })
        #expect(DurationText.interval("infms") == nil)
        #expect(DurationText.interval("1e400ms") == nil)
        #expect(DurationText.backoff(.greatestFiniteMagnitude, attempt: 99) == .seconds(3600))
    }

    @Test func aFileThatIsNotUTF8SaysWhere() throws {
        let path = NSTemporaryDirectory() + "parley-\(UUID().uuidString).yaml"
        var bytes = Array("prefix: \"!\"\nbot_name: pa".utf8)
        bytes.append(0xFF)
        bytes += Array("rley\n".utf8)
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            _ = try loader.load(path: path)
            Issue.record("invalid UTF-8 was accepted")
        } catch {
            let issue = try #require(error.issues.first)
            #expect(issue.line == 2 && issue.column == 13, "\(issue)")
            #expect(issue.message.contains("not UTF-8"))
        }
    }

    @Test func checkingThousandsOfCommandsComparesOnlyUsagesThatCanClash() {
        var usages: [UsageAmbiguity.Expanded] = []
        for index in 0..<2000 {
            let pattern = try? UsagePattern("cmd\(index) {app}")
            usages.append(UsageAmbiguity.Expanded(pattern.map { [$0] } ?? []))
        }
        let candidates = UsageAmbiguity.candidates(usages)
        // Distinct first words: nobody is compared with anybody (it was every pair, 2 million).
        let compared = candidates.reduce(0) { $0 + $1.count }
        #expect(compared == 0)
        // Two usages that do clash are still found.
        let clashing = ["deploy {app}", "deploy {service}"].compactMap { try? UsagePattern($0) }
        #expect(UsageAmbiguity.example([clashing[0]], [clashing[1]]) != nil)
    }

    @Test func aMentionTypedTwiceStillReachesTheCommand() {
        let addressing = Addressing(prefix: "!", names: ["parley"])
        #expect(addressing.commandText(in: "@parley @parley echo x", isDirect: false) == "echo x")
        #expect(addressing.commandText(in: "parley: @parley echo x", isDirect: false) == "echo x")
    }

    @Test func aSecretCutByTheOutputCapIsNeverPartlyShown() {
        let secret = "s3cr3t-value-of-31-characters!!"
        let masker = SecretMasker(values: [secret])
        let text = String(repeating: "a", count: 100) + secret + "tail"
        for limit in 95...140 {
            let cut = masker.maskAndCut(text, maxBytes: limit)
            #expect(cut.utf8.count <= limit + SecretMasker.mask.utf8.count)
            for length in 3...secret.count { #expect(!cut.contains(secret.prefix(length)), "limit \(limit)") }
        }
    }
}
