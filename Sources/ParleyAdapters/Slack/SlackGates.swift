import ParleyCore
import ParleyEngine

/// A message Parley posted in Slack: where it is and what it shows, to edit it later.
struct SlackPlacedMessage: Sendable {
    var channel: String
    var ts: String
    var message: SlackRenderer.Message
}

/// Replies for one person (`chat.postEphemeral`), and approval messages kept current: once a gate
/// is settled, its message shows the outcome in place of its buttons (`chat.update`).
extension SlackAdapter {
    /// Shows a response: to `user` alone when it is for them only (in the channel if Slack will not),
    /// else in the channel in place of the live output; then updates the message of a gate the
    /// answer settled and remembers the message of a gate it opened.
    func deliver(
        _ response: EngineResponse, live: LiveReply<SlackRenderer.Message>, to user: String, channel: String,
        thread: String?, pressed: SlackPlacedMessage?, engine: any MessageHandler
    ) async {
        if let settled = response.settledGate { await settle(settled, pressed: pressed) }
        let messages = SlackRenderer.messages(for: response.reply)
        if response.audience == .sender, await postEphemeral(messages, to: user, channel: channel, thread: thread) {
            await live.finish([])
            return
        }
        let ids = await live.finish(messages)
        guard let gate = response.openedGate, let index = messages.lastIndex(where: \.hasButtons),
            index < ids.count, let ts = ids[index]
        else { return }
        let placed = SlackPlacedMessage(channel: channel, ts: ts, message: messages[index])
        gateMessages.opened(gate, at: placed, handler: engine) { placed, settled in
            await self.show(settled, in: placed)
        }
    }

    /// Shows how a gate ended on the message that asked for it: the one remembered, else the one
    /// whose button was pressed, if it offers this gate.
    func settle(_ settled: SettledGate, pressed: SlackPlacedMessage?) async {
        let offered = pressed.flatMap { $0.message.offers(gate: settled.id) ? $0 : nil }
        guard let placed = gateMessages.take(settled.id) ?? offered else { return }
        await show(settled, in: placed)
    }

    func show(_ settled: SettledGate, in placed: SlackPlacedMessage) async {
        let message = placed.message.settled(settled.outcome)
        do {
            try await web.call(
                "chat.update", Self.arguments(message, channel: placed.channel, thread: nil, ts: placed.ts))
        } catch {
            logger.warning("cannot show the outcome of \(settled.id) in \(placed.channel): \(error)")
        }
    }

    /// Posts messages only `user` sees; false (having logged why) when Slack refused one.
    func postEphemeral(_ messages: [SlackRenderer.Message], to user: String, channel: String, thread: String?) async
        -> Bool
    {
        for message in messages {
            guard case .object(var arguments) = Self.arguments(message, channel: channel, thread: thread) else {
                return false
            }
            arguments["user"] = .string(user)
            do {
                try await web.call("chat.postEphemeral", .object(arguments))
            } catch {
                logger.warning("cannot show \(user) a reply privately (\(error)); posting it in \(channel)")
                return false
            }
        }
        return true
    }
}

extension SlackRenderer.Message {
    /// True when the message has buttons.
    var hasButtons: Bool { blocks.contains { $0["type"].string == "actions" } }

    /// True when one of its buttons answers gate `id` (`approve K7QXM2TA`, `yes 4821`).
    func offers(gate id: String) -> Bool {
        blocks.contains { block in
            block["type"].string == "actions"
                && (block["elements"].array ?? []).contains { $0["value"].string?.hasSuffix(" \(id)") == true }
        }
    }

    /// The message with its buttons replaced by `outcome`.
    func settled(_ outcome: String) -> SlackRenderer.Message {
        var message = self
        message.blocks =
            blocks.filter { $0["type"].string != "actions" } + [
                SlackRenderer.section(SlackRenderer.escape(outcome))
            ]
        message.plain += (message.plain.isEmpty ? "" : "\n") + outcome
        return message
    }
}
