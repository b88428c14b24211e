import Foundation
import ParleyCore
import ParleyEngine
import ParleyStore
import Testing

@testable import ParleyAdapters

/// How replies look in Matrix and how mentions are read, without a homeserver.
struct MatrixRenderingTests {
    @Test func mentionPillsBecomeTheAddressingTheEngineReads() {
        let mention = MatrixMention(userID: "@parley:example.org", displayName: "Ops Bot", addressingName: "parley")
        #expect(mention.rewrite("Ops Bot: deploy api to prod") == "@parley deploy api to prod")
        #expect(mention.rewrite("@parley:example.org deploy api") == "@parley deploy api")
        #expect(mention.rewrite("@parley:example.org: deploy api") == "@parley deploy api")
        #expect(mention.rewrite("ops bot, status") == "@parley status")
        #expect(mention.rewrite("Ops Bot is down again") == "Ops Bot is down again")
        #expect(mention.rewrite("parley: help") == "@parley help")
        #expect(mention.rewrite("deploy api") == "deploy api")
        #expect(MatrixMention.withoutReplyFallback("> <@bob:example.org> earlier\n> more\n\n!ping") == "!ping")
    }

    @Test func richRepliesBecomeEscapedHTMLWithThePlainTextAsFallback() throws {
        let reply = Reply([
            .text("Deploy <api> & \"web\""),
            .code("line 1\n<script>\n"),
            .table(header: ["command", "help"], rows: [["deploy", "Deploy an application"]]),
            .fields([ReplyField("user", "alice"), ReplyField("roles", "ops")]),
            .actions([
                ReplyAction(label: "Approve", command: "approve abc1"),
                ReplyAction(label: "Deny", command: "deny abc1", style: "danger"),
            ]),
        ])
        let messages = MatrixRendering.messages(reply)
        let message = try #require(messages.first)
        #expect(messages.count == 1)
        #expect(message.plain == reply.plainText)
        #expect(
            message.html
                == "<p>Deploy &lt;api&gt; &amp; &quot;web&quot;</p>"
                + "<pre><code>line 1\n&lt;script&gt;</code></pre>"
                + "<table><tr><th>command</th><th>help</th></tr><tr><td>deploy</td><td>Deploy an application</td></tr></table>"
                + "<p><b>user</b>: alice<br><b>roles</b>: ops</p>"
                + "<p>Reply <code>approve abc1</code> / <code>deny abc1</code></p>")
        #expect(message.notice["msgtype"] == "m.notice")
        #expect(message.notice["format"] == "org.matrix.custom.html")
    }

    @Test func longRepliesSplitBetweenLinesAndNeverInsideACharacter() throws {
        let lines = (1...2_000).map { "line \($0): " + String(repeating: "é", count: 40) }
        let reply = Reply([.code(lines.joined(separator: "\n"))])
        let messages = MatrixRendering.messages(reply)
        #expect(messages.count > 1)
        for message in messages {
            let size = JSON.object(["b": .string(message.plain), "f": .string(message.html)]).encoded.count
            #expect(size <= 40_100, "a message of \(size) bytes")
            #expect(message.html.hasPrefix("<pre><code>") && message.html.hasSuffix("</code></pre>"))
        }
        #expect(messages.map(\.plain).joined(separator: "\n") == lines.joined(separator: "\n"))

        let oneLine = String(repeating: "日本", count: 30_000)
        let pieces = MatrixRendering.messages(.text(oneLine))
        #expect(pieces.count > 1)
        #expect(pieces.map(\.plain).joined() == oneLine)
    }

    @Test func theSyncPositionIsKeptInTheSharedStoreAndAnOldFileIsReadOnce() async throws {
        let directory = NSTemporaryDirectory() + "parley-matrix-position-" + UUID().uuidString
        let config = try ConfigLoader(builtins: Builtins.declarations).load(
            yaml: "", file: "test.yaml", baseDirectory: directory)
        let store = try SQLiteStore(dataDirectory: config.dataDirectory)
        let engine = Engine(config: config, store: store)
        let position = MatrixSyncPosition(handler: engine, userID: "@parley:example.org")
        #expect(try await position.load() == nil)
        // What a Parley before 2026-12 left in the data folder is where an upgrade starts from.
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try Data(#"{"next_batch":"s1_old"}"#.utf8).write(to: URL(fileURLWithPath: position.legacyPath))
        #expect(position.legacyPath.hasPrefix(config.dataDirectory + "/matrix-sync-"))
        #expect(try await position.load() == "s1_old")
        try await position.save("s72594_4483_1934")
        try await position.save("s72595_4483_1934")
        // Another replica (another engine on the same database) reads the same position.
        let other = Engine(config: config, store: try SQLiteStore(dataDirectory: config.dataDirectory))
        #expect(
            try await MatrixSyncPosition(handler: other, userID: "@parley:example.org").load() == "s72595_4483_1934")
        #expect(try await store.metadata("adapter:matrix-sync:@parley:example.org") == "s72595_4483_1934")
        #expect(try await MatrixSyncPosition(handler: other, userID: "@other:example.org").load() == nil)
    }
}
