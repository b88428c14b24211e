import Foundation

/// Where a runbook step stands.
public enum StepStatus: String, Sendable, Codable {
    case running, succeeded, failed, skipped
    case awaitingApproval = "awaiting_approval"
    case approved, denied, interrupted
}

/// One runbook step of a run, saved at every transition so a restart knows what finished.
/// A record: its fields are the columns of the `step` table.
public struct StepRecord: Sendable, Equatable, Codable {
    public var runID: Int64
    /// `3`, or `2.1` for the first step of the parallel group at step 2.
    public var path: String
    public var name: String
    public var status: StepStatus
    public var attempts: Int
    public var startedAt: Date?
    public var finishedAt: Date?
    public var output: String
    public var outputs: [String: String]
    public var message: String

    /// Creates a step record.
    public init(
        runID: Int64, path: String, name: String, status: StepStatus, attempts: Int = 0, startedAt: Date? = nil,
        finishedAt: Date? = nil, output: String = "", outputs: [String: String] = [:], message: String = ""
    ) {
        self.runID = runID
        self.path = path
        self.name = name
        self.status = status
        self.attempts = attempts
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.output = output
        self.outputs = outputs
        self.message = message
    }
}

extension StepStore {
    /// Inserts or replaces a step's record, whoever holds its run.
    public func saveStep(_ step: StepRecord) async throws { _ = try await saveStep(step, epoch: nil) }
}

/// Runbook step state.
public protocol StepStore: Sendable {
    /// Inserts or replaces a step's record while its run is still at `epoch` (nil: whatever its
    /// epoch); false, writing nothing, when another process took the run over meanwhile. The run's
    /// row is locked against a take-over for the write, so none slips in between.
    func saveStep(_ step: StepRecord, epoch: Int64?) async throws -> Bool
    /// A run's steps, in order of their paths.
    func steps(runID: Int64) async throws -> [StepRecord]
    /// Takes over a run left running by the dead owner `previous`, for resuming; false when it is no
    /// longer running or someone else took it first (so two processes never resume it both).
    func adoptRun(id: Int64, owner: String, from previous: String?) async throws -> Bool
}
