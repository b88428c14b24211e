import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization

/// A Hummingbird application running in the background on a free 127.0.0.1 port, until `stop()`.
final class LiveServer: Sendable {
    let port: Int
    private let task: Task<Void, any Error>
    private let group: ServiceGroup

    init(_ make: (@escaping @Sendable (Int) async -> Void) -> some ApplicationProtocol) async throws {
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let app = make { port in continuation.yield(port) }
        let failure = Mutex<String?>(nil)
        let group = ServiceGroup(
            services: [app], gracefulShutdownSignals: [], cancellationSignals: [],
            logger: Logger(label: "test.live") { _ in SwiftLogNoOpLogHandler() })
        self.group = group
        task = Task {
            // A server that cannot start ends the wait for its port instead of leaving it hanging.
            defer { continuation.finish() }
            do {
                try await group.run()
            } catch {
                failure.withLock { $0 = "\(error)" }
                throw error
            }
        }
        let timeout = Task {
            try await Task.sleep(for: .seconds(30))
            continuation.finish()
        }
        defer { timeout.cancel() }
        var found: Int?
        for await port in ports {
            found = port
            break
        }
        guard let found else {
            task.cancel()
            throw LiveServerError(reason: failure.withLock { $0 } ?? "no port within 30 s")
        }
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

    /// Stops the server gracefully: it stops accepting, closes idle connections and lets requests
    /// in flight finish (cancelling it outright dropped connections' writers unfinished, which NIO
    /// traps on in debug builds). A server still busy after 10 s is cancelled.
    func stop() {
        let (group, task) = (group, task)
        Task {
            await group.triggerGracefulShutdown()
            try? await Task.sleep(for: .seconds(10))
            task.cancel()
        }
    }
}

/// A test server did not start within 30 seconds.
struct LiveServerError: Error, CustomStringConvertible {
    var reason: String
    var description: String { "the test server did not start: \(reason)" }
}
