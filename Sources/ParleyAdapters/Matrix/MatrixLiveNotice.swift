import Logging
import ParleyCore
import Synchronization

/// A running command's output shown as it arrives: a first notice once the command has printed
/// for a second, edited (`m.replace`) at most once a second as more arrives, and finally replaced by
/// the reply. A command that finishes within the first second only ever sends its reply.
final class MatrixLiveNotice: Sendable {
    private struct State {
        var output = ""
        var dirty = false
        var eventID: String?
        var flusher: Task<Void, Never>?
        var finished = false
    }

    private let state = Mutex(State())
    let outbox: MatrixOutbox
    let room: String
    let thread: MatrixThread?
    /// How often the notice is edited, at most.
    static let interval = Duration.seconds(1)
    /// How much of the output the notice shows: the last lines, up to this many bytes.
    static let shownBytes = 4_000

    init(outbox: MatrixOutbox, room: String, thread: MatrixThread?) {
        self.outbox = outbox
        self.room = room
        self.thread = thread
    }

    /// Takes more output; called by the engine as lines arrive.
    func receive(_ lines: String) {
        state.withLock { state in
            guard !state.finished else { return }
            state.output += lines
            if state.output.utf8.count > Self.shownBytes * 2 {
                state.output = String(state.output.suffix(Self.shownBytes))
            }
            state.dirty = true
            if state.flusher == nil { state.flusher = Task { await self.flushEverySecond() } }
        }
    }

    private func flushEverySecond() async {
        while true {
            try? await Task.sleep(for: Self.interval)
            let next: (text: String, eventID: String?)? = state.withLock { state in
                guard !state.finished, state.dirty else { return nil }
                state.dirty = false
                return (Self.tail(state.output), state.eventID)
            }
            if state.withLock({ $0.finished }) { return }
            guard let next else { continue }
            let rendered = MatrixRendering.messages(Reply([.code(next.text)])).last
            guard let rendered else { continue }
            // Not cancelled with the loop: an event half-sent would leave its id unknown.
            let posted = await Task { [outbox, room, thread] () -> String? in
                if let eventID = next.eventID {
                    try? await outbox.edit(eventID, in: room, with: rendered)
                    return eventID
                }
                return try? await outbox.send(MatrixOutbox.placed(rendered.notice, in: thread), to: room)
            }.value
            state.withLock { $0.eventID = $0.eventID ?? posted }
        }
    }

    private static func tail(_ output: String) -> String {
        guard output.utf8.count > shownBytes else { return output }
        let cut = output.suffix(shownBytes)
        return "…" + (cut.firstIndex(of: "\n").map { String(cut[cut.index(after: $0)...]) } ?? String(cut))
    }

    /// Shows the final reply: in place of the live notice when there is one, else as new messages.
    /// Returns the event ids of the reply's messages, in order.
    @discardableResult
    func finish(with reply: Reply?) async throws -> [String] {
        let flusher = state.withLock { state in
            state.finished = true
            return state.flusher
        }
        flusher?.cancel()
        await flusher?.value
        let eventID = state.withLock { $0.eventID }
        var messages = MatrixRendering.messages(reply ?? Reply([]))
        var ids: [String] = []
        if let eventID {
            let first = messages.isEmpty ? MatrixText(plain: "(no output)", html: "<p>(no output)</p>") : messages[0]
            try await outbox.edit(eventID, in: room, with: first)
            ids.append(eventID)
            messages = Array(messages.dropFirst())
        }
        for text in messages {
            ids.append(try await outbox.send(MatrixOutbox.placed(text.notice, in: thread), to: room))
        }
        return ids
    }
}
