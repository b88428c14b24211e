import NIOCore

/// Writes lines to the server with flood control: a burst of 5, then one every 400 ms.
actor IRCWriter {
    private let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    private var tokens = 5.0
    private var last = ContinuousClock.now

    init(_ outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>) {
        self.outbound = outbound
    }

    func send(_ message: IRCMessage) async {
        let now = ContinuousClock.now
        tokens = min(
            5,
            tokens + Double((now - last).components.attoseconds) / 4e17 + Double((now - last).components.seconds) * 2.5)
        last = now
        if tokens < 1 {
            try? await Task.sleep(for: .milliseconds(400))
            tokens = 1
            last = ContinuousClock.now
        }
        tokens -= 1
        try? await outbound.write(ByteBuffer(string: message.line + "\r\n"))
    }
}
