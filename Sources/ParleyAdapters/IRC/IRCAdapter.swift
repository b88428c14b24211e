import Foundation
import Logging
import NIOCore
import NIOExtras
import NIOPosix
import ParleyCore
import ParleyEngine

/// The IRC adapter: one connection to a server, channels joined, PRIVMSG in, replies out — a
/// SwiftNIO pipeline of a line decoder and an async channel, reconnecting with backoff.
public struct IRCAdapter: ChatAdapter {
    public let platform = "irc"
    let settings: IRCSettings
    let logger: Logger
    let environment: [String: String]
    let state = ConnectionState()

    /// True between the server's welcome and the connection's end.
    public var isConnected: Bool { state.isConnected }
    /// The most lines one reply may take in a channel; the rest points to `run ID`.
    static let maxReplyLines = 15

    /// Creates an adapter.
    public init(
        settings: IRCSettings, environment: [String: String] = ProcessInfo.processInfo.environment,
        logger: Logger = Logger(label: "parley.irc")
    ) {
        self.settings = settings
        self.environment = environment
        self.logger = logger
    }

    public func run(engine: Engine) async throws {
        var backoff = Duration.seconds(1)
        while !Task.isCancelled {
            do {
                try await session(engine: engine)
                state.set(false)
                backoff = .seconds(1)
            } catch is CancellationError {
                state.set(false)
                return
            } catch {
                logger.warning(
                    "IRC connection to \(settings.host):\(settings.port) failed: \(error); retrying in \(backoff)")
            }
            try? await Task.sleep(for: backoff)
            backoff = min(backoff * 2, .seconds(60))
        }
    }

    private func session(engine: Engine) async throws {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: settings.host, port: settings.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(LineBasedFrameDecoder()))
                    return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        try await channel.executeThenClose { inbound, outbound in
            let writer = IRCWriter(outbound)
            var nick = settings.nick
            if let password = try settings.password?.resolve(environment: environment).get() {
                await writer.send(IRCMessage("PASS", [password]))
            }
            await writer.send(IRCMessage("NICK", [nick]))
            await writer.send(IRCMessage("USER", [nick, "0", "*", "Parley ChatOps"]))
            for try await buffer in inbound {
                guard let message = IRCMessage(line: String(buffer: buffer)) else { continue }
                switch message.command {
                case "PING": await writer.send(IRCMessage("PONG", message.params))
                case "001":
                    logger.info("connected to IRC as \(nick)")
                    state.set(true)
                    for channel in settings.channels { await writer.send(IRCMessage("JOIN", [channel])) }
                case "433":
                    nick += "_"
                    await writer.send(IRCMessage("NICK", [nick]))
                case "PRIVMSG":
                    guard message.params.count == 2, let sender = message.nick, sender != nick else { continue }
                    let target = message.params[0]
                    let direct = target.caseInsensitiveCompare(nick) == .orderedSame
                    let room = direct ? sender : target
                    let inbound = Inbound(
                        sender: Identity(platform: "irc", id: sender), room: room, text: message.params[1],
                        isDirect: direct)
                    Task { await answer(inbound, to: room, engine: engine, writer: writer) }
                default: continue
                }
            }
        }
    }

    private func answer(_ inbound: Inbound, to room: String, engine: Engine, writer: IRCWriter) async {
        guard let response = await engine.handle(inbound) else { return }
        var lines = IRCLines.split(response.reply.plainText)
        if lines.count > Self.maxReplyLines {
            let cut = lines.count - Self.maxReplyLines + 1
            lines = Array(lines.prefix(Self.maxReplyLines - 1))
            lines.append("… \(cut) more line\(cut == 1 ? "" : "s"); `run \(response.runID ?? 0)` shows all")
        }
        for line in lines { await writer.send(IRCMessage("PRIVMSG", [room, line])) }
    }
}

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
