/// Where runs are recorded. The SQLite store implements it; a PostgreSQL store will too.
public protocol RunStore: Sendable {
    /// Records a new run and returns it with its id.
    func insertRun(_ run: RunRecord) async throws -> RunRecord
    /// Replaces a recorded run (by id) with a newer state of it.
    func updateRun(_ run: RunRecord) async throws
    /// The run with this id.
    func run(id: Int64) async throws -> RunRecord?
    /// Runs matching a query, newest first.
    func runs(_ query: RunQuery) async throws -> [RunRecord]
    /// Marks every run still `running` as `interrupted` and returns them; called when a process starts.
    func interruptUnfinishedRuns(reason: String) async throws -> [RunRecord]
}

/// Remembers platform event ids so that a platform's retry is handled once.
public protocol EventLedger: Sendable {
    /// True the first time `key` is seen, false on every later call.
    func firstSighting(of key: String) async throws -> Bool
}

/// Everything Parley persists.
public protocol ParleyStorage: RunStore, EventLedger {}

/// Why the store could not do what was asked.
public enum StoreError: Error, Sendable, CustomStringConvertible {
    /// The database could not be opened.
    case cannotOpen(path: String, reason: String)
    /// The run to update was never recorded.
    case unknownRun(Int64?)

    public var description: String {
        switch self {
        case .cannotOpen(let path, let reason): return "cannot open the database at \(path): \(reason)"
        case .unknownRun(let id): return "run \(id.map(String.init) ?? "(no id)") is not recorded"
        }
    }
}
