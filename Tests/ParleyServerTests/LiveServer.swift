import Foundation
import Hummingbird
import Logging
import NIOCore

/// A Hummingbird application running in the background on a free 127.0.0.1 port, until `stop()`.
final class LiveServer: Sendable {
    let port: Int
    private let task: Task<Void, any Error>

    init(_ make: (@escaping @Sendable (Int) async -> Void) -> some ApplicationProtocol) async throws {
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let app = make { port in continuation.yield(port) }
        task = Task { try await app.runService(gracefulShutdownSignals: []) }
        var found: Int?
        for await port in ports {
            found = port
            break
        }
        guard let found else { throw CancellationError() }
        port = found
    }

    /// A plain application over a router.
    convenience init(router: Router<BasicRequestContext>) async throws {
        try await self.init { onRunning in
            Application(
                router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? 0) },
                logger: Logger(label: "test.live") { _ in SwiftLogNoOpLogHandler() })
        }
    }

    func stop() {
        task.cancel()
    }
}
