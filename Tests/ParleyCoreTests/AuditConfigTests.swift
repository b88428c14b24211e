import Foundation
import Testing

@testable import ParleyCore

@Suite struct AuditConfigTests {
    func load(_ yaml: String, environment: [String: String] = ["KEY": "abc"]) -> Result<ParleyConfig, ConfigError> {
        Result { () throws(ConfigError) -> ParleyConfig in
            try ConfigLoader(builtins: [], environment: environment)
                .load(yaml: yaml, file: "parley.yaml", baseDirectory: "/srv/parley")
        }
    }

    @Test func theAuditSectionReadsTheScheduleTheKeyAndTheWitnesses() throws {
        let config = try load(
            """
            audit:
              checkpoint_every: 50
              checkpoint_interval: 2m
              signing_key: file:keys/audit.key
              witnesses: ["file:/var/log/parley/witness.jsonl", "file:local.jsonl", "https://witness.example.com/in"]
            """
        ).get()
        #expect(config.audit.schedule == AuditSchedule(every: 50, intervalSeconds: 120))
        #expect(config.audit.signingKey == .file("/srv/parley/keys/audit.key"))
        #expect(
            config.audit.witnesses == [
                .file("/var/log/parley/witness.jsonl"), .file("/srv/parley/local.jsonl"),
                .url("https://witness.example.com/in"),
            ])
    }

    @Test func theDefaultScheduleIsEveryHundredEntriesOrFiveMinutes() throws {
        let config = try load("users: {}").get()
        #expect(config.audit.schedule == AuditSchedule(every: 100, intervalSeconds: 300))
        #expect(config.audit.signingKey == nil)
        #expect(config.audit.witnesses.isEmpty)
    }

    @Test func badAuditValuesAreNamedWithTheirLine() {
        let yaml = """
            audit:
              checkpoint_interval: soon
              signing_key: /etc/key
              witnesses: ["ftp://x"]
            """
        guard case .failure(let error) = load(yaml) else {
            Issue.record("the configuration was accepted")
            return
        }
        #expect(
            error.issues.map(\.description) == [
                "parley.yaml:2:24: checkpoint_interval 'soon' is not a duration; write 5m or 1h",
                "parley.yaml:3:16: signing_key must be env:NAME or file:PATH",
                "parley.yaml:4:15: witness 'ftp://x' must be file:PATH or an http(s) URL",
            ])
        guard case .failure(let unset) = load("audit: { signing_key: env:PARLEY_AUDIT_KEY }", environment: [:]) else {
            Issue.record("an unset key variable was accepted")
            return
        }
        #expect(unset.issues.first?.message == "signing_key: environment variable PARLEY_AUDIT_KEY is not set")
    }
}
