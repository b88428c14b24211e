import Foundation
import ParleyCore

/// Where runs are recorded. The SQLite store implements it; a PostgreSQL store will too.
public protocol RunStore: Sendable {
    /// Records a new run and returns it with its id.
    func insertRun(_ run: RunRecord) async throws -> RunRecord
    /// Replaces a recorded run (by id) with a newer state of it, while its stored epoch is still
    /// `run.epoch`; throws `StoreError.runTakenOver` when another process took the run over.
    func updateRun(_ run: RunRecord) async throws
    /// The run with this id.
    func run(id: Int64) async throws -> RunRecord?
    /// Runs matching a query, newest first.
    func runs(_ query: RunQuery) async throws -> [RunRecord]
    /// Marks the runs still `running` that `isAbandoned` picks as `interrupted` (their epoch moves on,
    /// so their old owner can no longer change them) and returns them; called when a process starts.
    func interruptUnfinishedRuns(reason: String, isAbandoned: @escaping @Sendable (RunRecord) -> Bool) async throws
        -> [RunRecord]
    /// Notes the process group a run's program runs in, and when its leader started.
    func setProcessGroup(runID: Int64, processGroup: Int32, startTime: Int64?) async throws
    /// Runs still `running` whose owner is gone (candidates for resuming).
    func abandonedRuns(isAlive: @Sendable (String) -> Bool) async throws -> [RunRecord]
}

/// Remembers platform event ids so that a platform's retry is handled once.
public protocol EventLedger: Sendable {
    /// True the first time `key` is seen, false on every later call.
    func firstSighting(of key: String) async throws -> Bool
    /// When `key` was first seen and the run its message made, nil when it was never seen.
    func sighting(of key: String) async throws -> EventSighting?
}

/// A platform event, or an API request's idempotency key, already seen.
public struct EventSighting: Sendable, Equatable {
    public var seenAt: Date
    /// The run its message made; nil for a command that makes none (help, a webhook delivery).
    public var runID: Int64?

    public init(seenAt: Date, runID: Int64?) {
        self.seenAt = seenAt
        self.runID = runID
    }
}

/// The append-only, hash-chained audit log.
public protocol AuditStore: Sendable {
    /// Appends entries in one transaction, chaining each to the last; returns them as stored.
    func appendAudit(_ drafts: [AuditDraft], at date: Date) async throws -> [AuditEntry]
    /// Writes several commits' records and entries in one transaction (one sync): a run's new state
    /// and the audit entries that tell of it land together, or not at all. A commit whose event key
    /// was seen before writes nothing and comes back `.duplicate`; the others are unaffected.
    func commitAudit(_ commits: [AuditCommit], at date: Date) async throws -> [AuditCommitResult]
    /// Entries matching a query.
    func auditEntries(_ query: AuditQuery) async throws -> [AuditEntry]
    /// Feeds every entry, oldest first, to `verifier` and returns it (stops at its first problem).
    func feedAuditChain(to verifier: AuditVerifier) async throws -> AuditVerifier
    /// The newest entry.
    func lastAuditEntry() async throws -> AuditEntry?
    /// Records a signed checkpoint.
    func insertCheckpoint(_ checkpoint: AuditCheckpoint) async throws
    /// Every checkpoint, oldest first.
    func checkpoints() async throws -> [AuditCheckpoint]
    /// The newest checkpoint.
    func lastCheckpoint() async throws -> AuditCheckpoint?
    /// The entry numbered `seq`.
    func auditEntry(seq: Int64) async throws -> AuditEntry?
}

extension AuditStore {
    public func appendAudit(_ drafts: [AuditDraft], at date: Date) async throws -> [AuditEntry] {
        guard !drafts.isEmpty else { return [] }
        return try await commitAudit([AuditCommit(drafts: drafts)], at: date).first?.entries ?? []
    }

    public func lastCheckpoint() async throws -> AuditCheckpoint? { try await checkpoints().last }

    public func auditEntry(seq: Int64) async throws -> AuditEntry? {
        try await auditEntries(AuditQuery(afterSeq: seq - 1, limit: 1)).first { $0.seq == seq }
    }
}

/// What one message (or one step of it) writes at once: its event key, a new run or a run's new
/// state, and the audit entries that tell of them.
public struct AuditCommit: Sendable {
    /// Entries, in order. Those without a run id get the id of `insertingRun`.
    public var drafts: [AuditDraft]
    /// A run recorded for the first time, before the entries.
    public var insertingRun: RunRecord?
    /// A recorded run's new state.
    public var updatingRun: RunRecord?
    /// A platform event id: when it was seen before, nothing of this commit is written.
    public var eventKey: String?
    /// Alert notifications to record (each as an event and as its fingerprint's current state).
    public var alerts: [Alert]

    /// Creates a commit.
    public init(
        drafts: [AuditDraft], insertingRun: RunRecord? = nil, updatingRun: RunRecord? = nil, eventKey: String? = nil,
        alerts: [Alert] = []
    ) {
        self.alerts = alerts
        self.drafts = drafts
        self.insertingRun = insertingRun
        self.updatingRun = updatingRun
        self.eventKey = eventKey
    }
}

/// What became of one commit.
public struct AuditCommitResult: Sendable {
    /// True when its event key was seen before: nothing was written.
    public var isDuplicate: Bool
    /// The entries as chained.
    public var entries: [AuditEntry]
    /// The run as recorded (with its id), if the commit had one.
    public var run: RunRecord?
    /// The alerts' current states after the commit's notifications, in order.
    public var alerts: [AlertRecord]

    /// A written commit.
    public init(entries: [AuditEntry], run: RunRecord? = nil, alerts: [AlertRecord] = []) {
        isDuplicate = false
        self.entries = entries
        self.run = run
        self.alerts = alerts
    }

    /// The run it would change was taken over by another process: nothing was written.
    public var takenOverRun: Int64?

    /// A commit whose event key was seen before.
    public static let duplicate = AuditCommitResult(duplicate: true, takenOver: nil)

    /// A commit whose run was taken over by another process (its epoch moved on).
    public static func takenOver(_ runID: Int64) -> AuditCommitResult {
        AuditCommitResult(duplicate: false, takenOver: runID)
    }

    private init(duplicate: Bool, takenOver: Int64?) {
        isDuplicate = duplicate
        takenOverRun = takenOver
        entries = []
        run = nil
        alerts = []
    }
}

/// Approval requests and confirmations, and the votes on them.
public protocol ApprovalStore: Sendable {
    func insertApproval(_ request: ApprovalRequest) async throws
    func approval(id: String) async throws -> ApprovalRequest?
    /// Records a vote; false when this voter already voted on the request.
    func addVote(_ vote: ApprovalVote) async throws -> Bool
    func votes(approvalID: String) async throws -> [ApprovalVote]
    /// Moves a pending request to `status`; false when it was no longer pending (someone else won).
    func settleApproval(id: String, status: GateStatus, reason: String, at date: Date) async throws -> Bool
    /// Approves a pending request and, in the same transaction, makes its waiting run `running` under
    /// `owner` (its epoch moves on): if the approving process dies before the command starts, the
    /// survivors find a running run whose owner is gone and settle it, instead of a run approved but
    /// waiting forever. Nil when the request was no longer pending (someone else won).
    func releaseApproval(id: String, reason: String, at date: Date, owner: String) async throws -> RunRecord?
    /// Pending requests, oldest first.
    func pendingApprovals() async throws -> [ApprovalRequest]
}

/// Small named values (the last policy snapshot, for example).
public protocol MetadataStore: Sendable {
    func metadata(_ key: String) async throws -> String?
    func setMetadata(_ key: String, _ value: String) async throws
}

/// Everything Parley persists.
public protocol ParleyStorage: RunStore, EventLedger, AuditStore, ApprovalStore, MetadataStore, AuthStore, LockStore,
    StepStore, AlertStore, LeaseStore, ReplicaStore, OutboxStore, LimitStore, IncidentStore,
    OnCallStore, PageStore
{
    /// Closes the store's connections (a pool's); afterwards the store cannot be used.
    func close() async
    /// Operations that passed their deadline and have not ended yet: while there are any, the
    /// database is not answering and this replica is not ready.
    var stuckOperations: Int { get }
    /// Operations that passed their deadline since the store opened.
    var timedOutOperations: Int { get }
    /// True while operations are stuck past their deadline and none has been answered since.
    var isNotAnswering: Bool { get }
}

/// Why the store could not do what was asked.
public enum StoreError: Error, Sendable, CustomStringConvertible {
    /// The database could not be opened.
    case cannotOpen(path: String, reason: String)
    /// The run to update was never recorded.
    case unknownRun(Int64?)
    /// A table of the database is gone (someone dropped it).
    case missingTable(String)
    /// The run was taken over by another process (its epoch moved on): this one must not change it.
    case runTakenOver(Int64)
    /// The database did not answer in time; a change may or may not have been committed.
    case timedOut(seconds: Int)

    public var description: String {
        switch self {
        case .cannotOpen(let path, let reason): return "cannot open the database at \(path): \(reason)"
        case .unknownRun(let id): return "run \(id.map(String.init) ?? "(no id)") is not recorded"
        case .missingTable(let name): return "the database has no table \(name) (it was dropped)"
        case .runTakenOver(let id): return "run \(id) was taken over by another replica"
        case .timedOut(let seconds):
            return
                "the database did not answer within \(seconds) s (unreachable or overloaded); a change it was making may or may not have been recorded"
        }
    }
}

extension ParleyStorage {
    /// Closes the store's connections; SQLite's close with the store itself.
    public func close() async {}
    /// SQLite is a file on this host: its operations have no deadline.
    public var stuckOperations: Int { 0 }
    public var timedOutOperations: Int { 0 }
    public var isNotAnswering: Bool { false }
}

/// Opens the store a configuration names.
public enum StoreOpener {
    /// SQLite in `dataDirectory` (or at its path), or the PostgreSQL database, its URL read from
    /// `environment` when it is a secret reference; migrations applied. Throws `StoreError.cannotOpen`
    /// with the reason, never the database password.
    public static func open(_ settings: StorageSettings, dataDirectory: String, environment: [String: String])
        async throws -> any ParleyStorage
    {
        switch settings {
        case .sqlite(let path):
            return try path.map(SQLiteStore.init(path:)) ?? SQLiteStore(dataDirectory: dataDirectory)
        case .postgres(let location):
            switch location.resolve(environment: environment) {
            case .failure(let error): throw StoreError.cannotOpen(path: "PostgreSQL", reason: error.message)
            case .success(let settings): return try await PostgresStore.connect(settings)
            }
        }
    }
}
