import Foundation
import ParleyCore

/// One alert's current state: the latest notification about its fingerprint, and who took it.
/// A value with one field per fact stored about an alert.
public struct AlertRecord: Sendable, Equatable, Codable {
    /// A short number people type: `ack 12`.
    public var id: Int64?
    public var fingerprint: String
    public var source: String
    public var status: AlertStatus
    public var labels: [String: String]
    public var annotations: [String: String]
    public var startsAt: Date?
    public var endsAt: Date?
    public var url: String?
    public var firstSeen: Date
    public var lastSeen: Date
    /// Notifications received about it.
    public var received: Int
    public var acknowledgedBy: String?
    public var acknowledgedAt: Date?
    public var acknowledgement: String?

    /// The alert as the source last reported it.
    public var alert: Alert {
        Alert(
            source: source, fingerprint: fingerprint, status: status, labels: labels, annotations: annotations,
            startsAt: startsAt, endsAt: endsAt, url: url)
    }

    /// Creates a record.
    public init(
        id: Int64? = nil, alert: Alert, firstSeen: Date, lastSeen: Date, received: Int, acknowledgedBy: String? = nil,
        acknowledgedAt: Date? = nil, acknowledgement: String? = nil
    ) {
        self.id = id
        fingerprint = alert.fingerprint
        source = alert.source
        status = alert.status
        labels = alert.labels
        annotations = alert.annotations
        startsAt = alert.startsAt
        endsAt = alert.endsAt
        url = alert.url
        self.firstSeen = firstSeen
        self.lastSeen = lastSeen
        self.received = received
        self.acknowledgedBy = acknowledgedBy
        self.acknowledgedAt = acknowledgedAt
        self.acknowledgement = acknowledgement
    }
}

/// Which alerts to list.
public struct AlertQuery: Sendable, Equatable {
    public var status: AlertStatus?
    public var acknowledged: Bool?
    public var limit: Int

    /// Creates a query.
    public init(status: AlertStatus? = nil, acknowledged: Bool? = nil, limit: Int = 100) {
        self.status = status
        self.acknowledged = acknowledged
        self.limit = limit
    }
}

/// The message that shows an alert in one room: where it is, and what it last said.
public struct AlertMessageRecord: Sendable, Equatable, Codable {
    public var fingerprint: String
    /// `platform:room`.
    public var room: String
    /// The platform's id for the message, to edit it or answer in its thread; nil where there is none.
    public var messageRef: String?
    public var postedAt: Date
    /// Notifications the message has counted.
    public var count: Int
    public var status: AlertStatus

    /// Creates a record.
    public init(
        fingerprint: String, room: String, messageRef: String?, postedAt: Date, count: Int, status: AlertStatus
    ) {
        self.fingerprint = fingerprint
        self.room = room
        self.messageRef = messageRef
        self.postedAt = postedAt
        self.count = count
        self.status = status
    }
}

/// One room's summary of an alert storm, shared by the replicas: the alerts folded into it since it
/// began (when the room's budget of messages was spent), and its message.
public struct AlertStorm: Sendable, Equatable {
    public var room: String
    public var since: Date
    /// The folded alerts' names, by fingerprint.
    public var folded: [String: String]
    /// Whether some replica posted (or is posting) its message.
    public var posted: Bool
    /// The platform's id for that message, to edit it; nil where there is none (yet).
    public var messageRef: String?

    /// Creates a storm record.
    public init(room: String, since: Date, folded: [String: String], posted: Bool, messageRef: String?) {
        self.room = room
        self.since = since
        self.folded = folded
        self.posted = posted
        self.messageRef = messageRef
    }
}

/// Alerts, their notifications and the schedule's claims.
public protocol AlertStore: Sendable {
    /// Stores every alert of a delivery in one transaction, each as an event and as its fingerprint's
    /// current state; returns the current states, in the order given.
    func recordAlerts(_ alerts: [Alert], at date: Date) async throws -> [AlertRecord]
    /// Current alerts matching a query, most recently seen first.
    func alerts(_ query: AlertQuery) async throws -> [AlertRecord]
    /// An alert by its number.
    func alert(id: Int64) async throws -> AlertRecord?
    /// Records who took an alert; nil when there is no such alert.
    func acknowledgeAlert(id: Int64, by user: String, note: String?, at date: Date) async throws -> AlertRecord?
    /// How many notifications were stored in all (every one, including repeats).
    func alertEventCount() async throws -> Int
    /// The message showing an alert in a room.
    func alertMessage(fingerprint: String, room: String) async throws -> AlertMessageRecord?
    /// Records (or replaces) the message showing an alert in a room.
    func saveAlertMessage(_ record: AlertMessageRecord) async throws
    /// Claims posting an alert's message in a room: records `record` (its message not posted yet)
    /// unless the room has one of that alert posted within `window` before `record.postedAt`. True for
    /// one caller only, however many replicas ask at once; the others count the alert instead.
    func claimAlertMessage(_ record: AlertMessageRecord, window: Duration) async throws -> Bool
    /// Takes back a claim that posted nothing (the alert was folded into the room's summary instead).
    func releaseAlertMessage(fingerprint: String, room: String, postedAt: Date) async throws
    /// Records the platform's id of the message a claim posted.
    func setAlertMessageReference(fingerprint: String, room: String, postedAt: Date, messageRef: String?)
        async throws
    /// Adds `count` notifications to the message showing an alert in a room and sets its status, as
    /// one change (replicas counting the same alert add up); the record as it stands, nil without one.
    func countAlertMessage(fingerprint: String, room: String, adding count: Int, status: AlertStatus)
        async throws -> AlertMessageRecord?
    /// Folds an alert into its room's storm: the one begun within `window` before `now`, or else a
    /// new one begun now (an older one's alerts are forgotten). Returns the storm as it stands.
    func foldAlert(room: String, fingerprint: String, name: String, at now: Date, window: Duration) async throws
        -> AlertStorm
    /// The room's storm, when one was recorded.
    func alertStorm(room: String) async throws -> AlertStorm?
    /// Claims posting the message of the room's storm begun at `since`: true for one caller only.
    func claimAlertStormPost(room: String, since: Date) async throws -> Bool
    /// Records the message posted for the room's storm begun at `since`.
    func setAlertStormMessage(room: String, since: Date, messageRef: String?) async throws
    /// Claims one firing of a schedule; true for exactly one caller, however many replicas ask.
    func claimScheduledRun(name: String, at fireTime: Date, by owner: String) async throws -> Bool
    /// The newest firing of a schedule that was claimed.
    func lastScheduledRun(name: String) async throws -> Date?
}
