import Foundation
import Yams

/// Turns `parley.yaml` into a validated `ParleyConfig`, reporting every problem with line and column.
public struct ConfigLoader: Sendable {
    /// Commands Parley has built in; YAML commands may not reuse their ids or clash with their usages.
    public var builtins: [CommandDeclaration]
    /// The environment used for `${VAR}` interpolation.
    public var environment: [String: String]

    /// Creates a loader.
    public init(builtins: [CommandDeclaration], environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.builtins = builtins
        self.environment = environment
    }

    static let topLevelKeys = ["data_dir", "prefix", "bot_name", "users", "roles", "commands", "limits"]

    /// Reads and validates a file.
    public func load(path: String) throws(ConfigError) -> ParleyConfig {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigError(issues: [
                ConfigIssue(
                    file: path, line: 0, column: 0, message: "cannot read the file: \(error.localizedDescription)")
            ])
        }
        let url = URL(fileURLWithPath: path).standardizedFileURL
        return try load(yaml: text, file: path, baseDirectory: url.deletingLastPathComponent().path)
    }

    /// Reads and validates YAML text; relative paths resolve against `baseDirectory`.
    public func load(yaml: String, file: String, baseDirectory: String) throws(ConfigError) -> ParleyConfig {
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch let error as YamlError {
            throw ConfigError(issues: [Self.issue(for: error, file: file)])
        } catch {
            throw ConfigError(issues: [ConfigIssue(file: file, line: 0, column: 0, message: "\(error)")])
        }
        let reader = YAMLReader(file: file, environment: environment)
        var config = ParleyConfig(
            sourcePath: file, baseDirectory: baseDirectory, dataDirectory: baseDirectory + "/.parley",
            users: [], roles: [], commands: [])
        guard let root else { return config }
        var sections: [String: (keyNode: Node, value: Node)] = [:]
        for entry in reader.mapping(root, "the configuration", allowed: Self.topLevelKeys) {
            sections[entry.key] = (entry.keyNode, entry.value)
        }
        if let node = sections["data_dir"]?.value, let dir = reader.string(node, "data_dir") {
            config.dataDirectory = Self.absolute(dir, base: baseDirectory)
        }
        if let node = sections["prefix"]?.value, let prefix = reader.string(node, "prefix") {
            config.addressing.prefix = prefix
        }
        if let node = sections["bot_name"]?.value {
            config.addressing.names = reader.strings(node, "bot_name").map(\.0)
        }
        if let node = sections["limits"]?.value { config.replyLimits = readLimits(node, reader) }
        if let node = sections["commands"]?.value {
            config.commands = CommandReader(reader: reader, baseDirectory: baseDirectory, builtins: builtins)
                .readCommands(node)
        }
        let knownCommands = builtins + config.commands
        if let node = sections["roles"]?.value { config.roles = readRoles(node, reader, commands: knownCommands) }
        if let node = sections["users"]?.value {
            config.users = readUsers(node, reader, roles: Set(config.roles.map(\.name) + [Directory.guestRole]))
        }
        let issues = reader.issues.sorted { ($0.line, $0.column) < ($1.line, $1.column) }
        guard issues.isEmpty else { throw ConfigError(issues: issues) }
        return config
    }

    static func absolute(_ path: String, base: String) -> String {
        let expanded = (path as NSString).expandingTildeInPath
        return expanded.hasPrefix("/")
            ? URL(fileURLWithPath: expanded).standardizedFileURL.path
            : URL(fileURLWithPath: base).appendingPathComponent(expanded).standardizedFileURL.path
    }

    private func readLimits(_ node: Node, _ reader: YAMLReader) -> ReplyLimits {
        var limits = ReplyLimits()
        for entry in reader.mapping(node, "limits", allowed: ["reply_lines", "reply_chars"]) {
            guard let value = reader.int(entry.value, entry.key) else { continue }
            guard value > 0 else {
                reader.report(entry.value, "\(entry.key) must be positive")
                continue
            }
            if entry.key == "reply_lines" { limits.maxLines = value } else { limits.maxCharacters = value }
        }
        return limits
    }

    private func readRoles(_ node: Node, _ reader: YAMLReader, commands: [CommandDeclaration]) -> [RoleGrant] {
        var roles: [RoleGrant] = []
        for entry in reader.mapping(node, "roles") {
            var allow: [String] = []
            for field in reader.mapping(entry.value, "role '\(entry.key)'", allowed: ["allow"]) {
                for (pattern, patternNode) in reader.strings(field.value, "allow") {
                    let matchesSome = commands.contains { Policy.matches(pattern: pattern, commandID: $0.id) }
                    if !matchesSome {
                        let near = commands.map(\.id).filter { EditDistance.between($0, pattern) <= 2 }
                        let hint = near.first.map { "; did you mean '\($0)'?" } ?? ""
                        reader.report(
                            patternNode, "role '\(entry.key)' allows '\(pattern)', which matches no command\(hint)")
                    }
                    allow.append(pattern)
                }
            }
            roles.append(RoleGrant(name: entry.key, allow: allow))
        }
        return roles
    }

    private func readUsers(_ node: Node, _ reader: YAMLReader, roles: Set<String>) -> [User] {
        var users: [User] = []
        var owners: [Identity: String] = [:]
        for entry in reader.mapping(node, "users") {
            var user = User(name: entry.key, roles: [], identities: [])
            for field in reader.mapping(entry.value, "user '\(entry.key)'", allowed: ["roles", "identities"]) {
                if field.key == "roles" {
                    for (role, roleNode) in reader.strings(field.value, "roles") {
                        if !roles.contains(role) {
                            let near = roles.filter { EditDistance.between($0, role) <= 2 }.sorted()
                            let hint = near.first.map { "; did you mean '\($0)'?" } ?? "; define it under roles:"
                            reader.report(roleNode, "user '\(entry.key)' has unknown role '\(role)'\(hint)")
                        }
                        user.roles.append(role)
                    }
                } else {
                    for (text, identityNode) in reader.strings(field.value, "identities") {
                        guard let identity = Identity(text) else {
                            reader.report(
                                identityNode,
                                "'\(text)' is not an identity; write platform:id, as in slack:U024BE7LH or irc:alice")
                            continue
                        }
                        if let owner = owners[identity] {
                            reader.report(
                                identityNode, "identity \(identity) belongs to both '\(owner)' and '\(entry.key)'")
                        }
                        owners[identity] = entry.key
                        user.identities.append(identity)
                    }
                }
            }
            users.append(user)
        }
        return users
    }

    static func issue(for error: YamlError, file: String) -> ConfigIssue {
        switch error {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            let detail = context.map { "\($0.text): " } ?? ""
            return ConfigIssue(
                file: file, line: mark.line, column: mark.column, message: "YAML syntax: \(detail)\(problem)")
        case .duplicatedKeysInMapping(let duplicates, let context):
            return ConfigIssue(
                file: file, line: context.mark.line, column: context.mark.column,
                message: "duplicate key \(duplicates.joined(separator: ", ")) in a mapping")
        default:
            return ConfigIssue(file: file, line: 0, column: 0, message: "YAML: \(error)")
        }
    }
}
