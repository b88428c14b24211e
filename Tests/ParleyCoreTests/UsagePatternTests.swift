import Testing

@testable import ParleyCore

@Suite struct UsagePatternTests {
    @Test func readsLiteralsPlaceholdersOptionalsAndOptions() throws {
        let pattern = try UsagePattern(
            "deploy {app:choice(api,web)} to {env:choice(staging,prod)} [--version {version}] [--force]")
        #expect(pattern.leadingWords == ["deploy"])
        #expect(pattern.placeholders.map(\.name) == ["app", "env", "version"])
        #expect(pattern.options.map(\.name) == ["version", "force"])
        #expect(pattern.options.allSatisfy { !$0.required })
        #expect(pattern.synopsis == "deploy <app> to <env> [--version <version>] [--force]")
    }

    @Test func everyTypeIsReadByItsName() throws {
        let pattern = try UsagePattern(
            "t {a} {b:string} {c:int} {d:int(1..5)} {e:duration} {f:choice(x, y)} {g:regex([a-z]+\\d{2})} {h:text}")
        #expect(
            pattern.placeholders.map(\.type) == [
                .string, .string, .int(min: nil, max: nil), .int(min: 1, max: 5), .duration, .choice(["x", "y"]),
                .regex("[a-z]+\\d{2}"), .text,
            ])
    }

    @Test func optionValuesCanBeAttachedWithEquals() throws {
        let pattern = try UsagePattern("tag --name={name}")
        #expect(
            pattern.options == [
                NamedOption(name: "name", value: Placeholder(name: "name", type: .string), required: true)
            ])
    }

    @Test(arguments: [
        ("{app} deploy", "must start with the command's word"),
        ("echo {rest:text} {more}", "must come last"),
        ("deploy {app:colour}", "known types are"),
        ("deploy {app:choice()}", "choice needs"),
        ("deploy {app:regex([)}", "invalid regular expression"),
        ("deploy [{app}", "never closed"),
        ("deploy {app", "never closed"),
        ("deploy {app} {app}", "appears twice"),
        ("deploy ]", "without a matching"),
        ("deploy {9lives}", "not a valid argument name"),
        ("deploy {n:int(5..1)}", "lower bound"),
    ])
    func malformedTemplatesAreExplained(template: String, expected: String) {
        #expect {
            _ = try UsagePattern(template)
        } throws: { error in
            "\(error)".contains(expected)
        }
    }
}
