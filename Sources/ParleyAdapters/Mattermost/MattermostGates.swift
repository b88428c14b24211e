import ParleyCore
import ParleyEngine

/// A post Parley made in Mattermost: where it is and its text, to edit it later.
struct MattermostPlacedPost: Sendable {
    var id: String
    var channel: String
    var message: String
}

/// Replies for one person (`POST /posts/ephemeral`), and approval posts kept current: once a gate is
/// settled, its post shows the outcome in place of its buttons (`PUT /posts/{id}/patch`).
extension MattermostAdapter {
    /// Shows a response: to its sender alone when it is for them only (in the channel if Mattermost
    /// will not), else in the channel in place of the live output; then updates the post of a gate
    /// the answer settled and remembers the post of a gate it opened.
    func deliver(
        _ response: EngineResponse, live: LiveReply<MattermostRenderer.Post>, for inbound: Inbound,
        pressed: MattermostPlacedPost?, engine: any MessageHandler
    ) async {
        if let settled = response.settledGate { await settle(settled, pressed: pressed) }
        let posts = MattermostRenderer.posts(for: response.reply)
        if response.audience == .sender,
            await postEphemeral(posts, to: inbound.sender.id, channel: inbound.room, root: inbound.thread)
        {
            await live.finish([])
            return
        }
        let ids = await live.finish(posts)
        guard let gate = response.openedGate, let index = posts.lastIndex(where: { !$0.actions.isEmpty }),
            index < ids.count, let id = ids[index]
        else { return }
        let placed = MattermostPlacedPost(id: id, channel: inbound.room, message: posts[index].message)
        gatePosts.opened(gate, at: placed, handler: engine) { placed, settled in await self.show(settled, in: placed) }
    }

    /// Shows how a gate ended on the post that asked for it: the one remembered, else the one whose
    /// button was pressed, if it names this gate.
    func settle(_ settled: SettledGate, pressed: MattermostPlacedPost?) async {
        let offered = pressed.flatMap { $0.message.contains(" \(settled.id)") ? $0 : nil }
        guard let placed = gatePosts.take(settled.id) ?? offered else { return }
        await show(settled, in: placed)
    }

    func show(_ settled: SettledGate, in placed: MattermostPlacedPost) async {
        let patch: JSON = [
            "message": .string(placed.message + "\n\n" + MattermostRenderer.escape(settled.outcome)),
            "props": ["attachments": []],
        ]
        do {
            try await client.request(.PUT, "/posts/\(placed.id)/patch", patch)
        } catch {
            logger.warning("cannot show the outcome of \(settled.id) in \(placed.channel): \(error)")
        }
    }

    /// Posts messages only `user` sees; false (having logged why) when Mattermost refused one.
    func postEphemeral(_ posts: [MattermostRenderer.Post], to user: String, channel: String, root: String?) async
        -> Bool
    {
        for post in posts {
            var fields: [String: JSON] = ["channel_id": .string(channel), "message": .string(post.message)]
            if let root { fields["root_id"] = .string(root) }
            do {
                try await client.request(
                    .POST, "/posts/ephemeral", ["user_id": .string(user), "post": .object(fields)])
            } catch {
                logger.warning("cannot show \(user) a reply privately (\(error)); posting it in \(channel)")
                return false
            }
        }
        return true
    }
}
