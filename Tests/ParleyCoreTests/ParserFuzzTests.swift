import Foundation
import Testing

@testable import ParleyCore

/// Randomized tests: any text parses to a command or a failure with a message, quickly; and text
/// generated from a usage parses back to the values it was generated from.
@Suite struct ParserFuzzTests {
    static let alphabet: [Character] = Array(
        "deploy to api web staging prod status logs tail --version=-\"'“”‘’\\{}[]()$;|&`\n\t 0123456789abcé🚀\u{0}")

    let catalogue: CommandCatalogue

    init() throws {
        catalogue = CommandCatalogue([
            try declaration(
                "deploy", "deploy {app:choice(api,web)} to {env:choice(staging,prod)} [--version {version}] [--force]"),
            try declaration("deploy-status", "deploy status [{app:choice(api,web)} [{n:int(1..9)} [{d:duration}]]]"),
            try declaration("logs", "logs tail {service} [{lines:int}] [--grep {pattern:regex([a-z]+)}]"),
            try declaration("echo", "echo {message:text}"),
        ])
    }

    @Test func randomTextNeverCrashesAndAlwaysGetsAnAnswer() async throws {
        var generator = SeededGenerator(seed: 0x5EED)
        let inputs: [String] = (0..<5000).map { _ in
            let length = Int.random(in: 0...60, using: &generator)
            return String((0..<length).map { _ in Self.alphabet.randomElement(using: &generator)! })
        }
        let catalogue = self.catalogue
        // A watchdog, not a benchmark: a hang fails the test instead of stalling the suite.
        let finished = try await withThrowingTaskGroup(of: Bool.self) { group in
            group.addTask {
                for input in inputs {
                    switch catalogue.parse(input) {
                    case .success(let command): #expect(!command.command.id.isEmpty)
                    case .failure(let failure): #expect(!failure.message.isEmpty)
                    }
                }
                return true
            }
            group.addTask {
                try await Task.sleep(for: .seconds(120))
                return false
            }
            let first = try await group.next() ?? false
            group.cancelAll()
            return first
        }
        #expect(finished, "parsing 5000 random inputs did not finish: the parser hangs")
    }

    @Test func longAdversarialInputsFinish() {
        let inputs = [
            "deploy " + String(repeating: "status ", count: 2000),
            "logs tail " + String(repeating: "--grep ", count: 2000),
            String(repeating: "\"", count: 9999),
            "echo " + String(repeating: "🚀", count: 3000),
        ]
        for input in inputs {
            if case .success(let command) = catalogue.parse(input) { #expect(command.command.id == "echo") }
        }
    }

    @Test func generatedValidInputsParseBackToTheirValues() throws {
        var generator = SeededGenerator(seed: 42)
        for _ in 0..<2000 {
            let app = ["api", "web"].randomElement(using: &generator)!
            let env = ["staging", "prod"].randomElement(using: &generator)!
            var words = ["deploy", app, "to", env]
            let version = Bool.random(using: &generator) ? "v\(Int.random(in: 0...99, using: &generator))" : nil
            let force = Bool.random(using: &generator)
            if let version {
                words += Bool.random(using: &generator) ? ["--version", version] : ["--version=\(version)"]
            }
            if force { words.append("--force") }
            let text = words.map { Bool.random(using: &generator) ? $0.uppercased() : $0 }
                .joined(separator: String(repeating: " ", count: Int.random(in: 1...3, using: &generator)))
            let parsed = try catalogue.parse(text).get()
            #expect(parsed.command.id == "deploy")
            #expect(parsed.arguments["app"]?.text == app)
            #expect(parsed.arguments["env"]?.text == env)
            #expect(parsed.arguments["version"]?.text.lowercased() == version)
            #expect(parsed.flags.contains("force") == force)
        }
    }
}

/// A small deterministic generator (SplitMix64), so a failing case can be replayed.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
