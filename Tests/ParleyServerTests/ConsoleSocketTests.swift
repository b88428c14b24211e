import Foundation
import Hummingbird
import HummingbirdTesting
import HummingbirdWSTesting
import ParleyServer
import Synchronization
import Testing

@Suite struct ConsoleSocketTests {
    @Test func theConsoleStreamsLiveOutputThenTheReplyAndOffersItsCommands() async throws {
        let fixture = try await ServerFixture()
        let frames = Mutex<[String]>([])
        try await fixture.server.application().test(.live) { client in
            let session = try #require(try await client.signIn("alice", "correct horse battery"))
            _ = try await client.ws("/ws", configuration: .init(additionalHeaders: [.cookie: session.cookie])) {
                inbound, outbound, _ in
                var iterator = inbound.messages(maxSize: 1 << 20).makeAsyncIterator()
                var sent = false
                while let message = try await iterator.next() {
                    guard case .text(let text) = message,
                        let frame = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
                    else { continue }
                    frames.withLock { $0.append(text) }
                    if frame["type"] as? String == "hello" && !sent {
                        sent = true
                        try await outbound.write(
                            .text(#"{"type": "message", "id": "m1", "text": "deploy api to staging"}"#))
                    }
                    if frame["type"] as? String == "reply" { break }
                }
            }
        }
        let all = frames.withLock { $0 }.compactMap {
            (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any]
        }
        let hello = try #require(all.first)
        #expect(hello["user"] as? String == "alice")
        let words = (hello["commands"] as? [[String: Any]])?.compactMap { $0["word"] as? String } ?? []
        #expect(words.contains("deploy") && words.contains("help"))
        let outputs = all.filter { $0["type"] as? String == "output" }.compactMap { $0["text"] as? String }.joined()
        #expect(outputs.contains("step 1 of api"), "no live output before the reply: \(all)")
        let reply = try #require(all.last)
        #expect(reply["type"] as? String == "reply")
        #expect(reply["outcome"] as? String == "succeeded")
        #expect(reply["id"] as? String == "m1")
    }

    @Test func theConsoleRefusesStrangersAndOtherSites() async throws {
        let fixture = try await ServerFixture()
        try await fixture.server.application().test(.live) { client in
            await #expect(throws: (any Error).self) {
                try await client.ws("/ws") { _, _, _ in }
            }
            let session = try #require(try await client.signIn("alice", "correct horse battery"))
            await #expect(throws: (any Error).self) {
                try await client.ws(
                    "/ws",
                    configuration: .init(additionalHeaders: [.cookie: session.cookie, .origin: "http://evil.example"])
                ) { _, _, _ in }
            }
        }
    }
}
