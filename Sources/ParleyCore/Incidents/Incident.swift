import Foundation

/// Where an incident stands. It moves forward through the first four; `closed` comes after
/// `resolved`, once the write-up is done, and may not be reopened from there.
public enum IncidentStatus: String, Sendable, Codable, CaseIterable {
    case investigating, identified, monitoring, resolved, closed

    /// True until it is resolved.
    public var isOpen: Bool { self != .resolved && self != .closed }
}

/// An incident's number as people type it: `INC-42`, `inc-42` or `42`.
public enum IncidentNumber {
    /// The number in `text`, nil when it is not one (never traps: the digits are checked for overflow).
    public static func parse(_ text: String) -> Int64? {
        var digits = Substring(text.trimmingCharacters(in: .whitespaces))
        if digits.lowercased().hasPrefix("inc-") { digits = digits.dropFirst(4) }
        guard !digits.isEmpty, digits.count <= 18, digits.allSatisfy({ $0.isASCII && $0.isNumber }),
            let number = Int64(digits), number > 0
        else { return nil }
        return number
    }

    /// `INC-42`.
    public static func format(_ number: Int64) -> String { "INC-\(number)" }
}

/// One incident: what is wrong, how bad, who runs it, where it is worked on.
/// A value with one field per fact stored about an incident.
public struct Incident: Sendable, Equatable, Codable {
    /// Its number (`INC-42` shows 42); nil until declared.
    public var number: Int64?
    public var severity: String
    public var title: String
    public var status: IncidentStatus
    public var declaredAt: Date
    /// The Parley user (or identity) who declared it.
    public var declaredBy: String
    /// Where it was declared, `platform:room`.
    public var declaredIn: String
    /// Its dedicated room (`platform:room`), when one was made; else the declaring room is its room.
    public var room: String?
    public var resolvedAt: Date?
    public var closedAt: Date?
    /// The last status update posted to the stakeholders (or the declaration): the update cadence counts from it.
    public var lastUpdateAt: Date
    /// Reminders sent since the last update (1: the comms role was reminded; 2: the commander too).
    public var reminders: Int
    /// The audit entry the incident starts after: its timeline reads the chain from there.
    public var auditFromSeq: Int64
    /// The latest summary line (the declaration's title, then each status update's text).
    public var summary: String
    /// Roles and who holds them (`commander` → `alice`).
    public var roles: [String: String]

    /// Creates an incident not yet numbered.
    public init(
        number: Int64? = nil, severity: String, title: String, status: IncidentStatus = .investigating,
        declaredAt: Date, declaredBy: String, declaredIn: String, room: String? = nil, resolvedAt: Date? = nil,
        closedAt: Date? = nil, lastUpdateAt: Date? = nil, reminders: Int = 0, auditFromSeq: Int64 = 0,
        summary: String? = nil, roles: [String: String] = [:]
    ) {
        self.number = number
        self.severity = severity
        self.title = title
        self.status = status
        self.declaredAt = declaredAt
        self.declaredBy = declaredBy
        self.declaredIn = declaredIn
        self.room = room
        self.resolvedAt = resolvedAt
        self.closedAt = closedAt
        self.lastUpdateAt = lastUpdateAt ?? declaredAt
        self.reminders = reminders
        self.auditFromSeq = auditFromSeq
        self.summary = summary ?? title
        self.roles = roles
    }

    /// `INC-42`.
    public var name: String { number.map(IncidentNumber.format) ?? "INC-?" }

    /// The room its work happens in: the dedicated one, else where it was declared.
    public var workRoom: String { room ?? declaredIn }

    /// The roles `user` holds in it, sorted.
    public func roles(of user: String) -> [String] {
        roles.filter { $0.value.caseInsensitiveCompare(user) == .orderedSame }.map(\.key).sorted()
    }

    /// How long it lasted (until resolved), or has lasted so far.
    public func duration(now: Date) -> TimeInterval {
        (resolvedAt ?? now).timeIntervalSince(declaredAt)
    }
}

/// What a timeline entry records.
public enum IncidentEventKind: String, Sendable, Codable, CaseIterable {
    case declared, status, role, note, update, alert, task, resolved, closed, reminder, pin
    /// A command run in the incident's room (read from the audit chain, not stored as an event).
    case command
    /// An approval asked, given or refused in the incident's room (read from the audit chain).
    case approval
}

/// One line of an incident's timeline: who, when, what — and the audit entry that proves it.
public struct IncidentEvent: Sendable, Equatable, Codable {
    public var id: Int64?
    public var incident: Int64
    public var at: Date
    public var actor: String
    public var kind: IncidentEventKind
    public var text: String
    /// The run that recorded it (its audit entries carry the same run id).
    public var runID: Int64?
    /// The audit entry it is traced to, when known.
    public var auditSeq: Int64?

    /// Creates an entry.
    public init(
        id: Int64? = nil, incident: Int64, at: Date, actor: String, kind: IncidentEventKind, text: String,
        runID: Int64? = nil, auditSeq: Int64? = nil
    ) {
        self.id = id
        self.incident = incident
        self.at = at
        self.actor = actor
        self.kind = kind
        self.text = text
        self.runID = runID
        self.auditSeq = auditSeq
    }
}

/// A follow-up task from an incident (`incident task add "Add a canary" --owner bob`).
public struct IncidentTask: Sendable, Equatable, Codable {
    /// Its number, shared by every incident's tasks (`task 7`).
    public var id: Int64?
    public var incident: Int64
    public var text: String
    public var owner: String?
    public var createdAt: Date
    public var createdBy: String
    public var doneAt: Date?
    public var doneBy: String?

    /// Creates a task not yet numbered.
    public init(
        id: Int64? = nil, incident: Int64, text: String, owner: String?, createdAt: Date, createdBy: String,
        doneAt: Date? = nil, doneBy: String? = nil
    ) {
        self.id = id
        self.incident = incident
        self.text = text
        self.owner = owner
        self.createdAt = createdAt
        self.createdBy = createdBy
        self.doneAt = doneAt
        self.doneBy = doneBy
    }

    /// True once closed.
    public var isDone: Bool { doneAt != nil }
}
