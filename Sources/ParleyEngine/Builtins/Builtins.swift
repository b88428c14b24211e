import Foundation
import ParleyCore
import ParleyStore

/// Parley's own commands.
public enum Builtins {
    /// Parley's version, shown by `version` and `parley --version`.
    public static let version = "0.1.0"

    /// The ids of the built-ins that change nothing (`BuiltinCommand.changesNothing`).
    static let changingNothing = Set(all.filter(\.changesNothing).map(\.declaration.id))

    /// Every built-in command.
    public static let all: [BuiltinCommand] =
        [
            BuiltinCommand(
                "help [{command}]", help: "List the commands you may run, or explain one",
                examples: ["help", "help deploy"], changesNothing: true
            ) { call in
                if let name = call["command"] { return HelpText.command(name, for: call) }
                return HelpText.overview(for: call)
            },
            BuiltinCommand("ping", help: "Check that Parley is listening", changesNothing: true) { _ in .text("pong") },
            BuiltinCommand(
                "echo {message:text}", help: "Repeat a message back", examples: ["echo hello"], changesNothing: true
            ) { call in
                .text(call["message"] ?? "")
            },
            BuiltinCommand("whoami", help: "Show which Parley user and roles you are", changesNothing: true) { call in
                let principal = call.principal
                var fields = [ReplyField("identity", principal.identity.description)]
                if let user = principal.userName {
                    fields.append(ReplyField("user", user))
                } else {
                    fields.append(ReplyField("user", "none: this identity is not mapped, so you are a guest"))
                }
                fields.append(ReplyField("roles", principal.roles.joined(separator: ", ")))
                return Reply([.fields(fields)])
            },
            BuiltinCommand("version", help: "Show Parley's version", changesNothing: true) { _ in
                .text("Parley \(Builtins.version)")
            },
            BuiltinCommand(
                "runs [--all] [--user {user}] [--command {command}] [--status {status:choice(running,succeeded,failed,timed_out,interrupted,rejected)}] [--limit {limit:int(1..100)}]",
                help: "List recent runs (built-in commands are left out unless --all)",
                examples: ["runs", "runs --user alice --status failed"]
            ) { call in
                try await RunViews.list(call)
            },
            BuiltinCommand(
                "run {id:int(1..)} [--page {page:int(1..)}]",
                help: "Show one run's status and output (the last page of it, or page N)",
                examples: ["run 12", "run 12 --page 1"]
            ) {
                call in
                try await RunViews.detail(call)
            },
            BuiltinCommand(
                "approve {id}", help: "Approve someone else's pending request", examples: ["approve K7QXM2TA"],
                body: nil),
            BuiltinCommand(
                "deny {id} [{reason:text}]", help: "Refuse a pending request (or withdraw your own)",
                examples: ["deny K7QXM2TA not during the freeze"], body: nil),
            BuiltinCommand("yes {code}", help: "Confirm a command you asked for", examples: ["yes 4821"], body: nil),
            BuiltinCommand("approvals", help: "List pending approval requests", body: nil),
            BuiltinCommand(
                "cancel {run:int(1..)}", help: "Stop a running command and everything it started",
                examples: ["cancel 12"],
                body: nil),
            BuiltinCommand(
                "audit [--user {user}] [--command {command}] [--kind {kind}] [--limit {limit:int(1..100)}]",
                help: "Show recent audit log entries", examples: ["audit --user alice --limit 20"]
            ) { call in
                try await AuditView.recent(call)
            },
        ] + AlertCommands.all + IncidentCommands.all + OnCallCommands.all
        + PageCommands.all

    /// Built-ins anyone may send: the engine answers them itself and checks inside
    /// whether the asker may act on that request or run (approver roles, requester, command grants).
    public static let openCommands: Set<String> = ["approve", "deny", "yes", "approvals", "cancel"]

    /// The declarations of every built-in, for the catalogue and `parley config check`.
    public static var declarations: [CommandDeclaration] { all.map(\.declaration) }
}

/// The help built-in's texts, generated from the declarations.
enum HelpText {
    static func overview(for call: BuiltinCall) -> Reply {
        let services = call.services
        let allowed = services.catalogue.commands.filter {
            Builtins.openCommands.contains($0.id) || services.policy.decide(call.principal, command: $0).isAllowed
        }
        guard !allowed.isEmpty else { return .text("You may not run any command.") }
        // A family of commands (`incident.declare`, `incident.update` …) is one row: the overview stays
        // short enough to read in any room, and `help incident` lists the family.
        var rows: [[String]] = []
        var families: [String: Int] = [:]
        for command in allowed {
            guard let dot = command.id.firstIndex(of: ".") else {
                rows.append([command.usage, command.help.split(separator: "\n").first.map(String.init) ?? ""])
                continue
            }
            let family = String(command.id[..<dot])
            let member = String(command.id[command.id.index(after: dot)...])
            if let row = families[family] {
                rows[row][1] = rows[row][1].replacingOccurrences(
                    of: ";", with: ", \(member);", options: [], range: rows[row][1].range(of: ";"))
            } else {
                families[family] = rows.count
                rows.append(["\(family) …", "\(member); `help \(family)` lists them"])
            }
        }
        return Reply([
            .text("Commands you may run:"),
            .table(header: ["usage", "description"], rows: rows),
            .text("`help COMMAND` explains one."),
        ])
    }

    static func command(_ name: String, for call: BuiltinCall) -> Reply {
        let catalogue = call.services.catalogue
        let family = name.lowercased() + "."
        var matches = catalogue.commands(named: name)
        for command in catalogue.commands
        where command.id.hasPrefix(family) && !matches.contains(where: { $0.id == command.id }) {
            matches.append(command)
        }
        guard !matches.isEmpty else {
            let suggestions = catalogue.suggestions(for: name.lowercased())
            let hint =
                suggestions.isEmpty
                ? "" : "; did you mean " + suggestions.map { "`\($0)`" }.joined(separator: " or ") + "?"
            return .text("no command '\(name)'\(hint)")
        }
        var blocks: [ReplyBlock] = []
        for command in matches {
            var fields = [ReplyField("usage", command.usage)]
            for alias in command.patterns.dropFirst() { fields.append(ReplyField("alias", alias.synopsis)) }
            if !command.help.isEmpty { fields.append(ReplyField("about", command.help)) }
            for placeholder in command.patterns[0].placeholders {
                fields.append(ReplyField(placeholder.name, describe(placeholder.type)))
            }
            for option in command.patterns[0].options where option.value == nil {
                fields.append(ReplyField("--" + option.name, "a flag"))
            }
            for rule in command.rules {
                fields.append(ReplyField("rule", RuleText.describe(rule, command: command.id)))
            }
            for example in command.examples { fields.append(ReplyField("example", example)) }
            switch call.services.policy.decide(call.principal, command: command) {
            case .allowed: fields.append(ReplyField("you", "may run it"))
            case .denied(let reason, _): fields.append(ReplyField("you", "may not run it: \(reason)"))
            }
            blocks.append(.fields(fields))
        }
        return Reply(blocks)
    }

    static func describe(_ type: ParameterType) -> String {
        switch type {
        case .string: return "a word, or \"quoted words\""
        case .int: return type.description.replacingOccurrences(of: "int", with: "whole number ")
        case .duration: return "a duration such as 90s, 10m or 2h"
        case .choice(let choices): return "one of " + choices.joined(separator: ", ")
        case .regex(let pattern): return "a value matching /\(pattern)/"
        case .text: return "the rest of the line"
        }
    }
}
