import Foundation
import ParleyAdapters
import ParleyConformance
import ParleyEngine
import Synchronization

/// The conformance driver for Slack: people speak through signed Events API requests; what they see is
/// what the fake Web API was asked to post.
final class SlackDriver: ConformanceDriver {
    let platform = "slack"
    let aliceIdentity = "slack:UALICE"
    let messageLimit = 40000
    let hasButtons = true
    let hasThreads = true
    let python: String
    private let harness = Mutex<SlackHarness?>(nil)
    private let said = Mutex<[Person: (body: String, ts: String)]>([:])
    private let clock = Mutex(0)

    static let room = "CROOM"
    static func direct(_ person: Person) -> String { person == .alice ? "DALICE" : "DMALLORY" }
    static func user(_ person: Person) -> String { person == .alice ? "UALICE" : "UMALLORY" }

    init(python: String) {
        self.python = python
    }

    var adapterYAML: String { harness.withLock { $0?.adapterYAML ?? "" } }

    func prepare() async throws {
        let started = try await SlackHarness(python: python)
        harness.withLock { $0 = started }
    }

    static let mentionMarkup = "<@UPARLEYBOT> "

    func mention(_ text: String) -> String { Self.mentionMarkup + text }

    /// Text as Slack sends it: `&`, `<` and `>` escaped, mentions as markup.
    static func markup(_ text: String) -> String {
        guard text.hasPrefix(mentionMarkup) else { return SlackRenderer.escape(text) }
        return mentionMarkup + SlackRenderer.escape(String(text.dropFirst(mentionMarkup.count)))
    }

    func start(engine: Engine) async throws {
        guard let slack = harness.withLock({ $0 }) else { return }
        try await slack.start(engine: engine)
    }

    func say(_ text: String, as person: Person, in venue: Venue, thread: String?) async throws {
        guard let slack = harness.withLock({ $0 }) else { return }
        let ts = clock.withLock { count -> String in
            count += 1
            return "1800000000.\(String(format: "%06d", count))"
        }
        let channel = venue == .room ? Self.room : Self.direct(person)
        let body = SlackHarness.messageEvent(
            user: Self.user(person), channel: channel, text: Self.markup(text), ts: ts, thread: thread,
            channelType: venue == .room ? "channel" : "im")
        said.withLock { $0[person] = (body, ts) }
        let response = try await slack.send("/slack/events", body: body)
        guard response.status == 200 else { throw ConformanceFailure(description: "Parley answered \(response)") }
    }

    func seen(by person: Person) async -> [ObservedMessage] {
        guard let slack = harness.withLock({ $0 }) else { return [] }
        return slack.fake.messages.compactMap { posted in
            let room: String
            if posted.channel == Self.room {
                room = "room"
            } else if posted.channel == Self.direct(person) {
                room = "direct"
            } else {
                return nil
            }
            return ObservedMessage(
                room: room, thread: posted.thread, text: posted.shown, hasButtons: posted.hasButtons,
                size: posted.text.utf8.count)
        }
    }

    func lastThread(of person: Person) async -> String? { said.withLock { $0[person]?.ts } }

    func redeliverLast(of person: Person) async throws -> Bool {
        guard let slack = harness.withLock({ $0 }), let last = said.withLock({ $0[person] }) else { return false }
        let response = try await slack.send(
            "/slack/events", body: last.body,
            headers: ["X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"])
        await slack.settle()
        return response.status == 200
    }

    func dropConnection() async throws -> Bool { false }

    func stop() async {
        harness.withLock { $0 }?.stop()
    }
}
