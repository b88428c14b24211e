import Foundation
import Hummingbird
import HummingbirdWebSocket
import ParleyCore
import ParleyEngine
import ParleyStore

/// The web console's WebSocket: the `web` chat adapter. Each message runs in a task of its own, so
/// a long command neither blocks the console nor dies when the browser tab closes.
struct ConsoleSocket {
    let engine: Engine
    let store: any ParleyStorage
    let metrics: ServerMetrics

    struct ClientFrame: Decodable {
        let type: String
        let id: String?
        let text: String?
    }

    struct CommandInfo: Encodable {
        let word: String
        let usage: String
        let help: String
    }

    struct Hello: Encodable {
        var type = "hello"
        let user: String
        let commands: [CommandInfo]
    }

    struct ReplyFrame: Encodable {
        var type = "reply"
        let id: String
        let runID: Int64?
        let outcome: String
        let blocks: [ReplyBlock]
    }

    struct OutputFrame: Encodable {
        var type = "output"
        let id: String
        let text: String
    }

    struct ErrorFrame: Encodable {
        var type = "error"
        let message: String
    }

    func register(on router: Router<BasicWebSocketRequestContext>) {
        router.ws("ws") { request, _ in
            if case .foreign(let origin) = OriginCheck.verdict(request, publicURL: engine.config.server.publicURL) {
                throw APIError(
                    .forbidden, "the console only accepts connections from its own pages, not from Origin \(origin)")
            }
            guard try await user(for: request) != nil else { throw APIError(.unauthorized, "sign in first") }
            return .upgrade([:])
        } onUpgrade: { inbound, outbound, context in
            guard let user = try await user(for: context.request) else {
                try await outbound.close(.policyViolation, reason: "sign in first")
                return
            }
            metrics.consoleOpened()
            defer { metrics.consoleClosed() }
            let writer = SocketWriter(outbound)
            await writer.send(Hello(user: user, commands: commands(for: user)))
            for try await message in inbound.messages(maxSize: 64 * 1024) {
                guard case .text(let text) = message,
                    let frame = try? JSONDecoder().decode(ClientFrame.self, from: Data(text.utf8))
                else {
                    await writer.send(
                        ErrorFrame(message: "send JSON such as {\"type\": \"message\", \"text\": \"help\"}"))
                    continue
                }
                guard frame.type == "message", let body = frame.text else { continue }
                let id = frame.id ?? UUID().uuidString
                Task { await run(body, id: id, user: user, writer: writer) }
            }
        }
    }

    private func run(_ text: String, id: String, user: String, writer: SocketWriter) async {
        let started = ContinuousClock.now
        let inbound = Inbound(sender: Identity(platform: "web", id: user), room: "web", text: text, isDirect: true)
        let throttle = OutputThrottle { chunk in await writer.send(OutputFrame(id: id, text: chunk)) }
        let response = await engine.handle(inbound) { chunk in Task { await throttle.add(chunk) } }
        await throttle.flush()
        guard let response else { return }
        metrics.command(outcome: response.outcome.rawValue, took: ContinuousClock.now - started)
        await writer.send(
            ReplyFrame(id: id, runID: response.runID, outcome: response.outcome.rawValue, blocks: response.reply.blocks)
        )
    }

    private func user(for request: Request) async throws -> String? {
        guard let cookie = request.cookies[SessionCookie.name]?.value else { return nil }
        return try await store.session(tokenHash: Tokens.hash(cookie), now: Date())?.userName
    }

    private func commands(for user: String) -> [CommandInfo] {
        engine.runnableCommands(for: Identity(platform: "web", id: user)).map {
            CommandInfo(word: $0.word, usage: $0.usage, help: $0.help)
        }
    }
}

/// Serializes writes to one WebSocket from many tasks; a closed socket makes writes no-ops.
actor SocketWriter {
    private let outbound: WebSocketOutboundWriter
    private var closed = false

    init(_ outbound: WebSocketOutboundWriter) {
        self.outbound = outbound
    }

    func send<T: Encodable>(_ frame: T) async {
        guard !closed, let data = try? JSONBody.encoder.encode(frame) else { return }
        do {
            try await outbound.write(.text(String(decoding: data, as: UTF8.self)))
        } catch {
            closed = true
        }
    }
}

/// Batches live output so a chatty program sends a frame every few hundred milliseconds, not per line.
actor OutputThrottle {
    private var pending = ""
    private var scheduled = false
    private let emit: @Sendable (String) async -> Void

    init(emit: @escaping @Sendable (String) async -> Void) {
        self.emit = emit
    }

    func add(_ chunk: String) {
        pending += chunk
        guard !scheduled else { return }
        scheduled = true
        Task {
            try? await Task.sleep(for: .milliseconds(200))
            await flush()
        }
    }

    func flush() async {
        scheduled = false
        guard !pending.isEmpty else { return }
        let text = pending
        pending = ""
        await emit(text)
    }
}
