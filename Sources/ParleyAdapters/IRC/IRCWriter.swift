import NIOCore
import ParleyCore

/// Writes lines to the server with flood control: a token bucket of `burst` lines refilled at
/// `linesPerSecond`. Each line reserves its slot before waiting, so concurrent replies queue up in
/// turn instead of waking together; the lines of one reply keep their order.
actor IRCWriter {
    private let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    private let burst: Double
    private let linesPerSecond: Double?
    private var tokens: Double
    private var last = ContinuousClock.now

    init(_ outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>, flood: IRCFloodControl = .standard) {
        self.outbound = outbound
        switch flood {
        case .off:
            burst = 1
            linesPerSecond = nil
        case .limit(let burst, let rate):
            self.burst = Double(max(burst, 1))
            linesPerSecond = rate
        }
        tokens = burst
    }

    func send(_ message: IRCMessage) async {
        if let linesPerSecond {
            let now = ContinuousClock.now
            let elapsed = now - last
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            tokens = min(burst, tokens + seconds * linesPerSecond)
            last = now
            tokens -= 1
            if tokens < 0 {
                try? await Task.sleep(for: .seconds(-tokens / linesPerSecond))
            }
        }
        try? await outbound.write(ByteBuffer(string: message.line + "\r\n"))
    }
}
