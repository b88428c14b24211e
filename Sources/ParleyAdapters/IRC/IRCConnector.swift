import Logging
import NIOCore
import NIOPosix
import NIOSSL
import ParleyCore

/// Opens the connection to the server: TCP, or TLS with the host's name for SNI and verification,
/// then line framing (bounded, `IRCLineDecoder`) and a keep-alive.
struct IRCConnector {
    let settings: IRCSettings
    /// Quiet this long, Parley pings the server; quiet as long again, it drops the connection.
    var idleTimeout = TimeAmount.seconds(120)
    /// Where a dropped over-long line is reported.
    var logger = Logger(label: "parley.irc")

    /// The TLS context the settings ask for: the system's trust roots, or the configured CA file
    /// instead; verification off only when `tls_verify: false`.
    func tlsContext() throws -> NIOSSLContext? {
        guard settings.tls else { return nil }
        var configuration = TLSConfiguration.makeClientConfiguration()
        if let file = settings.tlsCAFile { configuration.trustRoots = .file(file) }
        if !settings.tlsVerify { configuration.certificateVerification = .none }
        return try NIOSSLContext(configuration: configuration)
    }

    func connect() async throws -> NIOAsyncChannel<ByteBuffer, ByteBuffer> {
        let tls = try tlsContext()
        // SNI carries names only; an IP address is checked against the certificate's IP entries.
        let serverName = (try? SocketAddress(ipAddress: settings.host, port: 0)) == nil ? settings.host : nil
        let idle = idleTimeout
        let logger = logger
        return try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.seconds(15))
            .connect(host: settings.host, port: settings.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    if let tls {
                        try pipeline.addHandler(NIOSSLClientHandler(context: tls, serverHostname: serverName))
                    }
                    try pipeline.addHandler(ByteToMessageHandler(IRCLineDecoder(logger: logger)))
                    try pipeline.addHandler(IdleStateHandler(readTimeout: idle))
                    try pipeline.addHandler(IRCKeepAlive())
                    return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
    }
}

/// Notices a server that went quiet: pings it once, and closes the connection if it stays quiet, so
/// the adapter reconnects instead of waiting forever on a dead socket.
final class IRCKeepAlive: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private var pinged = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        pinged = false
        context.fireChannelRead(data)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard let idle = event as? IdleStateHandler.IdleStateEvent, idle == .read else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        if pinged {
            context.close(promise: nil)
        } else {
            pinged = true
            context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: "PING :parley\r\n")), promise: nil)
        }
    }
}
