import Foundation
import Testing

@testable import ParleyCore

/// `oncall:` in parley.yaml: what it reads, and every mistake reported at its line.
@Suite struct OnCallReaderTests {
    static let users: Set<String> = ["alice", "bob", "carol", "dave"]

    func read(_ yaml: String) -> (settings: OnCallSettings, issues: [String]) {
        let result = OnCallReader.read(
            yaml: yaml, file: "parley.yaml", environment: ["OPS_ROOM": "irc:#ops"], users: Self.users,
            platforms: ["irc"])
        return (result.settings, result.issues.map(\.description))
    }

    @Test func aValidSectionReadsEverySchedule() throws {
        let (settings, issues) = read(
            """
            oncall:
              schedules:
                payments:
                  time_zone: Europe/Paris
                  handoff_room: "${OPS_ROOM}"
                  layers:
                    - name: primary
                      rotation: weekly
                      start: "2026-01-05 09:00"
                      people: [alice, bob, carol]
                      restrict: { days: [mon, tue, wed, thu, fri], hours: "09:00-18:00" }
                    - name: nights
                      rotation: { every: 12h }
                      start: 2026-01-05T21:00
                      people: [dave]
                      restrict: { days: mon-fri, hours: "21:00-09:00" }
                web:
                  time_zone: America/New_York
                  layers:
                    - { name: all, rotation: daily, start: "2026-01-05 00:00", people: [bob] }
                    - { name: weekend, rotation: daily, start: "2026-01-05 00:00", people: [carol], restrict: { days: [sat-sun] } }
            """)
        #expect(issues == [])
        let payments = try #require(settings.schedule(named: "payments"))
        #expect(payments.timeZone.identifier == "Europe/Paris")
        #expect(payments.handoffRoom == "irc:#ops")
        #expect(payments.layers.map(\.name) == ["primary", "nights"])
        #expect(payments.layers[0].rotation == .weekly)
        #expect(payments.layers[0].start.description == "2026-01-05 09:00")
        #expect(payments.layers[0].people == ["alice", "bob", "carol"])
        #expect(payments.layers[0].restriction?.description == "mon-fri 09:00-18:00")
        #expect(payments.layers[1].rotation == .every(seconds: 12 * 3600))
        #expect(
            payments.layers[1].restriction
                == payments.layers[0].restriction.map { _ in
                    OnCallRestriction(
                        days: [.monday, .tuesday, .wednesday, .thursday, .friday], opens: 21 * 3600, closes: 9 * 3600)
                })
        let web = try #require(settings.schedule(named: "web"))
        #expect(web.layers[1].restriction?.days == [.saturday, .sunday])
        #expect(web.layers[1].restriction?.description == "sat,sun 00:00-24:00")
        // The schedule works as read: Monday 5 January 2026, 10:00 in Paris is alice's (business hours).
        #expect(payments.onCall(at: try OnCallFixture.instant("2026-01-05T10:00:00+01:00")) == "alice")
        #expect(payments.onCall(at: try OnCallFixture.instant("2026-01-05T22:00:00+01:00")) == "dave")
        #expect(web.onCall(at: try OnCallFixture.instant("2026-01-10T12:00:00-05:00")) == "carol")
    }

    @Test func everyMistakeIsReportedAtItsLine() {
        let (settings, issues) = read(
            """
            oncall:
              schedules:
                payments:
                  time_zone: Europe/Pariss
                  handoff_room: "#ops"
                  layers:
                    - name: primary
                      rotation: weekley
                      start: "2026-02-30 09:00"
                      people: []
                      restrict: { days: [mon, fry], hours: "09:00-18" }
                    - name: second
                      rotation: { every: 12h }
                      start: "2026-01-05 09:00"
                      people: [alice, bobb]
                      restrt: {}
                    - name: second
                      rotation: daily
                      start: "2026-01-05 09:00"
                      people: [carol]
                    - name: fast
                      rotation: { every: 30m }
                      start: "yesterday"
                      people: carol
                    - name: typed
                      rotation: 12h
                    - name: wrapped
                      rotation: daily
                      start: "2026-01-05 09:00"
                      people: [dave]
                      restrict: { hours: "09:00-09:00" }
                web:
                  time_zone: PST
                  timezone: UTC
                  layers: []
                "bad name!":
                  time_zone: europe/paris
                  layers: [{ name: x, rotation: daily, start: "2026-01-05 09:00", people: [alice] }]
                lonely:
                  handoff_room: "slack:C1"
            """)
        #expect(settings.schedules.isEmpty)
        #expect(
            issues == [
                "parley.yaml:4:18: unknown time zone 'Europe/Pariss' in schedule 'payments'; did you mean 'Europe/Paris'?",
                "parley.yaml:5:21: handoff_room '#ops' must be platform:room, as in slack:C024BE91L or irc:#ops",
                "parley.yaml:8:21: rotation must be daily, weekly or { every: 12h }, got 'weekley'; did you mean 'weekly'?",
                "parley.yaml:9:18: start '2026-02-30 09:00': there is no day 30 in 2026-02, which has 28 days",
                "parley.yaml:10:19: people is empty: a layer needs at least one person",
                "parley.yaml:11:35: restrict days: unknown day 'fry'; write mon, tue, wed, thu, fri, sat or sun",
                "parley.yaml:11:48: restrict hours '09:00-18' must read HH:MM-HH:MM, as in 09:00-18:00 or 22:00-06:00",
                "parley.yaml:15:27: 'bobb' is not a user; did you mean 'bob'?",
                "parley.yaml:16:11: unknown key 'restrt' in a layer of schedule 'payments'; did you mean 'restrict'?",
                "parley.yaml:17:11: schedule 'payments' has two layers named 'second'; the first is earlier (line 12)",
                "parley.yaml:22:30: every '30m' must be at least 1h and at most 366d",
                "parley.yaml:23:18: start 'yesterday' is not a date and time; write \"2026-01-05 09:00\" (in time_zone)",
                "parley.yaml:25:11: layer 'typed' of schedule 'payments' needs start, people (as in start: \"2026-01-05 09:00\")",
                "parley.yaml:26:21: rotation must be daily, weekly or { every: 12h }: write { every: 12h } for shifts of 12h",
                "parley.yaml:31:30: restrict hours '09:00-09:00' open and close at once; write 00:00-24:00 for the whole day",
                "parley.yaml:33:18: time zone 'PST' in schedule 'web' is an abbreviation with one offset all year; write an IANA name such as America/New_York or Europe/Paris",
                "parley.yaml:34:7: unknown key 'timezone' in schedule 'web'; did you mean 'time_zone'?",
                "parley.yaml:35:15: schedule 'web' needs at least one layer",
                "parley.yaml:36:5: a schedule's name is letters, digits, - and _, as in payments or web-oncall",
                "parley.yaml:40:7: schedule 'lonely' needs time_zone, an IANA name such as Europe/Paris or America/New_York",
                "parley.yaml:40:7: schedule 'lonely' needs layers: at least one rotation of people",
                "parley.yaml:40:21: handoff_room 'slack:C1' is on slack, which is not configured under adapters (configured: irc)",
            ])
    }

    @Test func aZoneInTheWrongCaseIsNamedExactly() {
        let (_, issues) = read(
            """
            oncall:
              schedules:
                web:
                  time_zone: america/new_york
                  layers: [{ name: x, rotation: daily, start: "2026-01-05 09:00", people: [alice] }]
            """)
        #expect(
            issues == [
                "parley.yaml:4:18: unknown time zone 'america/new_york'; zone names are case-sensitive: did you mean 'America/New_York'?"
            ])
    }

    @Test func withoutKnownUsersOrPlatformsAnyNameAndRoomIsTaken() throws {
        let result = OnCallReader.read(
            yaml: """
                oncall:
                  schedules:
                    ops:
                      time_zone: UTC
                      handoff_room: "matrix:!room:example.org"
                      layers: [{ name: x, rotation: { every: 3d }, start: "2026-01-05 09:00", people: [zed] }]
                """, file: "parley.yaml")
        #expect(result.issues == [])
        let ops = try #require(result.settings.schedules.first)
        #expect(ops.layers.first?.rotation == .every(seconds: 3 * 86400))
        #expect(ops.handoffRoom == "matrix:!room:example.org")
    }

    @Test func aMisspelledSectionKeyIsReported() {
        let (_, issues) = read(
            """
            oncall:
              schedule:
                ops: {}
            """)
        #expect(issues == ["parley.yaml:2:3: unknown key 'schedule' in oncall; did you mean 'schedules'?"])
    }
}
