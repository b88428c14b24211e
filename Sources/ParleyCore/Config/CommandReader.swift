import Foundation
import Yams

/// Reads the `commands:` section: usage templates, help, aliases and actions.
struct CommandReader {
    let reader: YAMLReader
    let baseDirectory: String
    let builtins: [CommandDeclaration]
    let secrets: [SecretDeclaration]

    static let commandKeys = [
        "usage", "help", "description", "examples", "aliases", "action", "runbook", "plan", "rules", "rate", "reply",
    ]
    static let actionKeys = [
        "exec", "http", "env", "inherit_env", "workdir", "timeout", "max_output", "lock", "max_concurrent",
    ]
    /// Names every template may use besides the command's own arguments.
    static let contextNames: Set<String> = ["user", "room", "platform", "run_id", "command", "identity"]

    func readCommands(
        _ node: Node, roles: inout [RuleReader.RoleReference], approvals: inout [RuleReader.ApprovalReference]
    ) -> [CommandDeclaration] {
        var commands: [CommandDeclaration] = []
        var usageNodes: [String: Node] = [:]
        for entry in reader.mapping(node, "commands") {
            let id = entry.key
            guard !id.isEmpty, id.allSatisfy({ $0.isLetter || $0.isNumber || "-_.".contains($0) }) else {
                reader.report(entry.keyNode, "command name '\(id)' may use only letters, digits, '-', '_' and '.'")
                continue
            }
            if builtins.contains(where: { $0.id == id }) {
                reader.report(entry.keyNode, "'\(id)' is a built-in command; choose another name")
                continue
            }
            if var command = readCommand(id: id, entry.value, usageNode: &usageNodes) {
                readPolicy(entry.value, into: &command, roles: &roles, approvals: &approvals)
                commands.append(command)
            }
        }
        checkAmbiguity(commands, usageNodes: usageNodes)
        return commands
    }

    private func readCommand(id: String, _ node: Node, usageNode usageNodes: inout [String: Node])
        -> CommandDeclaration?
    {
        var fields: [String: Node] = [:]
        let typos = reader.unknownKeys
        for entry in reader.mapping(node, "command '\(id)'", allowed: Self.commandKeys) {
            fields[entry.key] = entry.value
        }
        guard case .mapping = node else { return nil }
        // A misspelt key was already reported; saying the real one is missing too would be noise.
        let hadTypos = reader.unknownKeys > typos
        guard let usageNode = fields["usage"] else {
            if !hadTypos { reader.report(node, "command '\(id)' needs a usage, as in usage: \"\(id) {app}\"") }
            return nil
        }
        usageNodes[id] = usageNode
        guard let usageText = reader.string(usageNode, "usage") else { return nil }
        var patterns: [UsagePattern] = []
        do {
            patterns.append(try UsagePattern(usageText))
        } catch {
            reader.report(usageNode, "usage of '\(id)': \(error)")
            return nil
        }
        if let aliasesNode = fields["aliases"] {
            for (alias, aliasNode) in reader.strings(aliasesNode, "aliases") {
                if let pattern = readAlias(alias, of: patterns[0], at: aliasNode, id: id) { patterns.append(pattern) }
            }
        }
        let help = fields["help"].flatMap { reader.string($0, "help") } ?? ""
        let description = fields["description"].flatMap { reader.string($0, "description") }
        let examples = fields["examples"].map { reader.strings($0, "examples").map(\.0) } ?? []
        if let runbookNode = fields["runbook"] {
            if fields["action"] != nil { reader.report(runbookNode, "'\(id)' has both action and runbook; choose one") }
            let names = Set(patterns[0].argumentNames)
            let allowed = names.union(Self.contextNames).union(["steps", "secrets"])
            let runbook = RunbookReader(
                reader: reader, command: id, arguments: names,
                readAction: { node in readAction(node, id: id, names: names.union(["steps"]))?.0 },
                template: { text, node in template(text, at: node, allowed: allowed, id: id) }
            ).read(runbookNode)
            guard let runbook else { return nil }
            let fullHelp = [help, description].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: "\n")
            return CommandDeclaration(
                id: id, patterns: patterns, help: fullHelp, examples: examples, action: .runbook(runbook))
        }
        if fields["action"] == nil, let replyNode = fields["reply"], let text = reader.string(replyNode, "reply") {
            // A reply-only command: answers from its template, runs nothing.
            let names = Set(patterns[0].argumentNames)
            let fullHelp = [help, description].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: "\n")
            var command = CommandDeclaration(
                id: id, patterns: patterns, help: fullHelp, examples: examples, action: .reply)
            command.replyTemplate = template(text, at: replyNode, allowed: names.union(Self.contextNames), id: id)
            return command
        }
        guard let actionNode = fields["action"] else {
            if hadTypos { return nil }
            reader.report(
                node,
                "command '\(id)' needs an action (action: { exec: [\"./scripts/\(id).sh\"] }), a runbook: or a reply:")
            return nil
        }
        let names = Set(patterns[0].argumentNames)
        guard let (action, limits) = readAction(actionNode, id: id, names: names) else { return nil }
        let fullHelp = [help, description].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: "\n")
        var command = CommandDeclaration(id: id, patterns: patterns, help: fullHelp, examples: examples, action: action)
        command.limits = limits
        if let planNode = fields["plan"] {
            command.plan = readAction(planNode, id: id, names: names)?.0
        }
        if let replyNode = fields["reply"], let text = reader.string(replyNode, "reply") {
            let outputs: Set<String> = ["outputs", "output", "exit_code", "status", "body"]
            command.replyTemplate = template(
                text, at: replyNode, allowed: names.union(Self.contextNames).union(outputs), id: id)
        }
        return command
    }

    private func readPolicy(
        _ node: Node, into command: inout CommandDeclaration, roles: inout [RuleReader.RoleReference],
        approvals: inout [RuleReader.ApprovalReference]
    ) {
        guard case .mapping(let mapping) = node else { return }
        for (keyNode, value) in mapping {
            switch keyNode.string {
            case "rules":
                command.rules = RuleReader(reader: reader).readRules(
                    value, command: command.id, arguments: Set(command.patterns[0].argumentNames), roles: &roles,
                    approvals: &approvals)
            case "rate":
                guard let text = reader.string(value, "rate") else { continue }
                if let rate = RateLimit(text) {
                    command.rate = rate
                } else {
                    reader.report(value, "rate '\(text)' is not a rate; write 5/min, 100/hour or 2/10s")
                }
            default: continue
            }
        }
    }

    private func readAlias(_ alias: String, of main: UsagePattern, at node: Node, id: String) -> UsagePattern? {
        var source = alias
        // A one-word alias replaces the command's first word: `ship` for `deploy {app} to {env}`.
        if !alias.contains(" "), !alias.contains("{"), let first = main.leadingWords.first {
            source = alias + main.source.dropFirst(first.count)
        }
        do {
            let pattern = try UsagePattern(source)
            if Set(pattern.argumentNames) != Set(main.argumentNames) {
                reader.report(
                    node,
                    "alias '\(alias)' of '\(id)' must have the same arguments as its usage: \(main.argumentNames.joined(separator: ", "))"
                )
                return nil
            }
            return pattern
        } catch {
            reader.report(node, "alias '\(alias)' of '\(id)': \(error)")
            return nil
        }
    }

    /// Reads `action:`: exactly one of `exec` or `http`, and the limits common to both.
    private func readAction(_ node: Node, id: String, names: Set<String>) -> (ActionSpec, RunLimits)? {
        var fields: [String: Node] = [:]
        for entry in reader.mapping(node, "action of '\(id)'", allowed: Self.actionKeys) {
            fields[entry.key] = entry.value
        }
        guard case .mapping = node else { return nil }
        var limits = RunLimits()
        if let lockNode = fields["lock"], let text = reader.string(lockNode, "lock") {
            limits.lock = template(text, at: lockNode, allowed: names.union(Self.contextNames), id: id)
        }
        if let maxNode = fields["max_concurrent"], let count = reader.int(maxNode, "max_concurrent") {
            if count > 0 {
                limits.maxConcurrent = count
            } else {
                reader.report(maxNode, "max_concurrent must be at least 1")
            }
        }
        switch (fields["exec"], fields["http"]) {
        case (nil, let httpNode?):
            for key in ["env", "inherit_env", "workdir", "max_output", "timeout"] where fields[key] != nil {
                reader.report(fields[key], "'\(key)' belongs to exec actions; an http action sets it under http:")
            }
            let context = names.union(Self.contextNames).union(["secrets"])
            let reader = HTTPActionReader(
                reader: self.reader, command: id,
                templates: { text, node in
                    self.template(text, at: node, allowed: context, id: id).map { t in
                        self.checkSecrets(t, at: node)
                        return t
                    }
                })
            return reader.read(httpNode).map { (.http($0), limits) }
        case (_?, nil):
            return readExec(fields, node: node, id: id, names: names).map { (.exec($0), limits) }
        case (_?, _?):
            reader.report(node, "the action of '\(id)' has both exec and http; choose one")
            return nil
        case (nil, nil):
            reader.report(node, "the action of '\(id)' needs exec: [program, arguments…] or http: { method, url }")
            return nil
        }
    }

    private func readExec(_ fields: [String: Node], node: Node, id: String, names: Set<String>) -> ExecSpec? {
        guard let execNode = fields["exec"] else { return nil }
        guard case .sequence = execNode else {
            reader.report(execNode, "exec must be a list (program, then each argument); Parley never runs a shell")
            return nil
        }
        let allowed = names.union(Self.contextNames)
        var argv: [TextTemplate] = []
        for (text, itemNode) in reader.strings(execNode, "exec") {
            guard let template = template(text, at: itemNode, allowed: allowed.union(["secrets"]), id: id) else {
                continue
            }
            if template.referencedNames.contains("secrets") {
                reader.report(
                    itemNode,
                    "secrets may only reach a program through env, never its arguments (which other users of the machine can see); set env: { TOKEN: \"{{secrets.NAME}}\" }"
                )
            }
            argv.append(template)
        }
        if argv.isEmpty {
            reader.report(execNode, "exec needs at least the program to run")
            return nil
        }
        var environment: [String: TextTemplate] = [:]
        if let envNode = fields["env"] {
            for entry in reader.mapping(envNode, "env") {
                guard entry.key.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }), !entry.key.isEmpty else {
                    reader.report(entry.keyNode, "'\(entry.key)' is not a valid environment variable name")
                    continue
                }
                if let text = reader.string(entry.value, "env \(entry.key)"),
                    let template = template(text, at: entry.value, allowed: allowed.union(["secrets"]), id: id)
                {
                    checkSecrets(template, at: entry.value)
                    environment[entry.key] = template
                }
            }
        }
        var spec = ExecSpec(argv: argv, environment: environment, workingDirectory: baseDirectory)
        if let inheritNode = fields["inherit_env"] {
            spec.inheritEnvironment = reader.strings(inheritNode, "inherit_env").map(\.0)
        }
        if let workdirNode = fields["workdir"], let dir = reader.string(workdirNode, "workdir") {
            spec.workingDirectory = ConfigLoader.absolute(dir, base: baseDirectory)
        }
        if let timeoutNode = fields["timeout"], let text = reader.string(timeoutNode, "timeout") {
            if let seconds = DurationText.seconds(text), seconds > 0 {
                spec.timeoutSeconds = seconds
            } else {
                reader.report(timeoutNode, "timeout '\(text)' is not a duration; write 90s, 10m or 2h")
            }
        }
        if let maxNode = fields["max_output"], let text = reader.string(maxNode, "max_output") {
            if let bytes = Self.byteCount(text), bytes > 0 {
                spec.maxOutputBytes = bytes
            } else {
                reader.report(maxNode, "max_output '\(text)' is not a size; write 65536, 64KiB or 1MiB")
            }
        }
        return spec
    }

    func template(_ text: String, at node: Node, allowed: Set<String>, id: String) -> TextTemplate? {
        do {
            let template = try TextTemplate(text)
            for name in template.referencedNames.subtracting(allowed).sorted() {
                let near = allowed.filter { EditDistance.between($0, name) <= 2 }.sorted()
                let hint = near.first.map { "; did you mean '\($0)'?" } ?? ""
                reader.report(
                    node, "template '\(text)' in '\(id)' uses '\(name)', which is not an argument of the command\(hint)"
                )
            }
            return template
        } catch {
            reader.report(node, "template '\(text)' in '\(id)' is not valid mustache: \(error.reason)")
            return nil
        }
    }

    func checkSecrets(_ template: TextTemplate, at node: Node) {
        for path in template.referencedPaths where path == "secrets" || path.hasPrefix("secrets.") {
            let name = String(path.dropFirst("secrets.".count))
            if !secrets.contains(where: { $0.name == name }) {
                let known = secrets.map(\.name).sorted()
                let hint =
                    known.isEmpty ? "; declare it under secrets:" : "; declared: " + known.joined(separator: ", ")
                reader.report(node, "'\(path)' is not a declared secret\(hint)")
            }
        }
    }

    static func byteCount(_ text: String) -> Int? {
        let units: [(String, Int)] = [("KiB", 1 << 10), ("MiB", 1 << 20), ("KB", 1000), ("MB", 1_000_000), ("B", 1)]
        for (suffix, factor) in units where text.hasSuffix(suffix) {
            guard let count = Int(text.dropLast(suffix.count).trimmingCharacters(in: .whitespaces)), count >= 0 else {
                return nil
            }
            let (bytes, overflow) = count.multipliedReportingOverflow(by: factor)
            return overflow ? nil : bytes
        }
        return Int(text).flatMap { $0 >= 0 ? $0 : nil }
    }

    private func checkAmbiguity(_ commands: [CommandDeclaration], usageNodes: [String: Node]) {
        let all = builtins + commands
        let expanded = all.map { UsageAmbiguity.Expanded($0.patterns) }
        let candidates = UsageAmbiguity.candidates(expanded)
        for (index, command) in all.enumerated() where !command.isBuiltin {
            for otherIndex in candidates[index] {
                let other = all[otherIndex]
                guard let example = UsageAmbiguity.example(expanded[index], expanded[otherIndex]) else { continue }
                reader.report(
                    usageNodes[command.id],
                    "usage of '\(command.id)' is ambiguous with '\(other.id)' (\(other.usage)): '\(example)' would match both"
                )
            }
        }
    }
}
