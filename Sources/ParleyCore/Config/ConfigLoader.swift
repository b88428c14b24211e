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

    static let topLevelKeys = [
        "data_dir", "prefix", "bot_name", "users", "groups", "roles", "secrets", "commands", "limits", "approvals",
        "audit", "server", "adapters", "alerts", "schedules", "storage", "incidents", "oncall", "paging",
    ]

    /// The largest configuration file read: far more than thousands of commands need, and a bound on
    /// the work `config check` does.
    public static let maxFileBytes = 8 << 20

    /// Reads and validates a file.
    public func load(path: String) throws(ConfigError) -> ParleyConfig {
        let data: Data
        do {
            let attributes = try FileManager.default.attributesOfItem(atPath: path)
            if let size = attributes[.size] as? NSNumber, size.int64Value > Int64(Self.maxFileBytes) {
                throw ConfigError(issues: [
                    ConfigIssue(
                        file: path, line: 0, column: 0,
                        message:
                            "the file is \(size.int64Value / (1 << 20)) MiB; a configuration may be at most \(Self.maxFileBytes >> 20) MiB"
                    )
                ])
            }
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch let error as ConfigError {
            throw error
        } catch {
            throw ConfigError(issues: [
                ConfigIssue(
                    file: path, line: 0, column: 0, message: "cannot read the file: \(error.localizedDescription)")
            ])
        }
        let text: String
        switch Self.decodeUTF8(data) {
        case .success(let decoded): text = decoded
        case .failure(let position):
            throw ConfigError(issues: [
                ConfigIssue(
                    file: path, line: position.line, column: position.column,
                    message:
                        "the file is not UTF-8 text: byte \(position.offset + 1) cannot start or continue a character; save it as UTF-8"
                )
            ])
        }
        let url = URL(fileURLWithPath: path).standardizedFileURL
        return try load(yaml: text, file: path, baseDirectory: url.deletingLastPathComponent().path)
    }

    /// Where UTF-8 decoding failed: line and column (1-based, columns in characters) and byte offset.
    struct BytePosition: Error, Equatable {
        var line: Int
        var column: Int
        var offset: Int
    }

    /// The bytes as text, or where the first byte that is not UTF-8 is.
    static func decodeUTF8(_ data: Data) -> Result<String, BytePosition> {
        if let text = String(validating: data, as: UTF8.self) { return .success(text) }
        let bytes = [UInt8](data)
        var iterator = bytes.makeIterator()
        var decoder = UTF8()
        var line = 1
        var column = 1
        var offset = 0
        var scalars = String.UnicodeScalarView()
        while true {
            let before = offset
            switch decoder.decode(&iterator) {
            case .scalarValue(let scalar):
                scalars.append(scalar)
                offset += UTF8.width(scalar)
                if scalar == "\n" {
                    line += 1
                    column = 1
                } else {
                    column += 1
                }
            case .emptyInput:
                return .success(String(scalars))
            case .error:
                return .failure(BytePosition(line: line, column: column, offset: before))
            }
        }
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
        if let node = sections["storage"]?.value {
            config.storage = readStorage(node, reader, baseDirectory: baseDirectory) ?? .embedded
        }
        if let node = sections["prefix"]?.value, let prefix = reader.string(node, "prefix") {
            config.addressing.prefix = prefix
        }
        if let node = sections["bot_name"]?.value {
            config.addressing.names = reader.strings(node, "bot_name").map(\.0)
        }
        if let node = sections["limits"]?.value { config.replyLimits = readLimits(node, reader) }
        if let node = sections["approvals"]?.value { config.approvals = readApprovals(node, reader) }
        if let node = sections["audit"]?.value { config.audit = readAudit(node, reader, baseDirectory: baseDirectory) }
        if let node = sections["server"]?.value { config.server = readServer(node, reader) }
        if let node = sections["adapters"]?.value {
            AdapterReader(reader: reader, baseDirectory: baseDirectory).read(node, into: &config)
        }
        let people = PeopleReader(reader: reader, baseDirectory: baseDirectory)
        if let node = sections["secrets"]?.value { config.secrets = people.readSecrets(node) }
        var roleReferences: [RuleReader.RoleReference] = []
        var approvalReferences: [RuleReader.ApprovalReference] = []
        if let node = sections["commands"]?.value {
            config.commands = CommandReader(
                reader: reader, baseDirectory: baseDirectory, builtins: builtins, secrets: config.secrets
            ).readCommands(node, roles: &roleReferences, approvals: &approvalReferences)
        }
        let knownCommands = builtins + config.commands
        if let node = sections["roles"]?.value { config.roles = people.readRoles(node, commands: knownCommands) }
        let roleNames = Set(config.roles.map(\.name) + [Directory.guestRole])
        if let node = sections["groups"]?.value { config.groups = people.readGroups(node, roles: roleNames) }
        if let node = sections["users"]?.value {
            config.users = people.readUsers(
                node, roles: roleNames, groups: Set(config.groups.map(\.name)), secrets: config.secrets)
        }
        for reference in roleReferences where !roleNames.contains(reference.role) {
            reader.report(reference.node, "a rule of '\(reference.command)' names unknown role '\(reference.role)'")
        }
        ConfigChecks(config: config, builtins: builtins, reader: reader).checkApprovers(approvalReferences)
        // On-call schedules and paging first: alert routes and severities may page through them.
        let platforms = AlertsReader(
            reader: reader, adapters: AdapterReader(reader: reader, baseDirectory: baseDirectory), config: config)
        if let node = sections["oncall"]?.value {
            config.oncall = OnCallReader(
                reader: reader, users: Set(config.users.map(\.name)), platforms: platforms.platforms
            ).read(node)
        }
        if let node = sections["paging"]?.value {
            config.paging = PagingReader(
                reader: reader, adapters: AdapterReader(reader: reader, baseDirectory: baseDirectory),
                alerts: platforms, users: Set(config.users.map(\.name)),
                schedules: Set(config.oncall.schedules.map(\.name))
            ).read(node)
        }
        let alerts = AlertsReader(
            reader: reader, adapters: AdapterReader(reader: reader, baseDirectory: baseDirectory), config: config)
        if let node = sections["alerts"]?.value { config.alerts = alerts.readAlerts(node) }
        if let node = sections["schedules"]?.value { config.schedules = alerts.readSchedules(node) }
        if let node = sections["incidents"]?.value {
            config.incidents = IncidentsReader(reader: reader, alerts: alerts, roleNames: roleNames).read(node)
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

    /// `storage: sqlite | sqlite:PATH | postgres://…`, or `{ url: …, tls: …, ca: …, pool: …, timeout: … }` where
    /// the URL may be a secret reference (`env:PARLEY_DATABASE_URL`).
    private func readStorage(_ node: Node, _ reader: YAMLReader, baseDirectory: String) -> StorageSettings? {
        if case .scalar = node {
            guard let text = reader.string(node, "storage") else { return nil }
            switch StorageSettings.parse(text, baseDirectory: baseDirectory) {
            case .success(let settings): return settings
            case .failure(let error):
                reader.report(node, "storage: \(error.message)")
                return nil
            }
        }
        var url: PostgresLocation.Source?
        var location = PostgresLocation(url: .secret(.environment("PARLEY_DATABASE_URL")))
        for entry in reader.mapping(node, "storage", allowed: ["url", "tls", "ca", "pool", "timeout"]) {
            switch entry.key {
            case "url":
                guard let text = reader.string(entry.value, "storage url") else { continue }
                if let reference = SecretReference(text, baseDirectory: baseDirectory) {
                    url = .secret(reference)
                } else {
                    switch PostgresURL.parse(text) {
                    case .success(let parsed): url = .literal(parsed)
                    case .failure(let error): reader.report(entry.value, "storage url: \(error.message)")
                    }
                }
            case "tls":
                guard let text = reader.string(entry.value, "storage tls") else { continue }
                guard let mode = PostgresTLS(rawValue: text) else {
                    let modes = PostgresTLS.allCases.map(\.rawValue).joined(separator: ", ")
                    reader.report(entry.value, "storage tls '\(text)' is not one of \(modes)")
                    continue
                }
                location.tls = mode
            case "ca":
                guard let text = reader.string(entry.value, "storage ca") else { continue }
                location.caFile = Self.absolute(text, base: baseDirectory)
            case "timeout":
                guard let text = reader.string(entry.value, "storage timeout") else { continue }
                guard let seconds = DurationText.seconds(text), (1...600).contains(seconds) else {
                    reader.report(
                        entry.value, "storage timeout must be a duration from 1s to 10m, like 30s, got '\(text)'")
                    continue
                }
                location.timeout = seconds
            default:
                guard let pool = reader.int(entry.value, "storage pool") else { continue }
                guard (1...1000).contains(pool) else {
                    reader.report(entry.value, "storage pool must be from 1 to 1000 connections, got \(pool)")
                    continue
                }
                location.pool = pool
            }
        }
        guard let url else {
            reader.report(node, "storage needs a url: postgres://USER:PASSWORD@HOST:PORT/DATABASE or env:NAME")
            return nil
        }
        location.url = url
        return .postgres(location)
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

    private func readApprovals(_ node: Node, _ reader: YAMLReader) -> ApprovalSettings {
        var settings = ApprovalSettings()
        for entry in reader.mapping(node, "approvals", allowed: ["expire", "confirm_within"]) {
            guard let text = reader.string(entry.value, entry.key) else { continue }
            guard let seconds = DurationText.seconds(text), seconds > 0 else {
                reader.report(entry.value, "\(entry.key) '\(text)' is not a duration; write 15m or 1h")
                continue
            }
            if entry.key == "expire" { settings.expirySeconds = seconds } else { settings.confirmSeconds = seconds }
        }
        return settings
    }

    private func readServer(_ node: Node, _ reader: YAMLReader) -> ServerSettings {
        var settings = ServerSettings()
        let keys = [
            "listen", "public_url", "session", "secure_cookies", "shutdown_grace", "max_body", "trusted_proxies",
        ]
        for entry in reader.mapping(node, "server", allowed: keys) {
            if entry.key == "trusted_proxies" {
                for (text, item) in reader.strings(entry.value, "trusted_proxies") {
                    guard let range = IPRange(text) else {
                        reader.report(
                            item,
                            "trusted_proxies: '\(text)' is not an IP address or range; write 127.0.0.1 or 10.0.0.0/8")
                        continue
                    }
                    settings.trustedProxies.append(range)
                }
                continue
            }
            guard let text = reader.string(entry.value, entry.key) else { continue }
            switch entry.key {
            case "listen":
                let parts = text.split(separator: ":", omittingEmptySubsequences: false)
                guard parts.count == 2, !parts[0].isEmpty, let port = Int(parts[1]), (0...65535).contains(port) else {
                    reader.report(entry.value, "listen '\(text)' must be HOST:PORT, as in 127.0.0.1:8080")
                    continue
                }
                settings.host = String(parts[0])
                settings.port = port
            case "public_url": settings.publicURL = text
            case "secure_cookies":
                guard text == "true" || text == "false" else {
                    reader.report(entry.value, "secure_cookies must be true or false")
                    continue
                }
                settings.secureCookies = text == "true"
            case "max_body":
                guard let bytes = CommandReader.byteCount(text), bytes > 0 else {
                    reader.report(entry.value, "max_body '\(text)' is not a size; write 64KiB or 1MiB")
                    continue
                }
                settings.maxBodyBytes = bytes
            default:
                guard let seconds = DurationText.seconds(text), seconds >= 0 else {
                    reader.report(entry.value, "\(entry.key) '\(text)' is not a duration; write 30s or 12h")
                    continue
                }
                if entry.key == "session" {
                    settings.sessionSeconds = seconds
                } else {
                    settings.shutdownGraceSeconds = seconds
                }
            }
        }
        return settings
    }

    private func readAudit(_ node: Node, _ reader: YAMLReader, baseDirectory: String) -> AuditSettings {
        var settings = AuditSettings()
        let keys = ["checkpoint_every", "checkpoint_interval", "signing_key", "witnesses"]
        for entry in reader.mapping(node, "audit", allowed: keys) {
            switch entry.key {
            case "checkpoint_every":
                guard let value = reader.int(entry.value, entry.key) else { continue }
                guard value > 0 else {
                    reader.report(entry.value, "checkpoint_every must be positive")
                    continue
                }
                settings.checkpointEvery = value
            case "checkpoint_interval":
                guard let text = reader.string(entry.value, entry.key) else { continue }
                guard let seconds = DurationText.seconds(text), seconds > 0 else {
                    reader.report(entry.value, "checkpoint_interval '\(text)' is not a duration; write 5m or 1h")
                    continue
                }
                settings.checkpointIntervalSeconds = seconds
            case "signing_key":
                guard let text = reader.string(entry.value, entry.key) else { continue }
                guard let reference = SecretReference(text, baseDirectory: baseDirectory) else {
                    reader.report(entry.value, "signing_key must be env:NAME or file:PATH")
                    continue
                }
                // A key file that does not exist yet is created at the first start; a variable must be set.
                if case .environment = reference,
                    case .failure(let problem) = reference.resolve(
                        environment: reader.environment)
                {
                    reader.report(entry.value, "signing_key: \(problem.message)")
                }
                settings.signingKey = reference
            default:
                for (text, item) in reader.strings(entry.value, "witnesses") {
                    if text.hasPrefix("file:"), text.count > 5 {
                        settings.witnesses.append(.file(Self.absolute(String(text.dropFirst(5)), base: baseDirectory)))
                    } else if let url = URL(string: text), ["http", "https"].contains(url.scheme), url.host != nil {
                        settings.witnesses.append(.url(text))
                    } else {
                        reader.report(item, "witness '\(text)' must be file:PATH or an http(s) URL")
                    }
                }
            }
        }
        return settings
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
