import Foundation
import Logging
import NIOCore
import ParleyCore
import ParleyEngine
import WSClient

/// Socket Mode: Parley opens a websocket to Slack (`apps.connections.open` with the app-level token)
/// and events, slash commands and button presses arrive on it as envelopes, each acknowledged at
/// once by its `envelope_id`. For teams that cannot give Slack a public URL.
extension SlackAdapter {
    func runSocketMode(engine: any MessageHandler, appWeb: SlackWebClient) async {
        var backoff = Duration.seconds(1)
        while !Task.isCancelled {
            do {
                let me = try await web.call("auth.test", [:])
                profile.setBotUserID(me["user_id"].string)
                let link = try await appWeb.call("apps.connections.open", [:])
                guard let url = link["url"].string else {
                    throw SlackAPIError(method: "apps.connections.open", error: "no url in the answer")
                }
                let clean = try await socketSession(url: url, engine: engine)
                state.set(false)
                if clean { backoff = .seconds(1) }
            } catch is CancellationError {
                break
            } catch {
                state.set(false)
                logger.warning("Slack Socket Mode failed: \(error); retrying in \(backoff)")
            }
            guard !Task.isCancelled else { break }
            try? await Task.sleep(for: backoff)
            backoff = min(backoff * 2, .seconds(60))
        }
        state.set(false)
    }

    /// One websocket connection, until Slack asks for a new one or it drops; true when Slack asked.
    private func socketSession(url: String, engine: any MessageHandler) async throws -> Bool {
        let asked = SharedValue(false)
        try await WebSocketClient.connect(url: url, logger: logger) { inbound, outbound, _ in
            for try await message in inbound.messages(maxSize: 1 << 22) {
                guard case .text(let text) = message, let envelope = JSON(parsing: Array(text.utf8)) else { continue }
                switch envelope["type"].string {
                case "hello":
                    logger.info("connected to Slack over Socket Mode")
                    state.set(true)
                case "disconnect":
                    logger.info("Slack asks for a new Socket Mode connection (\(envelope["reason"].string ?? "?"))")
                    asked.set(true)
                    try await outbound.close(.normalClosure, reason: nil)
                    return
                default:
                    guard let id = envelope["envelope_id"].string else { continue }
                    let answer = handleEnvelope(envelope, engine: engine)
                    var ack: [String: JSON] = ["envelope_id": .string(id)]
                    if let answer { ack["payload"] = answer }
                    try await outbound.write(.text(String(decoding: JSON.object(ack).encoded, as: UTF8.self)))
                }
            }
        }
        return asked.current
    }

    /// Starts what an envelope asks for; returns the payload to acknowledge with, if any.
    func handleEnvelope(_ envelope: JSON, engine: any MessageHandler) -> JSON? {
        let payload = envelope["payload"]
        switch envelope["type"].string {
        case "events_api":
            guard payload["type"].string == "event_callback", payload["event"].object != nil else { return nil }
            if let retry = envelope["retry_attempt"].int, retry > 0 {
                logger.debug("Slack retry #\(retry) of \(payload["event_id"].string ?? "?")")
            }
            work.start { await handleEvent(payload["event"], engine: engine) }
            return nil
        case "slash_commands":
            let form = payload.object?.compactMapValues { $0.string } ?? [:]
            switch slashCommand(form, engine: engine) {
            case .success(let answer): return answer
            case .failure(let reason):
                logger.warning("a Socket Mode slash command was unusable: \(reason.message)")
                return nil
            }
        case "interactive":
            if case .failure(let reason) = interaction(payload, engine: engine) {
                logger.warning("a Socket Mode interaction was unusable: \(reason.message)")
            }
            return nil
        default:
            return nil
        }
    }
}
