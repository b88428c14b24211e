/// A multi-step workflow invoked like a command: steps in order, each an action, a parallel group
/// or an approval gate, with conditions, retries and timeouts; `on_failure` steps run if one fails.
public struct RunbookSpec: Sendable, Equatable {
    public var steps: [RunbookStep]
    public var onFailure: [RunbookStep]

    /// Creates a runbook.
    public init(steps: [RunbookStep], onFailure: [RunbookStep] = []) {
        self.steps = steps
        self.onFailure = onFailure
    }
}

/// One step of a runbook.
public struct RunbookStep: Sendable, Equatable {
    /// What the step does.
    public indirect enum Kind: Sendable, Equatable {
        /// Runs an action (exec or http).
        case action(ActionSpec)
        /// Runs its steps at the same time; fails if any fails.
        case parallel([RunbookStep])
        /// Waits for approvals before going on, showing a message.
        case approval(Requirements, message: TextTemplate?)
    }

    /// The step's name, unique in its runbook; templates read `steps.NAME.…`.
    public var name: String
    public var kind: Kind
    /// The step runs only when this holds; otherwise it is skipped.
    public var when: Condition?
    /// Extra attempts after a failure.
    public var retries: Int
    /// The wait before the first retry; it doubles each time.
    public var backoffSeconds: Double
    /// True when running the step again is harmless: a crash during it resumes by running it again.
    public var idempotent: Bool

    /// Creates a step.
    public init(
        name: String, kind: Kind, when: Condition? = nil, retries: Int = 0, backoffSeconds: Double = 1,
        idempotent: Bool = false
    ) {
        self.name = name
        self.kind = kind
        self.when = when
        self.retries = retries
        self.backoffSeconds = backoffSeconds
        self.idempotent = idempotent
    }
}
