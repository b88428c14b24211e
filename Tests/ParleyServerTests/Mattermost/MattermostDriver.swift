import Foundation
import ParleyAdapters
import ParleyConformance
import ParleyEngine
import Synchronization

/// The conformance driver for Mattermost: in the room people speak through the outgoing webhook; in a
/// direct channel (where outgoing webhooks do not fire) through the slash command.
final class MattermostDriver: ConformanceDriver {
    let platform = "mattermost"
    let aliceIdentity = "mattermost:\(MattermostTests.alice)"
    let messageLimit = 16383
    let hasButtons = true
    let hasThreads = true
    private let harness = Mutex<MattermostHarness?>(nil)
    private let said = Mutex<[Person: (form: [String: String], postID: String)]>([:])

    static let room = MattermostTests.channel
    static func direct(_ person: Person) -> String {
        person == .alice ? "directalice000000000000000" : "directmallory0000000000000"
    }
    static func user(_ person: Person) -> String {
        person == .alice ? MattermostTests.alice : "mallory0000000000000000000"
    }

    var adapterYAML: String { harness.withLock { $0?.adapterYAML ?? "" } }

    func prepare() async throws {
        let started = try await MattermostHarness()
        harness.withLock { $0 = started }
    }

    func mention(_ text: String) -> String { "@parley \(text)" }

    func start(engine: Engine) async throws {
        guard let mm = harness.withLock({ $0 }) else { return }
        try await mm.start(engine: engine)
    }

    func say(_ text: String, as person: Person, in venue: Venue, thread: String?) async throws {
        guard let mm = harness.withLock({ $0 }) else { return }
        if venue == .direct {
            let form = [
                "token": MattermostHarness.commandToken, "user_id": Self.user(person),
                "channel_id": Self.direct(person),
                "command": "/parley", "text": text, "trigger_id": FakeMattermost.newID(),
            ]
            let response = try await mm.send("/mattermost/command", form: form)
            guard response.status == 200 else { throw ConformanceFailure(description: "Parley answered \(response)") }
            return
        }
        let postID = mm.fake.personPosted(channel: Self.room, user: Self.user(person), message: text, root: thread)
        let form = [
            "token": MattermostHarness.webhookToken, "channel_id": Self.room, "user_id": Self.user(person),
            "user_name": person.rawValue, "post_id": postID, "text": text,
        ]
        said.withLock { $0[person] = (form, postID) }
        let response = try await mm.send("/mattermost/webhook", form: form)
        guard response.status == 200 else { throw ConformanceFailure(description: "Parley answered \(response)") }
    }

    func seen(by person: Person) async -> [ObservedMessage] {
        guard let mm = harness.withLock({ $0 }) else { return [] }
        return mm.fake.botPosts.compactMap { post in
            let room: String
            if post.channel == Self.room {
                room = "room"
            } else if post.channel == Self.direct(person) {
                room = "direct"
            } else {
                return nil
            }
            return ObservedMessage(
                room: room, thread: post.root, text: post.message, hasButtons: !post.buttons.isEmpty,
                size: post.message.unicodeScalars.count)
        }
    }

    func lastThread(of person: Person) async -> String? { said.withLock { $0[person]?.postID } }

    func redeliverLast(of person: Person) async throws -> Bool {
        guard let mm = harness.withLock({ $0 }), let last = said.withLock({ $0[person] }) else { return false }
        let status = try await mm.send("/mattermost/webhook", form: last.form).status
        await mm.settle()
        return status == 200
    }

    func dropConnection() async throws -> Bool { false }

    func stop() async {
        harness.withLock { $0 }?.stop()
    }
}
