import ParleyCore

/// The engine's answer to "may this person run this command at all?", on roles alone — what a page,
/// a console or an API asks before it shows or offers a command. A message still goes through the
/// whole pipeline (rules, gates) when it is sent.
public enum CommandAuthorization: Sendable, Equatable {
    /// The person may run the command.
    case allowed
    /// The person may not, and why, in words they can act on.
    case denied(reason: String)

    /// True when allowed.
    public var isAllowed: Bool { self == .allowed }
}

extension Engine {
    /// Whether the person behind `identity` may run `command` at all. The open built-ins (`approve`,
    /// `deny`, `yes`, `approvals`, `cancel`) are allowed to everyone: the engine checks inside them
    /// whether the asker may act on that request or run.
    public func authorization(for identity: Identity, command: CommandDeclaration) -> CommandAuthorization {
        authorization(for: directory.principal(for: identity), command: command)
    }

    /// Whether the person behind `identity` may run the command with id `commandID` (`audit`,
    /// `alerts`); denied when there is no such command.
    public func authorization(for identity: Identity, command commandID: String) -> CommandAuthorization {
        guard let command = catalogue.command(id: commandID) else {
            return .denied(reason: "there is no command '\(commandID)'")
        }
        return authorization(for: identity, command: command)
    }

    /// Whether `principal` may run `command` at all, as `authorization(for:command:)` says.
    public func authorization(for principal: Principal, command: CommandDeclaration) -> CommandAuthorization {
        if Builtins.openCommands.contains(command.id) { return .allowed }
        switch policy.decide(principal, command: command) {
        case .allowed: return .allowed
        case .denied(let reason, _): return .denied(reason: reason)
        }
    }

    /// The commands the person behind `identity` may run, in catalogue order (for menus and completion).
    public func runnableCommands(for identity: Identity) -> [CommandDeclaration] {
        let principal = directory.principal(for: identity)
        return catalogue.commands.filter { authorization(for: principal, command: $0).isAllowed }
    }
}
