import Foundation
import Testing

@testable import ParleyCore

@Suite struct ConditionTests {
    func holds(_ source: String, _ values: [String: ConditionValue] = [:]) throws -> Bool {
        try Condition.parse(source).evaluate(values)
    }

    let values: [String: ConditionValue] = [
        "env": .string("prod"), "app": .string("api"), "replicas": .string("12"), "room": .string("#ops"),
        "roles": .list([.string("sre"), .string("oncall")]), "version": .string(""),
    ]

    @Test func comparesTextCaseInsensitivelyAndNumbersAsNumbers() throws {
        #expect(try holds(#"env == "prod""#, values))
        #expect(try holds(#"env == "PROD""#, values))
        #expect(try holds(#"env != "staging""#, values))
        #expect(try holds("replicas > 9", values))
        #expect(try !holds("replicas <= 9", values))
        #expect(try holds(#"replicas >= "12""#, values))
    }

    @Test func combinesWithAndOrNotAndParentheses() throws {
        #expect(try holds(#"env == "prod" and (app == "web" or app == "api")"#, values))
        #expect(try !holds(#"env == "prod" && not (app in ["api", "db"])"#, values))
        #expect(try holds(#"!version || env == "x""#, values))
    }

    @Test func membershipAndGlobs() throws {
        #expect(try holds(#""sre" in roles"#, values))
        #expect(try !holds(#""dba" in roles"#, values))
        #expect(try holds(#"app in ["api", "web"]"#, values))
        #expect(try holds(##"room matches "#o*""##, values))
    }

    @Test func aMissingOptionalArgumentIsEmptyAndFalse() throws {
        #expect(try !holds("version", values))
        #expect(try holds(#"version == """#, values))
        #expect(try !holds("undefined_name", [:]))
    }

    @Test func writesItselfBackReadably() throws {
        let source = #"env == "prod" and (app == "web" or not flag)"#
        #expect(try Condition.parse(source).description == source)
        #expect(try Condition.parse(source).names == ["env", "app", "flag"])
        // A comparison inside a list is one item: written back in parentheses, it reads back the same
        // (the condition fuzzer found `[ (res in ["sre"])]` written back as `[res in ["sre"]]`).
        let listed = try Condition.parse(#"[ (res in ["sre"])]"#)
        #expect(listed.description == #"[(res in ["sre"])]"#)
        #expect(try Condition.parse(listed.description) == listed)
    }

    @Test(arguments: [
        (#"env = "prod""#, "use '==' to compare", 5),
        (#"env == "prod"#, "string is never closed", 8),
        ("env ==", "ends too soon", 7),
        ("(env == 1", "'(' is never closed", 1),
        ("env == 1 2", "unexpected '2'", 10),
        ("and env", "expected a value before 'and'", 1),
        ("env == $x", "unexpected character '$'", 8),
    ])
    func malformedConditionsSayWhatAndWhere(source: String, message: String, column: Int) {
        #expect {
            _ = try Condition.parse(source)
        } throws: { error in
            guard let error = error as? ConditionError else { return false }
            return error.message.contains(message) && error.column == column
        }
    }

    @Test func deeplyNestedInputIsRefusedNotACrash() {
        #expect(throws: ConditionError.self) { try Condition.parse(String(repeating: "(", count: 10_000)) }
        #expect(throws: ConditionError.self) { try Condition.parse(String(repeating: "not ", count: 10_000) + "x") }
    }

    @Test func timeWindowsHonourDaysHoursZonesAndMidnight() throws {
        let utc = TimeZone(identifier: "UTC")!
        let weekdays = try TimeWindow("Mon-Fri 09:00-18:00", timeZone: utc)
        let wednesdayNoon = Date(timeIntervalSince1970: 1_764_158_400)  // 2025-11-26 12:00 UTC, a Wednesday
        #expect(weekdays.contains(wednesdayNoon))
        #expect(!weekdays.contains(wednesdayNoon.addingTimeInterval(7 * 3600)))
        #expect(!weekdays.contains(wednesdayNoon.addingTimeInterval(3 * 86400)))  // Saturday
        let night = try TimeWindow("Fri 22:00-06:00", timeZone: utc)
        #expect(night.contains(wednesdayNoon.addingTimeInterval(2 * 86400 + 11 * 3600)))  // Fri 23:00
        #expect(night.contains(wednesdayNoon.addingTimeInterval(2 * 86400 + 17 * 3600)))  // Sat 05:00
        #expect(!night.contains(wednesdayNoon.addingTimeInterval(3 * 86400 + 17 * 3600)))  // Sun 05:00
        let paris = try TimeWindow("09:00-10:00", timeZone: TimeZone(identifier: "Europe/Paris")!)
        #expect(paris.contains(wednesdayNoon.addingTimeInterval(-3 * 3600 - 1800)))  // 09:30 in Paris (UTC+1)
        #expect(!paris.contains(wednesdayNoon.addingTimeInterval(-3 * 3600 + 1800)))  // 10:30 in Paris
        #expect(throws: WindowError.self) { try TimeWindow("Someday 09:00-10:00") }
        #expect(throws: WindowError.self) { try TimeWindow("25:00-26:00") }
    }
}
