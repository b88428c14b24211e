import Synchronization

/// A running command's output shown in one message on an HTTP platform (Slack, Mattermost): posted
/// when the first output arrives, edited at most once per `interval` with the last lines, and finally
/// replaced by the reply's first message (the rest are posted after it). The platform's calls are
/// closures, so each adapter keeps its own API and rendering.
final class LiveReply<Message: Sendable>: Sendable {
    /// What the platform does.
    struct Calls: Sendable {
        /// Posts a new message showing `text` (the last lines of output); returns its id.
        var post: @Sendable (_ text: String) async throws -> String?
        /// Edits message `id` to show `text`.
        var edit: @Sendable (_ id: String, _ text: String) async throws -> Void
        /// Puts `message` in place of message `id`; false when it cannot go there (it is posted instead).
        var replace: @Sendable (_ id: String, _ message: Message) async throws -> Bool
        /// Posts `message` as a new message; returns its id.
        var send: @Sendable (_ message: Message) async throws -> String?
        /// Says why a call failed (nothing is retried: the final reply still goes out).
        var warn: @Sendable (_ problem: String) -> Void
    }

    private struct State {
        var tail: Task<Void, Never>?
        var output = ""
        var id: String?
        var lastShown: ContinuousClock.Instant?
    }

    private let state = Mutex(State())
    private let calls: Calls
    private let interval: Duration
    private let lines: Int

    init(calls: Calls, interval: Duration = .seconds(1), lines: Int = 30) {
        self.calls = calls
        self.interval = interval
        self.lines = lines
    }

    /// Takes more output; shows it unless it was shown less than `interval` ago.
    func output(_ chunk: String) {
        state.withLock { state in
            state.output += chunk
            let now = ContinuousClock.now
            if let last = state.lastShown, now - last < interval { return }
            state.lastShown = now
            let previous = state.tail
            state.tail = Task {
                await previous?.value
                await self.show()
            }
        }
    }

    private func show() async {
        let (text, id) = state.withLock { state in
            (
                state.output.split(separator: "\n", omittingEmptySubsequences: false).suffix(lines).joined(
                    separator: "\n"),
                state.id
            )
        }
        do {
            if let id {
                try await calls.edit(id, text)
            } else {
                let posted = try await calls.post(text)
                state.withLock { $0.id = posted }
            }
        } catch {
            calls.warn("cannot show live output: \(error)")
        }
    }

    /// Waits for the edits under way, then puts the reply in place of the live message and posts the
    /// rest. Returns the id each message ended up with, in order (nil for one that could not be posted).
    @discardableResult
    func finish(_ messages: [Message]) async -> [String?] {
        let pending = state.withLock { state -> Task<Void, Never>? in
            state.lastShown = .now + .seconds(3600)
            return state.tail
        }
        await pending?.value
        var ids: [String?] = []
        var rest = messages[...]
        if let id = state.withLock({ $0.id }), let first = rest.first {
            do {
                if try await calls.replace(id, first) {
                    ids.append(id)
                    rest = rest.dropFirst()
                }
            } catch {
                calls.warn("cannot put the reply in place of the live message: \(error)")
            }
        }
        for message in rest {
            do {
                ids.append(try await calls.send(message))
            } catch {
                ids.append(nil)
                calls.warn("cannot post a reply: \(error)")
            }
        }
        return ids
    }
}
