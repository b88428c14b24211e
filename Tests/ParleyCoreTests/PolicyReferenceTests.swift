import Foundation
import Testing

@testable import ParleyCore

/// Randomized policies: the real evaluator must agree with a deliberately naive reference.
@Suite struct PolicyReferenceTests {
    struct Generated {
        var condition: Condition
        var holds: ([String: String]) -> Bool
    }

    static let patterns = ["*", "deploy", "deploy*", "deploy *", "logs", "alerts.*", "scale", "d*", "*s", "nothing"]
    static let roleNames = ["dev", "sre", "ops", "intern"]

    let commands: [CommandDeclaration] = [
        try! declaration("deploy", "deploy {app:choice(api,web)} to {env:choice(staging,prod)}"),
        try! declaration("deploy-status", "deploy status"),
        try! declaration("logs", "logs {app:choice(api,web)}"),
        try! declaration("alerts.ack", "ack {app:choice(api,web)}"),
        try! declaration("scale", "scale {app:choice(api,web)} {env:choice(staging,prod)}"),
    ]

    func condition(_ g: inout SeededGenerator, depth: Int = 0) -> Generated {
        let pick = Int.random(in: 0..<(depth > 2 ? 2 : 5), using: &g)
        switch pick {
        case 0:
            let name = ["app", "env"].randomElement(using: &g)!
            let value = ["api", "web", "staging", "prod", "PROD"].randomElement(using: &g)!
            return Generated(condition: .compare(.name(name), .equal, .literal(.string(value)))) {
                ($0[name] ?? "").lowercased() == value.lowercased()
            }
        case 1:
            let room = ["#ops", "#dev"].randomElement(using: &g)!
            return Generated(condition: .compare(.name("room"), .notEqual, .literal(.string(room)))) {
                $0["room"] != room
            }
        case 2:
            let inner = condition(&g, depth: depth + 1)
            return Generated(condition: .not(inner.condition)) { !inner.holds($0) }
        case 3:
            let a = condition(&g, depth: depth + 1)
            let b = condition(&g, depth: depth + 1)
            return Generated(condition: .and(a.condition, b.condition)) { a.holds($0) && b.holds($0) }
        default:
            let a = condition(&g, depth: depth + 1)
            let b = condition(&g, depth: depth + 1)
            return Generated(condition: .or(a.condition, b.condition)) { a.holds($0) || b.holds($0) }
        }
    }

    /// Glob by regular expression, a different road from the evaluator's matcher.
    static func referenceMatches(_ pattern: String, _ command: CommandDeclaration) -> Bool {
        if pattern.hasSuffix(" *") {
            return command.patterns[0].source.lowercased().split(separator: " ").first.map(String.init)
                == String(pattern.dropLast(2))
        }
        let regex =
            "^" + NSRegularExpression.escapedPattern(for: pattern).replacingOccurrences(of: "\\*", with: ".*") + "$"
        return command.id.range(of: regex, options: [.regularExpression, .caseInsensitive]) != nil
    }

    @Test func randomPoliciesAgreeWithTheReference() throws {
        var g = SeededGenerator(seed: 7)
        for _ in 0..<3000 {
            let roles = Self.roleNames.map { name in
                RoleGrant(
                    name: name,
                    allow: (0..<Int.random(in: 0...2, using: &g)).map { _ in Self.patterns.randomElement(using: &g)! },
                    deny: Bool.random(using: &g) && Bool.random(using: &g)
                        ? [Self.patterns.randomElement(using: &g)!] : [])
            }
            var command = commands.randomElement(using: &g)!
            var generated: [(Generated?, CommandRule)] = []
            for _ in 0..<Int.random(in: 0...3, using: &g) {
                let when = Bool.random(using: &g) ? condition(&g) : nil
                var rule = CommandRule(when: when.map { try! Condition.parse($0.condition.description) })
                switch Int.random(in: 0..<5, using: &g) {
                case 0: rule.deny = "no"
                case 1: rule.rooms = ["#ops"]
                case 2: rule.require.roles = [Self.roleNames.randomElement(using: &g)!]
                case 3: rule.require.approvals = Int.random(in: 1...2, using: &g)
                default: rule.require.confirm = true
                }
                generated.append((when, rule))
            }
            command.rules = generated.map(\.1)
            let mine = Self.roleNames.filter { _ in Bool.random(using: &g) }
            var arguments: [String: String] = [:]
            for placeholder in command.patterns[0].placeholders {
                if case .choice(let choices) = placeholder.type {
                    arguments[placeholder.name] = choices.randomElement(using: &g)!
                }
            }
            let room = ["#ops", "#dev"].randomElement(using: &g)!
            let principal = Principal(userName: "u", roles: mine, identity: Identity(platform: "local", id: "u"))
            let decision = Policy(roles: roles).evaluate(
                PolicyRequest(
                    principal: principal, command: command, arguments: arguments, room: room, platform: "local"))

            // The reference: deny beats allow, nothing granted is denied, every applying rule must pass.
            var expected = true
            var approvals = 0
            var confirm = false
            let byName = Dictionary(uniqueKeysWithValues: roles.map { ($0.name, $0) })
            let held = mine.compactMap { byName[$0] }
            if held.contains(where: { $0.deny.contains { Self.referenceMatches($0, command) } }) { expected = false }
            if !held.contains(where: { $0.allow.contains { Self.referenceMatches($0, command) } }) { expected = false }
            var values = arguments
            values["room"] = room
            for (when, rule) in generated where expected && (when?.holds(values) ?? true) {
                if rule.deny != nil { expected = false }
                if let rooms = rule.rooms, !rooms.contains(room) { expected = false }
                if !rule.require.roles.isEmpty && !mine.contains(where: rule.require.roles.contains) {
                    expected = false
                }
                approvals = max(approvals, rule.require.approvals)
                confirm = confirm || rule.require.confirm
            }
            #expect(
                decision.isAllowed == expected, "\(roles) \(mine) \(command.id) \(command.rules) \(arguments) \(room)")
            if expected {
                #expect(decision.requirements.approvals == approvals)
                #expect(decision.requirements.confirm == confirm)
            }
        }
    }
}
