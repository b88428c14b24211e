import Foundation
import Logging
import ParleyCore
import ParleyEngine

/// One signed-in connection: the `/sync` loop, invitations, and the messages it hands the engine.
///
/// Batches are handled one at a time and the position is saved after each (in the shared store), so
/// a restart or a takeover goes on from the last batch handled. Each message is answered in its own task: a long command never
/// holds up the next message.
actor MatrixSession {
    let client: MatrixClient
    let userID: String
    let settings: MatrixSettings
    let engine: any MessageHandler
    let logger: Logger
    let state: ConnectionState
    let timelineLimit: Int
    let syncTimeout: Duration
    let outbox: MatrixOutbox
    let gateNotices: GateMessages<MatrixPlacedNotice>
    let connection: MatrixConnection
    let work: InFlightWork
    let position: MatrixSyncPosition
    private var mention: MatrixMention
    /// Batches whose position is not saved yet, oldest first: a position is saved once its batch and
    /// every batch before it has been handled (each message's run recorded), so a replica that dies
    /// mid-way leaves the position where the next holder handles again what it had not recorded;
    /// what it had recorded is dropped as a duplicate by its event key.
    private var unsaved: [BatchProgress] = []
    private var saving = false
    private var saveAgain = false
    private var memberCounts: [String: Int] = [:]
    private var recent: [String] = []
    private var recentSet: Set<String> = []
    /// How many handled event ids are remembered to drop an event seen twice (history and timeline).
    static let remembered = 2_000

    init(client: MatrixClient, userID: String, adapter: MatrixAdapter, engine: any MessageHandler) {
        self.client = client
        self.userID = userID
        self.settings = adapter.settings
        self.engine = engine
        self.logger = adapter.logger
        self.state = adapter.state
        self.timelineLimit = adapter.timelineLimit
        self.syncTimeout = adapter.syncTimeout
        self.outbox = MatrixOutbox(client: client, logger: adapter.logger)
        self.gateNotices = adapter.gateNotices
        self.connection = adapter.connection
        self.work = adapter.work
        self.position = MatrixSyncPosition(handler: engine, userID: userID)
        self.mention = MatrixMention(
            userID: userID, displayName: nil, addressingName: engine.config.addressing.names.first ?? "parley")
    }

    /// Syncs until cancelled or an error ends the connection.
    func run() async throws {
        let profile = try? await client.request(
            .GET, "/_matrix/client/v3/profile/\(MatrixClient.encode(userID))/displayname")
        mention = MatrixMention(
            userID: userID, displayName: profile?["displayname"].string,
            addressingName: engine.config.addressing.names.first ?? "parley")
        for room in settings.rooms { await join(room, reason: "configured") }
        var since: String
        if let saved = try await position.load() {
            since = saved
        } else {
            // The very first start: what was said before Parley existed is not for it.
            let first = try await sync(since: nil)
            await decideInvitations(in: first)
            since = try nextBatch(of: first)
            try await position.save(since)
            logger.info("first Matrix sync: earlier messages are not handled")
        }
        state.set(true)
        while true {
            try Task.checkCancellation()
            let batch = try await sync(since: since)
            state.set(true)
            await decideInvitations(in: batch)
            let progress = BatchProgress(position: try nextBatch(of: batch))
            for (room, joined) in batch.joinedRooms {
                try await handle(joined, in: room, since: since, of: batch, progress: progress)
            }
            since = progress.position
            unsaved.append(progress)
            try await saveHandled()
        }
    }

    /// Saves the position of the newest batch that, with every batch before it, has been handled.
    /// Called after each sync and whenever a message's handling ends.
    /// One save at a time, so an older position can never be written after a newer one.
    private func saveHandled() async throws {
        guard !saving else {
            saveAgain = true
            return
        }
        saving = true
        defer { saving = false }
        repeat {
            saveAgain = false
            let handled = unsaved.prefix { $0.isDone }
            guard let newest = handled.last else { return }
            unsaved.removeFirst(handled.count)
            try await position.save(newest.position)
        } while saveAgain
    }

    private func nextBatch(of batch: MatrixSyncBatch) throws -> String {
        guard let token = batch.nextBatch else {
            throw MatrixError(status: 200, code: "M_UNKNOWN", message: "the sync answer has no next_batch")
        }
        return token
    }

    private func sync(since: String?) async throws -> MatrixSyncBatch {
        let filter: JSON = [
            "room": [
                "timeline": ["limit": .number(Double(since == nil ? 1 : timelineLimit))],
                "state": ["lazy_load_members": true],
                "ephemeral": ["not_types": ["*"]],
                "account_data": ["not_types": ["*"]],
            ],
            "presence": ["not_types": ["*"]],
            "account_data": ["not_types": ["*"]],
        ]
        var query = [("filter", String(decoding: filter.encoded, as: UTF8.self))]
        if let since {
            query += [("since", since), ("timeout", String(syncTimeout.components.seconds * 1000))]
        }
        let body = try await client.request(
            .GET, "/_matrix/client/v3/sync", query: query, timeout: syncTimeout + .seconds(30), retryingErrors: false)
        return MatrixSyncBatch(body: body, userID: userID)
    }

    // MARK: rooms

    private func handle(
        _ joined: JSON, in room: String, since: String, of batch: MatrixSyncBatch, progress: BatchProgress
    ) async throws {
        var events = joined["timeline"]["events"].array ?? []
        if MatrixSyncBatch.changesMembers(joined) { memberCounts[room] = nil }
        if joined["timeline"]["limited"].bool == true, let gapEnd = joined["timeline"]["prev_batch"].string {
            events = try await history(of: room, from: gapEnd, to: since) + events
        }
        for event in batch.sinceOwnJoin(events) { await consider(event, in: room, progress: progress) }
    }

    /// The events a limited timeline left out, oldest first: from `from` back to the previous
    /// batch's position `to`, or to an event already handled.
    private func history(of room: String, from: String, to: String) async throws -> [JSON] {
        var collected: [JSON] = []
        var from = from
        for _ in 0..<100 {
            let page = try await client.request(
                .GET, "/_matrix/client/v3/rooms/\(MatrixClient.encode(room))/messages",
                query: [("dir", "b"), ("from", from), ("to", to), ("limit", "100")])
            let chunk = page["chunk"].array ?? []
            if let seen = chunk.firstIndex(where: { ($0["event_id"].string).map { recentSet.contains($0) } ?? false }) {
                collected += chunk[..<seen]
                break
            }
            collected += chunk
            guard let end = page["end"].string, !chunk.isEmpty, end != from else { break }
            from = end
        }
        logger.info("back-filled \(collected.count) event(s) a limited sync left out in \(room)")
        return collected.reversed()
    }

    private func join(_ room: String, reason: String) async {
        do {
            try await client.request(.POST, "/_matrix/client/v3/join/\(MatrixClient.encode(room))", body: [:])
            logger.info("joined \(room) (\(reason))")
        } catch {
            logger.warning("cannot join \(room): \(error)")
        }
    }

    private func decideInvitations(in batch: MatrixSyncBatch) async {
        for (room, inviter) in batch.invitations {
            if accepts(inviter) {
                await join(room, reason: "invited by \(inviter ?? "someone")")
            } else {
                logger.info(
                    "declined an invitation to \(room) from \(inviter ?? "someone") (invites: \(settings.invites))")
                _ = try? await client.request(
                    .POST, "/_matrix/client/v3/rooms/\(MatrixClient.encode(room))/leave", body: [:])
            }
        }
    }

    private func accepts(_ inviter: String?) -> Bool {
        switch settings.invites {
        case .anyone: return true
        case .none: return false
        case .known:
            guard let inviter else { return false }
            return !engine.directory.principal(for: Identity(platform: "matrix", id: inviter)).isGuest
        }
    }

    private func joinedMembers(of room: String) async -> Int {
        if let count = memberCounts[room] { return count }
        let answer = try? await client.request(
            .GET, "/_matrix/client/v3/rooms/\(MatrixClient.encode(room))/joined_members")
        guard let count = answer?["joined"].object?.count else { return 0 }
        memberCounts[room] = count
        return count
    }

    // MARK: messages

    /// A 📌 reaction (`m.reaction`, `m.annotation`) on a message pins that message to the timeline of
    /// the incident open in the room.
    private func considerReaction(_ event: JSON, in room: String) async {
        let relation = event["content"]["m.relates_to"]
        guard relation["rel_type"].string == "m.annotation", let key = relation["key"].string,
            key.hasPrefix("📌"), let target = relation["event_id"].string, let id = event["event_id"].string,
            let sender = event["sender"].string, sender != userID
        else { return }
        let original = try? await client.request(
            .GET, "/_matrix/client/v3/rooms/\(MatrixClient.encode(room))/event/\(MatrixClient.encode(target))")
        let text = original?["content"]["body"].string ?? "(message \(target))"
        _ = await engine.pin(text, by: Identity(platform: "matrix", id: sender), in: room, eventID: id)
    }

    /// True the first time an event id is seen in this session.
    private func remember(_ eventID: String) -> Bool {
        guard recentSet.insert(eventID).inserted else { return false }
        recent.append(eventID)
        if recent.count > Self.remembered {
            recentSet.remove(recent.removeFirst())
        }
        return true
    }

    private func consider(_ event: JSON, in room: String, progress: BatchProgress) async {
        if event["type"].string == "m.reaction" {
            await considerReaction(event, in: room)
            return
        }
        guard let message = MatrixMessage(event, userID: userID), remember(message.eventID),
            let body = message.text,
            // An edit of a command is not a new command.
            !message.isEdit
        else { return }
        let (eventID, sender, thread) = (message.eventID, message.sender, message.thread)
        let inbound = Inbound(
            sender: Identity(platform: "matrix", id: sender), room: room, thread: thread, eventID: eventID,
            text: mention.rewrite(MatrixMention.withoutReplyFallback(body)),
            isDirect: await joinedMembers(of: room) == 2)
        let reply = thread.map { MatrixThread(root: $0, inReplyTo: eventID) }
        progress.begin()
        work.start { [engine, outbox, logger, gateNotices, connection] in
            let live = MatrixLiveNotice(outbox: outbox, room: room, thread: reply)
            let response = await engine.handle(inbound, onOutput: { live.receive($0) })
            let gates = MatrixGateNotices(notices: gateNotices, connection: connection, logger: logger)
            if let settled = response?.settledGate { await gates.settle(settled) }
            do {
                let ids = try await live.finish(with: response?.reply)
                if let response, let gate = response.openedGate {
                    gates.opened(gate, by: response.reply, in: room, eventIDs: ids, engine: engine)
                }
            } catch {
                logger.error("cannot answer in \(room): \(error)")
            }
            // The position moves past the message before its work counts as done, so a stop that
            // waits for the work in flight (`settle()`) leaves the position saved.
            progress.end()
            try? await self.saveHandled()
        }
    }
}
