import Foundation

/// Which audit entries to read. Each stored property is one independent filter or ordering of the
/// same read, which is why there are more than eight.
/// A value with a field per filter.
public struct AuditQuery: Sendable, Equatable {
    public var actor: String?
    public var command: String?
    public var kind: String?
    /// Only the entries of this run (a run page shows its steps).
    public var runID: Int64?
    /// Only entries made in this room (its name on its platform, as entries record it), for an
    /// incident's timeline.
    public var room: String?
    public var since: Date?
    public var until: Date?
    /// Only entries after this number, oldest first (for tailing and exports).
    public var afterSeq: Int64?
    /// Only entries up to this number (an export stops at the head it signed).
    public var throughSeq: Int64?
    public var limit: Int
    /// Newest first when true (for `audit` in chat), oldest first otherwise.
    public var newestFirst: Bool

    /// Creates a query.
    public init(
        actor: String? = nil, command: String? = nil, kind: String? = nil, runID: Int64? = nil, since: Date? = nil,
        until: Date? = nil, afterSeq: Int64? = nil, limit: Int = 1000, newestFirst: Bool = false
    ) {
        self.actor = actor
        self.command = command
        self.kind = kind
        self.runID = runID
        self.since = since
        self.until = until
        self.afterSeq = afterSeq
        self.limit = limit
        self.newestFirst = newestFirst
    }

    /// True when the query picks a contiguous stretch of the chain (no per-entry filters).
    public var isContiguous: Bool { actor == nil && command == nil && kind == nil && runID == nil && room == nil }
}
