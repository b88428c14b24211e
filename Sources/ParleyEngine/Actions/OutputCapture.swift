import Synchronization

/// Collects a program's output up to a byte limit, counting what it drops.
final class OutputCapture: Sendable {
    private struct State {
        var bytes: [UInt8] = []
        var dropped = 0
    }

    private let limit: Int
    private let state = Mutex(State())

    init(limit: Int) {
        self.limit = limit
    }

    func append(_ chunk: [UInt8]) {
        state.withLock { state in
            let room = max(0, limit - state.bytes.count)
            state.bytes.append(contentsOf: chunk.prefix(room))
            state.dropped += max(0, chunk.count - room)
        }
    }

    /// The kept output as text, and whether anything was dropped.
    var text: (String, truncated: Bool) {
        state.withLock { (String(decoding: $0.bytes, as: UTF8.self), $0.dropped > 0) }
    }
}

/// A flag set once from any task.
final class OnceFlag: Sendable {
    private let value = Mutex(false)

    func set() { value.withLock { $0 = true } }
    var isSet: Bool { value.withLock { $0 } }
}
