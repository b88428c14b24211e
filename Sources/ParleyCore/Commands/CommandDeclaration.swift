/// A command Parley understands: how it is typed, what it is for, and what it does.
/// A value with a field per key of a command's configuration.
public struct CommandDeclaration: Sendable, Equatable {
    /// The command's id, used by policy and records (`deploy`, `deploy-status`).
    public var id: String
    /// The main usage, then any aliases.
    public var patterns: [UsagePattern]
    /// One line saying what the command is for.
    public var help: String
    /// Worked examples shown by `help COMMAND`.
    public var examples: [String]
    /// What running it does.
    public var action: ActionSpec
    /// Conditions and requirements beyond role grants, in order.
    public var rules: [CommandRule]
    /// How often one user may run it.
    public var rate: RateLimit?
    /// Locks and concurrency.
    public var limits = RunLimits()
    /// A template for the reply, over the arguments and the action's outputs.
    public var replyTemplate: TextTemplate?
    /// A read-only preview (`terraform plan`, `kubectl diff`) shown in approval requests; the
    /// approval binds to its output, and the action runs only if a fresh plan is the same.
    public var plan: ActionSpec?

    /// Creates a declaration.
    public init(
        id: String, patterns: [UsagePattern], help: String, examples: [String] = [], action: ActionSpec,
        rules: [CommandRule] = [], rate: RateLimit? = nil
    ) {
        self.id = id
        self.patterns = patterns
        self.help = help
        self.examples = examples
        self.action = action
        self.rules = rules
        self.rate = rate
    }

    /// The main usage line, for people: `deploy <app> to <env>`.
    public var usage: String { patterns.first?.synopsis ?? id }

    /// The first word a person types.
    public var word: String { patterns.first?.leadingWords.first ?? id }

    /// True for commands built into Parley rather than declared in the configuration.
    public var isBuiltin: Bool {
        if case .builtin = action { return true }
        return false
    }
}

/// What a command does when it runs. A new kind of action is a new case and a new executor.
public enum ActionSpec: Sendable, Equatable {
    /// Runs a program with arguments, never through a shell.
    case exec(ExecSpec)
    /// Makes an HTTP request.
    case http(HTTPSpec)
    /// Runs a multi-step runbook.
    case runbook(RunbookSpec)
    /// Runs one of Parley's own commands, by name.
    case builtin(String)
    /// Runs nothing: the command answers with its `reply:` template (links, runbooks, canned answers).
    case reply
}

/// Limits on running a command, whatever its action: a named lock and a concurrency cap.
public struct RunLimits: Sendable, Equatable {
    /// A lock name template (`deploy-{{env}}`): two runs holding the same name never overlap.
    public var lock: TextTemplate?
    /// How many runs of the command may run at once.
    public var maxConcurrent: Int?

    /// Creates limits.
    public init(lock: TextTemplate? = nil, maxConcurrent: Int? = nil) {
        self.lock = lock
        self.maxConcurrent = maxConcurrent
    }
}

/// A program to run: argv and environment templates, working directory, limits.
public struct ExecSpec: Sendable, Equatable {
    /// The program and its arguments; each is a template.
    public var argv: [TextTemplate]
    /// Extra environment variables, each a template; the child sees only these and a small base set.
    public var environment: [String: TextTemplate]
    /// The working directory, absolute.
    public var workingDirectory: String
    /// How long the program may run before its process group is terminated.
    public var timeoutSeconds: Int
    /// How much combined output is kept; the rest is counted and dropped.
    public var maxOutputBytes: Int
    /// Variables of Parley's own environment the child may see; nil means the small default set.
    public var inheritEnvironment: [String]?

    /// Creates an exec action.
    public init(
        argv: [TextTemplate], environment: [String: TextTemplate] = [:], workingDirectory: String,
        timeoutSeconds: Int = ExecSpec.defaultTimeoutSeconds, maxOutputBytes: Int = ExecSpec.defaultMaxOutputBytes
    ) {
        self.argv = argv
        self.environment = environment
        self.workingDirectory = workingDirectory
        self.timeoutSeconds = timeoutSeconds
        self.maxOutputBytes = maxOutputBytes
    }

    /// Five minutes.
    public static let defaultTimeoutSeconds = 300
    /// One mebibyte.
    public static let defaultMaxOutputBytes = 1 << 20
}

/// A command recognised in chat text, with its arguments checked against their types.
public struct ParsedCommand: Sendable, Equatable {
    /// The command.
    public var command: CommandDeclaration
    /// Values bound to placeholders, by name.
    public var arguments: [String: ArgumentValue]
    /// Flags that were given.
    public var flags: Set<String>
    /// True when the text ended in `--dry-run`: show what would happen, run nothing.
    public var dryRun = false

    /// Creates a parsed command.
    public init(command: CommandDeclaration, arguments: [String: ArgumentValue], flags: Set<String>) {
        self.command = command
        self.arguments = arguments
        self.flags = flags
    }

    /// The arguments as a template context: values as text, flags as booleans.
    public var templateContext: [String: Any] {
        var context: [String: Any] = [:]
        for (name, value) in arguments { context[name] = value.text }
        for flag in flags { context[flag] = true }
        return context
    }

    /// Arguments and flags as text, for records.
    public var recordedArguments: [String: String] {
        var recorded = arguments.mapValues(\.text)
        for flag in flags { recorded[flag] = "true" }
        return recorded
    }
}
