import Foundation
import Logging
import ParleyAdapters
import ParleyCore
import ParleyEngine
import ParleyStore

/// Posts to `platform:room` through the adapter of that platform.
///
/// A connection that only one replica holds (IRC, Matrix `/sync`) cannot be used by the others: what
/// they have to post there (an alert that reached them by webhook, the notice of a run interrupted)
/// goes through the store's outbox, and the replica holding the connection posts it
/// (`OutboxDelivery`). So does a message for a connection that is down for a moment: it is posted
/// when the connection is back, instead of being lost.
struct AdapterMessenger: RoomMessenger {
    let adapters: [String: any ChatAdapter]
    /// Which connections this replica holds; nil when nothing is led (a router without `run`).
    let board: LeadershipBoard?
    let outbox: (any OutboxStore)?
    let metrics: ServerMetrics?
    let logger: Logger
    /// How long `send` waits for the holder to post a queued message, for the platform's id of it.
    var deliveryWait: Duration = .seconds(10)

    init(
        adapters: [any ChatAdapter], board: LeadershipBoard? = nil, outbox: (any OutboxStore)? = nil,
        metrics: ServerMetrics? = nil, logger: Logger = Logger(label: "parley.server")
    ) {
        self.adapters = Dictionary(adapters.map { ($0.platform, $0) }) { first, _ in first }
        self.board = board
        self.outbox = outbox
        self.metrics = metrics
        self.logger = logger
    }

    func adapter(for room: String) throws -> (any ChatAdapter, String) {
        let parts = room.split(separator: ":", maxSplits: 1)
        guard parts.count == 2, let adapter = adapters[String(parts[0])] else {
            throw AdapterError.cannotPost(String(parts.first ?? ""))
        }
        return (adapter, String(parts[1]))
    }

    func send(_ reply: Reply, to room: String, thread: String?) async throws -> String? {
        let (adapter, id) = try adapter(for: room)
        if let outbox = queueing(adapter, always: true) {
            return try await queue(.send, reply, adapter: adapter, room: id, thread: thread, reference: nil, outbox)
        }
        do {
            return try await adapter.send(reply, room: id, thread: thread)
        } catch AdapterError.notConnected(let platform) {
            guard let outbox = queueing(adapter, always: false) else { throw AdapterError.notConnected(platform) }
            return try await queue(
                .send, reply, adapter: adapter, room: id, thread: thread, reference: nil, outbox, waiting: false)
        }
    }

    func edit(_ reference: String, in room: String, with reply: Reply) async throws -> Bool {
        let (adapter, id) = try adapter(for: room)
        if let outbox = queueing(adapter, always: true) {
            return try await queue(.edit, reply, adapter: adapter, room: id, thread: nil, reference: reference, outbox)
                != nil
        }
        do {
            return try await adapter.edit(reference, room: id, with: reply)
        } catch AdapterError.notConnected(let platform) {
            guard let outbox = queueing(adapter, always: false) else { throw AdapterError.notConnected(platform) }
            return try await queue(
                .edit, reply, adapter: adapter, room: id, thread: nil, reference: reference, outbox, waiting: false)
                != nil
        }
    }

    /// Makes a room through the platform's adapter (its web API, which every replica may call).
    func createRoom(platform: String, name: String, topic: String, inviting: [String], near: String?) async throws
        -> String?
    {
        guard let adapter = adapters[platform] else { return nil }
        return try await adapter.createRoom(name: name, topic: topic, inviting: inviting, near: near)
    }

    func directRoom(platform: String, user: String) async throws -> String? {
        guard let adapter = adapters[platform], let room = try await adapter.directRoom(for: user) else { return nil }
        return "\(platform):\(room)"
    }

    /// Queues `reply` in the outbox when one replica holds `room`'s connection — whichever holds it,
    /// this one included — so that the message outlives this process. False when that connection
    /// does not go through the outbox (every replica has it, or nothing is led here): send it.
    func queueDurably(_ reply: Reply, to room: String, thread: String?) async throws -> Bool {
        let (adapter, id) = try adapter(for: room)
        // Whatever the standing says yet: at start the leases are not decided, and the connection
        // still has exactly one holder, which posts what is queued.
        guard let outbox, board != nil, adapter.needsLeader else { return false }
        _ = try await queue(
            .send, reply, adapter: adapter, room: id, thread: thread, reference: nil, outbox, waiting: false)
        return true
    }

    /// The outbox to queue a message for `adapter` in: when another replica holds its connection
    /// (`always`), or when this one does but it is down for a moment. Nil where leadership is not
    /// managed here (an adapter every replica runs, or a router without `run`).
    private func queueing(_ adapter: any ChatAdapter, always: Bool) -> (any OutboxStore)? {
        guard let outbox, let board, adapter.needsLeader else { return nil }
        switch board.standing(adapter.platform) {
        case .standingBy: return outbox
        case .leading: return always ? nil : outbox
        case .shared: return nil
        }
    }

    /// Queues the message and, when `waiting`, waits a little for the holder to post it. Returns the
    /// platform's id of the message (`send`) or "edited" (`edit`); nil when the platform gives none,
    /// or when the holder has not posted it yet (it will). Throws when the holder gave up on it. A
    /// message queued because this replica's own connection is down is not waited for: nothing posts
    /// it before the connection is back, and the caller (the alert notifier) must not stall meanwhile.
    private func queue(
        _ action: OutboxMessage.Action, _ reply: Reply, adapter: any ChatAdapter, room: String, thread: String?,
        reference: String?, _ outbox: any OutboxStore, waiting: Bool = true
    ) async throws -> String? {
        let body = String(decoding: try JSONEncoder().encode(reply), as: UTF8.self)
        let id = try await outbox.enqueueOutbound(
            platform: adapter.platform, room: room, thread: thread, action: action, reference: reference, body: body)
        metrics?.outboxQueued.increment()
        guard waiting else { return action == .edit ? "queued" : nil }
        let deadline = ContinuousClock.now + deliveryWait
        var pause = Duration.milliseconds(50)
        while ContinuousClock.now < deadline {
            try await Task.sleep(for: pause)
            pause = min(pause * 2, .milliseconds(500))
            switch try await outbox.outboundOutcome(id: id) {
            case .delivered(let result): return result
            case .failed(let reason): throw AdapterError.refused(platform: adapter.platform, reason: reason)
            case .queued, nil: continue
            }
        }
        logger.info(
            "queued message #\(id) for \(adapter.platform):\(room) is not posted yet; the replica holding \(adapter.platform) posts it when it can"
        )
        return action == .edit ? "queued" : nil
    }
}

/// Posts, on the connection this replica holds, what other replicas queued for it; runs while this
/// replica leads the adapter. Each message is claimed for a while, so a replica that dies mid-post
/// leaves it to its successor (which may then post it twice: at least once, never lost).
struct OutboxDelivery {
    let adapter: any ChatAdapter
    let outbox: any OutboxStore
    let metrics: ServerMetrics
    let logger: Logger
    /// How often to look when there was nothing to post.
    var idlePoll: Duration = .milliseconds(250)
    /// A message queued longer ago than this is given up: news that late is noise.
    var maximumAge: TimeInterval = 3_600
    /// Failures (platform refusals) before a message is given up.
    var maximumAttempts = 5

    func run() async {
        let holder = ProcessOwner.current
        var failing = false
        while !Task.isCancelled {
            guard adapter.isConnected else {
                try? await Task.sleep(for: idlePoll)
                continue
            }
            let batch: [OutboxMessage]
            do {
                batch = try await outbox.claimOutbound(
                    platform: adapter.platform, holder: holder, ttl: .seconds(60), limit: 20)
                if failing { logger.info("the outbox of \(adapter.platform) is readable again") }
                failing = false
            } catch {
                if !failing { logger.warning("cannot read the outbox of \(adapter.platform): \(error)") }
                failing = true
                try? await Task.sleep(for: .seconds(1))
                continue
            }
            if batch.isEmpty {
                try? await Task.sleep(for: idlePoll)
                continue
            }
            for message in batch {
                guard !Task.isCancelled else { return }
                await deliver(message)
            }
        }
    }

    private func deliver(_ message: OutboxMessage) async {
        let place = "\(adapter.platform):\(message.room)"
        guard Date().timeIntervalSince(message.queuedAt) <= maximumAge else {
            await settle(message, .failed("queued more than \(Int(maximumAge / 60)) minutes ago; not posted"))
            logger.warning("gave up queued message #\(message.id) for \(place): too old")
            return
        }
        guard let reply = try? JSONDecoder().decode(Reply.self, from: Data(message.body.utf8)) else {
            await settle(message, .failed("the queued reply is not readable"))
            logger.error("queued message #\(message.id) for \(place) is not a readable reply; given up")
            return
        }
        do {
            switch message.action {
            case .send:
                let reference = try await adapter.send(reply, room: message.room, thread: message.thread)
                await settle(message, .delivered(reference))
            case .edit:
                let edited = try await adapter.edit(message.reference ?? "", room: message.room, with: reply)
                await settle(message, .delivered(edited ? "edited" : nil))
            }
            metrics.outboxDelivered.increment()
        } catch AdapterError.notConnected {
            // Not the message's fault: it waits for the connection, without counting an attempt.
            try? await outbox.retryOutbound(id: message.id, after: .seconds(1), failure: nil)
        } catch {
            if message.attempts + 1 >= maximumAttempts {
                await settle(message, .failed("\(error)"))
                logger.error(
                    "gave up queued message #\(message.id) for \(place) after \(maximumAttempts) tries: \(error)")
            } else {
                let delay = Duration.seconds(1 << min(message.attempts + 1, 6))
                try? await outbox.retryOutbound(id: message.id, after: delay, failure: "\(error)")
                logger.warning(
                    "cannot post queued message #\(message.id) to \(place): \(error); trying again in \(delay)")
            }
        }
    }

    private func settle(_ message: OutboxMessage, _ outcome: OutboxOutcome) async {
        if case .failed = outcome { metrics.outboxFailed.increment() }
        do {
            try await outbox.settleOutbound(id: message.id, outcome: outcome)
        } catch {
            logger.error("cannot record what became of queued message #\(message.id): \(error)")
        }
    }
}
