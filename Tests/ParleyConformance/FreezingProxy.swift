import NIOCore
import NIOPosix
import Synchronization

/// A TCP proxy on 127.0.0.1 in front of a server (PostgreSQL), that can play a network partition:
/// `freeze()` makes it swallow every byte in both directions without closing anything (as a
/// dropped route or a failed-over host does), `cut()` then resets every connection it carried, as
/// the partition's end or a TCP keep-alive would. New connections after `cut()` pass again.
public final class FreezingProxy: Sendable {
    public let port: Int
    private let server: Channel
    private let state = Mutex<(frozen: Bool, channels: [Channel])>((false, []))

    private init(port: Int, server: Channel) {
        self.port = port
        self.server = server
    }

    /// Starts a proxy to `port` on 127.0.0.1.
    public static func start(to port: Int) async throws -> FreezingProxy {
        let box = Mutex<FreezingProxy?>(nil)
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.autoRead, value: true)
            .childChannelInitializer { inbound in
                let proxy = box.withLock { $0 }
                return ClientBootstrap(group: inbound.eventLoop)
                    .connect(host: "127.0.0.1", port: port)
                    .flatMap { outbound in
                        proxy?.track(inbound, outbound)
                        return inbound.pipeline.addHandler(Relay(to: outbound, proxy: proxy)).flatMap {
                            outbound.pipeline.addHandler(Relay(to: inbound, proxy: proxy))
                        }
                    }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        let proxy = FreezingProxy(port: server.localAddress?.port ?? 0, server: server)
        box.withLock { $0 = proxy }
        return proxy
    }

    var isFrozen: Bool { state.withLock { $0.frozen } }

    private func track(_ channels: Channel...) {
        state.withLock { $0.channels.append(contentsOf: channels) }
    }

    /// From now on, nothing passes either way; connections stay open.
    public func freeze() { state.withLock { $0.frozen = true } }

    /// Closes every connection carried so far and lets new ones pass.
    public func cut() {
        let channels = state.withLock { state in
            defer {
                state.channels = []
                state.frozen = false
            }
            return state.channels
        }
        for channel in channels { channel.close(promise: nil) }
    }

    public func stop() {
        cut()
        server.close(promise: nil)
    }

    /// Copies what one side reads to the other side, unless the proxy is frozen.
    private final class Relay: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        let peer: Channel
        let proxy: FreezingProxy?

        init(to peer: Channel, proxy: FreezingProxy?) {
            self.peer = peer
            self.proxy = proxy
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            guard proxy?.isFrozen != true else { return }
            peer.writeAndFlush(unwrapInboundIn(data), promise: nil)
        }

        func channelInactive(context: ChannelHandlerContext) {
            peer.close(promise: nil)
        }
    }
}
