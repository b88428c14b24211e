import Foundation
import Testing

@testable import ParleyCore

/// `incidents:` and `paging:` read with every problem named at its line.
@Suite struct IncidentConfigTests {
    func issues(_ yaml: String) -> [String] {
        do {
            _ = try ConfigLoader(builtins: []).load(yaml: yaml, file: "p.yaml", baseDirectory: "/srv")
            return []
        } catch {
            return error.issues.map { "\($0.line): \($0.message)" }
        }
    }

    static let base = """
        adapters:
          irc: { server: "127.0.0.1:6667", nick: parley, channels: ["#ops"] }
        users:
          alice: { roles: [sre], identities: ["irc:alice"] }
        roles:
          sre: { allow: [] }

        """

    @Test func aValidSectionReadsBack() throws {
        let config = try ConfigLoader(builtins: [], environment: ["HOOK": "s3cret"]).load(
            yaml: Self.base + """
                paging:
                  webhook: { url: "https://pager.example.org/hook", secret: env:HOOK }
                  policies:
                    payments:
                      repeat: 2
                      levels:
                        - { notify: ["user:alice", "room:irc:#ops"], after: 5m }
                        - { notify: [webhook], after: 10m }
                incidents:
                  stakeholder_rooms: ["irc:#ops"]
                  severities:
                    sev1: { update_every: 30m, page: payments }
                    minor: {}
                """, file: "p.yaml", baseDirectory: "/srv")
        let policy = try #require(config.paging.policy("payments"))
        #expect(policy.repeats == 2)
        #expect(policy.levels.map(\.waitSeconds) == [300, 600])
        #expect(policy.levels[0].targets == [.user("alice"), .room("irc:#ops")])
        #expect(config.incidents.severities.map(\.name) == ["sev1", "minor"])
        #expect(config.incidents.severity("SEV1")?.page == "payments")
        #expect(config.incidents.severity("sev1")?.updateEverySeconds == 1800)
    }

    @Test func mistakesAreNamedWithTheirLines() {
        let found = issues(
            Self.base + """
                paging:
                  policies:
                    payments:
                      levels:
                        - { notify: ["user:zed", pagerduty, "oncall:nowhere", "room:slack:C1", beeper], after: 2s }
                incidents:
                  room_prefix: "INC!"
                  severities:
                    sev1: { update_every: 10s, page: nothing }
                  roles:
                    comms: { allow: [deploy] }
                """)
        #expect(found.contains("11: notify names user 'zed', who is not under users"))
        #expect(found.contains("11: notify names pagerduty, but paging.pagerduty is not configured"))
        #expect(found.contains("11: notify names schedule 'nowhere', which oncall.schedules does not have"))
        #expect(
            found.contains("11: notify 'room:slack:C1' must name a room on a configured platform, as room:irc:#ops"))
        #expect(found.contains { $0.hasPrefix("11: notify 'beeper' is not a target") })
        #expect(found.contains("11: after '2s' must be a duration from 1m to 24h, as in 5m"))
        #expect(found.contains("13: room_prefix must be 1 to 20 lowercase letters, digits or '-', as in inc"))
        #expect(found.contains("15: update_every '10s' must be a duration from 1m to 7d, as in 30m"))
        #expect(
            found.contains {
                $0.hasPrefix("15: page names escalation policy 'nothing', which paging.policies does not have")
            })
        #expect(found.contains { $0.hasPrefix("17: an incident role may only allow incident commands") })
    }
}
