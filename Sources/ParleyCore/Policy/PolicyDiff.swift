/// What a configuration change grants or revokes, person by person and command by command.
///
/// Decisions are compared over sample requests: every choice of every argument, the values rules
/// test for, the rooms and platforms rules name, and one ordinary value of each.
public struct PolicyDiff {
    /// One difference, in words: "bob may now run deploy (env=prod)".
    public struct Change: Sendable, Equatable, CustomStringConvertible {
        public var user: String
        public var command: String
        public var text: String
        public var description: String { text }
    }

    /// The differences between two configurations.
    public static func changes(from old: ParleyConfig, to new: ParleyConfig, builtins: [CommandDeclaration]) -> [Change]
    {
        let oldSide = Side(old, builtins: builtins)
        let newSide = Side(new, builtins: builtins)
        let users = Set(old.users.map(\.name)).union(new.users.map(\.name)).sorted() + [Directory.guestRole]
        let commands = Set(old.commands.map(\.id)).union(new.commands.map(\.id)).union(builtins.map(\.id)).sorted()
        var changes: [Change] = []
        for user in users {
            for id in commands {
                let oldCommand = oldSide.command(id)
                let newCommand = newSide.command(id)
                guard let sample = newCommand ?? oldCommand else { continue }
                let cases = samples(for: [oldCommand, newCommand].compactMap { $0 })
                var lines: [String] = []
                var gained = 0
                var lost = 0
                for request in cases {
                    let before =
                        oldCommand.map { oldSide.decide(user, $0, request) } ?? .denied(reason: "", decidedBy: "")
                    let after =
                        newCommand.map { newSide.decide(user, $0, request) } ?? .denied(reason: "", decidedBy: "")
                    let label = request.label
                    switch (before.isAllowed, after.isAllowed) {
                    case (false, true):
                        gained += 1
                        lines.append("\(user) may now run \(sample.id)\(label)\(needs(after.requirements))")
                    case (true, false):
                        lost += 1
                        lines.append("\(user) may no longer run \(sample.id)\(label)")
                    case (true, true) where before.requirements != after.requirements:
                        lines.append(
                            "\(user) now needs \(describe(after.requirements)) for \(sample.id)\(label) (was \(describe(before.requirements)))"
                        )
                    default: break
                    }
                }
                if gained == cases.count && gained > 0 {
                    lines = [
                        "\(user) may now run \(sample.id)\(cases.count == 1 ? needs(newCommand.map { newSide.decide(user, $0, cases[0]) }?.requirements ?? Requirements()) : "")"
                    ]
                } else if lost == cases.count && lost > 0 {
                    lines = ["\(user) may no longer run \(sample.id)"]
                }
                changes += lines.map { Change(user: user, command: id, text: $0) }
            }
        }
        return changes
    }

    static func needs(_ requirements: Requirements) -> String {
        requirements.isImmediate ? "" : " with \(describe(requirements))"
    }

    /// Requirements in words: "1 approval from sre and confirmation".
    public static func describe(_ requirements: Requirements) -> String {
        var parts: [String] = []
        if requirements.approvals > 0 {
            let from = requirements.approvers.isEmpty ? "" : " from " + ParameterType.list(requirements.approvers)
            parts.append("\(requirements.approvals) approval\(requirements.approvals == 1 ? "" : "s")\(from)")
        }
        if requirements.confirm { parts.append("confirmation") }
        return parts.isEmpty ? "nothing more" : parts.joined(separator: " and ")
    }

    /// A sample request: argument values, room and platform.
    struct Sample {
        var arguments: [String: String]
        var room: String
        var platform: String

        var label: String {
            var parts = arguments.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
            if room != Side.anyRoom { parts.append("in \(room)") }
            if platform != Side.anyPlatform { parts.append("from \(platform)") }
            return parts.isEmpty ? "" : " (" + parts.joined(separator: " ") + ")"
        }
    }

    static func samples(for commands: [CommandDeclaration]) -> [Sample] {
        var values: [String: Set<String>] = [:]
        var rooms: Set<String> = [Side.anyRoom]
        var platforms: Set<String> = [Side.anyPlatform]
        for command in commands {
            for placeholder in command.patterns.first?.placeholders ?? [] {
                switch placeholder.type {
                case .choice(let choices): values[placeholder.name, default: []].formUnion(choices)
                case .int: values[placeholder.name, default: []].insert("1")
                case .duration: values[placeholder.name, default: []].insert("10m")
                default: values[placeholder.name, default: []].insert("x")
                }
            }
            for rule in command.rules {
                rooms.formUnion(rule.rooms ?? [])
                platforms.formUnion(rule.platforms ?? [])
                for (name, literal) in rule.when.map(literals) ?? [] {
                    switch name {
                    case "room": rooms.insert(literal)
                    case "platform": platforms.insert(literal)
                    default: if values[name] != nil { values[name]?.insert(literal) }
                    }
                }
            }
        }
        var samples = [Sample(arguments: [:], room: Side.anyRoom, platform: Side.anyPlatform)]
        for (name, options) in values.sorted(by: { $0.key < $1.key }) {
            samples = samples.flatMap { sample in
                options.sorted().map { value in
                    var copy = sample
                    copy.arguments[name] = value
                    return copy
                }
            }
            if samples.count > 256 { samples = Array(samples.prefix(256)) }
        }
        let onlyArguments = samples
        for room in rooms.sorted() where room != Side.anyRoom {
            samples += onlyArguments.map { Sample(arguments: $0.arguments, room: room, platform: Side.anyPlatform) }
        }
        for platform in platforms.sorted() where platform != Side.anyPlatform {
            samples += onlyArguments.map { Sample(arguments: $0.arguments, room: Side.anyRoom, platform: platform) }
        }
        return samples
    }

    /// (name, literal) pairs a condition compares: `env == "prod"` gives ("env", "prod").
    static func literals(_ condition: Condition) -> [(String, String)] {
        switch condition {
        case .compare(.name(let name), _, .literal(let value)), .compare(.literal(let value), _, .name(let name)):
            return [(name, value.text)]
        case .compare(.name(let name), _, .list(let items)):
            return items.compactMap {
                if case .literal(let value) = $0 { return (name, value.text) } else { return nil }
            }
        case .and(let a, let b), .or(let a, let b): return literals(a) + literals(b)
        case .not(let inner): return literals(inner)
        default: return []
        }
    }

    /// One configuration, ready to decide.
    struct Side {
        static let anyRoom = "#any-room"
        static let anyPlatform = "local"
        let catalogue: [String: CommandDeclaration]
        let policy: Policy
        let directory: Directory

        init(_ config: ParleyConfig, builtins: [CommandDeclaration]) {
            catalogue = Dictionary((builtins + config.commands).map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
            policy = Policy(roles: config.roles)
            directory = Directory(users: config.users, groups: config.groups)
        }

        func command(_ id: String) -> CommandDeclaration? { catalogue[id] }

        func decide(_ user: String, _ command: CommandDeclaration, _ sample: Sample) -> Decision {
            let principal: Principal
            if let known = directory.users[user] {
                principal = directory.principal(for: known, identity: Identity(platform: sample.platform, id: user))
            } else {
                principal = Principal(
                    userName: nil, roles: [Directory.guestRole],
                    identity: Identity(platform: sample.platform, id: "guest"))
            }
            // Time windows are left out: a diff compares what is allowed, not when it is asked.
            var timeless = command
            timeless.rules = command.rules.map { rule in
                var copy = rule
                copy.window = nil
                return copy
            }
            return policy.evaluate(
                PolicyRequest(
                    principal: principal, command: timeless, arguments: sample.arguments, room: sample.room,
                    platform: sample.platform))
        }
    }
}
