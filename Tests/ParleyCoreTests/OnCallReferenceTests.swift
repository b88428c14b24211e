import Foundation
import ParleyConformance
import Testing

@testable import ParleyCore

extension TestService {
    /// Python 3 with `zoneinfo` and its zone data, for `scripts/oncall_reference.py`.
    static let pythonZoneinfo = TestService(
        "python3 with zoneinfo", hint: "install Python 3.9 or later with tzdata (apt-get install python3 tzdata)"
    ) {
        OnCallReference.probe()
    }
}

/// `scripts/oncall_reference.py`: the same schedules computed by Python's `zoneinfo`.
enum OnCallReference {
    struct Output: Decodable {
        var from: Int64
        var to: Int64
        var handoffs: [Handoff]
    }

    struct Handoff: Decodable, Equatable, CustomStringConvertible {
        var at: Int64
        var from: String?
        var to: String?
        var description: String { "\(at) \(from ?? "nobody")→\(to ?? "nobody")" }
    }

    /// The repository: this file is Tests/ParleyCoreTests/OnCallReferenceTests.swift.
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let script = root.appendingPathComponent("scripts/oncall_reference.py").path

    static func probe() -> Bool {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", "import zoneinfo; zoneinfo.ZoneInfo('Australia/Sydney')"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            return false
        }
        process.waitUntilExit()
        return process.terminationStatus == 0
    }

    static func run(_ arguments: [String]) async throws -> Output {
        let (status, output) = try await runProgram("/usr/bin/env", ["python3", script] + arguments)
        try #require(status == 0, "oncall_reference.py failed (\(status)) with \(arguments)")
        return try JSONDecoder().decode(Output.self, from: Data(output.utf8))
    }
}

/// A whole year of handoffs, through both daylight-saving changes, agrees with `zoneinfo`.
@Suite struct OnCallReferenceTests {
    /// One layer, written both for the engine and for the reference script.
    struct Spec {
        var name: String
        var period: Int
        var start: String
        var people: [String]
        var days: String?
        var hours: String?

        func layer(restricted: Bool = true) throws -> OnCallLayer {
            let rotation: OnCallRotation =
                period == 86400 ? .daily : period == 7 * 86400 ? .weekly : .every(seconds: period)
            var restriction: OnCallRestriction?
            if restricted, days != nil || hours != nil {
                let chosen = try days.map { try OnCallWeekday.days(parsing: $0) } ?? Set(OnCallWeekday.allCases)
                restriction =
                    try hours.map { try OnCallRestriction(days: chosen, hours: $0) }
                    ?? OnCallRestriction(days: chosen)
            }
            return try OnCallFixture.layer(name, rotation, start, people, restriction: restriction)
        }

        func argument(restricted: Bool = true) -> String {
            var text = "name=\(name) every=\(period) start=\(start.replacingOccurrences(of: " ", with: "T"))"
            text += " people=\(people.joined(separator: ","))"
            if restricted, let days { text += " days=\(days)" }
            if restricted, let hours { text += " hours=\(hours)" }
            return text
        }
    }

    static let specs = [
        Spec(name: "base", period: 86400, start: "2026-01-05 09:00", people: ["ana", "ben", "cai"]),
        Spec(
            name: "weekend", period: 12 * 3600, start: "2026-12-28 02:30", people: ["dan", "eve"], days: "sat,sun"),
        Spec(
            name: "nights", period: 86400, start: "2026-12-28 01:30", people: ["fay", "gus", "hal"], days: "fri-mon",
            hours: "22:00-02:15"),
        Spec(
            name: "business", period: 7 * 86400, start: "2027-01-04 09:00", people: ["ivy", "jon", "kim", "lee"],
            days: "mon-fri", hours: "09:00-18:00"),
    ]

    /// Overlapping overrides (the later wins), one running past the year's end; none hides a transition.
    static let overrides = [
        ("zoe", "2027-03-27T08:30:00Z", "2027-03-27T20:00:00Z"),
        ("yan", "2027-03-27T12:00:00Z", "2027-03-28T00:45:00Z"),
        ("zoe", "2027-06-01T00:00:00Z", "2027-06-08T00:00:00Z"),
        ("xia", "2027-06-03T12:00:00Z", "2027-06-03T13:00:00Z"),
        ("xia", "2027-12-31T20:00:00Z", "2028-01-02T00:00:00Z"),
    ]

    static let zones = ["Europe/Paris", "America/New_York", "Australia/Sydney"]

    func compare(zone: String, layers: [OnCallLayer], arguments: [String], overrides: [OnCallOverride]) async throws {
        let year = ["--zone", zone, "--from", "2027-01-01T00:00", "--to", "2028-01-01T00:00"]
        let reference = try await OnCallReference.run(year + arguments)
        let schedule = OnCallSchedule(name: "reference", timeZone: try OnCallFixture.zone(zone), layers: layers)
        let found = schedule.handoffs(
            from: Date(timeIntervalSince1970: TimeInterval(reference.from)),
            to: Date(timeIntervalSince1970: TimeInterval(reference.to)), overrides: overrides
        ).map { OnCallReference.Handoff(at: Int64($0.at.timeIntervalSince1970), from: $0.from, to: $0.to) }
        #expect(reference.handoffs.count >= 50, "the reference found too few handoffs to prove anything")
        #expect(found.count == reference.handoffs.count)
        if let index = zip(found, reference.handoffs).enumerated().first(where: { $1.0 != $1.1 })?.offset {
            let window = max(0, index - 2)..<min(index + 3, found.count, reference.handoffs.count)
            Issue.record(
                "first difference at handoff \(index): engine \(Array(found[window])) reference \(Array(reference.handoffs[window]))"
            )
        }
    }

    @Test(.requires(.pythonZoneinfo), arguments: zones)
    func eachRotationAloneMatchesZoneinfoForAYear(zone: String) async throws {
        try TestService.pythonZoneinfo.require()
        for spec in Self.specs {
            try await compare(
                zone: zone, layers: [try spec.layer(restricted: false)],
                arguments: ["--layer", spec.argument(restricted: false)], overrides: [])
        }
    }

    @Test(.requires(.pythonZoneinfo), arguments: zones)
    func layersRestrictionsAndOverridesMatchZoneinfoForAYear(zone: String) async throws {
        try TestService.pythonZoneinfo.require()
        let overrides = try Self.overrides.map { person, start, end in
            OnCallOverride(
                person: person, start: try OnCallFixture.instant(start), end: try OnCallFixture.instant(end),
                madeBy: "test")
        }
        let overrideArguments = overrides.flatMap { override in
            [
                "--override",
                "person=\(override.person) start=\(Int(override.start.timeIntervalSince1970)) "
                    + "end=\(Int(override.end.timeIntervalSince1970))",
            ]
        }
        try await compare(
            zone: zone, layers: try Self.specs.map { try $0.layer() },
            arguments: Self.specs.flatMap { ["--layer", $0.argument()] } + overrideArguments, overrides: overrides)
    }
}
