import ParleyCore
import Synchronization

/// Collects a program's output up to a byte limit, counting what it drops. A little more than the limit
/// is kept (the longest secret's length), so a secret that straddles the cut is masked whole before
/// the cut is made, and the start of one left at the end is masked too.
final class OutputCapture: Sendable {
    private struct State {
        var bytes: [UInt8] = []
        var dropped = 0
    }

    private let limit: Int
    private let margin: Int
    private let masker: SecretMasker
    private let state = Mutex(State())

    init(limit: Int, masker: SecretMasker = SecretMasker(values: [])) {
        self.limit = limit
        self.masker = masker
        self.margin = masker.longestValueBytes
    }

    func append(_ chunk: [UInt8]) {
        state.withLock { state in
            let room = max(0, limit + margin - state.bytes.count)
            state.bytes.append(contentsOf: chunk.prefix(room))
            state.dropped += max(0, chunk.count - room)
        }
    }

    /// The kept output as text, masked, and whether anything was dropped.
    var text: (String, truncated: Bool) {
        state.withLock { state in
            let text = String(decoding: state.bytes, as: UTF8.self)
            guard state.bytes.count > limit || state.dropped > 0 else { return (masker.mask(text), false) }
            return (masker.maskAndCut(text, maxBytes: limit), true)
        }
    }
}

/// A flag set once from any task.
final class OnceFlag: Sendable {
    private let value = Mutex(false)

    func set() { value.withLock { $0 = true } }
    var isSet: Bool { value.withLock { $0 } }
}
