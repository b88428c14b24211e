import Logging
import ParleyCore
import ParleyEngine

/// A notice that asks for a gate: where it is and the reply it is part of, to edit it later.
struct MatrixPlacedNotice: Sendable {
    var room: String
    var eventID: String
    /// The whole reply, and which of its messages this notice is.
    var reply: Reply
    var index: Int
}

/// Approval notices kept current: Matrix has no buttons, so a gate's notice ends with the commands
/// to type; once the gate is settled, the notice is edited (`m.replace`) to show the outcome there.
struct MatrixGateNotices: Sendable {
    let notices: GateMessages<MatrixPlacedNotice>
    let connection: MatrixConnection
    let logger: Logger

    /// Remembers the notice of a gate a reply opened: the one with its commands.
    func opened(_ gate: OpenedGate, by reply: Reply, in room: String, eventIDs: [String], engine: any MessageHandler) {
        let messages = MatrixRendering.messages(reply)
        guard messages.count == eventIDs.count, let index = eventIDs.indices.last, !eventIDs[index].isEmpty else {
            return
        }
        let placed = MatrixPlacedNotice(room: room, eventID: eventIDs[index], reply: reply, index: index)
        notices.opened(gate, at: placed, handler: engine) { placed, settled in await show(settled, in: placed) }
    }

    /// Shows how a gate ended on its notice, when this process posted it.
    func settle(_ settled: SettledGate) async {
        guard let placed = notices.take(settled.id) else { return }
        await show(settled, in: placed)
    }

    func show(_ settled: SettledGate, in placed: MatrixPlacedNotice) async {
        var blocks = placed.reply.blocks.filter {
            if case .actions = $0 { return false }
            return true
        }
        blocks.append(.text(settled.outcome))
        let messages = MatrixRendering.messages(Reply(blocks))
        guard let outbox = connection.outbox,
            let text = messages.indices.contains(placed.index) ? messages[placed.index] : messages.last
        else { return }
        do {
            try await outbox.edit(placed.eventID, in: placed.room, with: text)
        } catch {
            logger.warning("cannot show the outcome of \(settled.id) in \(placed.room): \(error)")
        }
    }
}
