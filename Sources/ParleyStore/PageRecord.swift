import Foundation
import ParleyCore

/// Where a page stands.
public enum PageStatus: String, Sendable, Codable {
    /// Escalating: each level is paged in turn until someone acknowledges.
    case open
    case acknowledged, resolved
    /// Every level (and repeat) went unanswered.
    case exhausted
}

/// A page: what it is about, the policy it escalates through, the level reached and when the next is due.
/// A value with one field per column of `page`.
public struct PageRecord: Sendable, Equatable, Codable {
    public var id: Int64?
    /// What it is about, once: `alert:FINGERPRINT`, `incident:42`, `manual:…`. Providers dedupe on it.
    public var key: String
    public var policy: String
    public var summary: String
    /// Where it came from (`platform:room`), told of each level.
    public var room: String?
    /// The level paged last (-1 before the first).
    public var level: Int
    /// How many times the levels ran again.
    public var round: Int
    /// When the next level is due; nil once it is settled or exhausted.
    public var nextAt: Date?
    public var status: PageStatus
    public var settledBy: String?
    public var createdAt: Date
    public var updatedAt: Date

    /// A new page, due at once.
    public init(
        id: Int64? = nil, key: String, policy: String, summary: String, room: String?, level: Int = -1,
        round: Int = 0, nextAt: Date?, status: PageStatus = .open, settledBy: String? = nil, createdAt: Date,
        updatedAt: Date? = nil
    ) {
        self.id = id
        self.key = key
        self.policy = policy
        self.summary = summary
        self.room = room
        self.level = level
        self.round = round
        self.nextAt = nextAt
        self.status = status
        self.settledBy = settledBy
        self.createdAt = createdAt
        self.updatedAt = updatedAt ?? createdAt
    }
}

/// Pages and their escalation timers, shared by every replica (a timer survives a restart and the
/// replica that set it).
public protocol PageStore: Sendable {
    /// Opens a page, unless one is open for its key already: returns the open page and whether it is new.
    func openPage(_ page: PageRecord) async throws -> (page: PageRecord, isNew: Bool)
    /// Open pages whose next level is due by `now`, oldest first.
    func duePages(at now: Date, limit: Int) async throws -> [PageRecord]
    /// Moves an open page from level/round to the next, due at `nextAt` (nil and `exhausted` when it
    /// ran out); false when another replica moved it first or it was settled meanwhile.
    func advancePage(
        id: Int64, from: (level: Int, round: Int), to: (level: Int, round: Int), nextAt: Date?, status: PageStatus,
        at: Date
    ) async throws -> Bool
    /// Settles the open page of `key` (acknowledged or resolved); nil when none was open.
    func settlePage(key: String, status: PageStatus, by: String, at: Date) async throws -> PageRecord?
    /// The page numbered `id`.
    func page(id: Int64) async throws -> PageRecord?
    /// Recent pages, newest first (open ones only when `openOnly`).
    func pages(openOnly: Bool, limit: Int) async throws -> [PageRecord]
}
