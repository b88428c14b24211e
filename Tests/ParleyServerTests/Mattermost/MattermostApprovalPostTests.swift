import Foundation
import ParleyAdapters
import ParleyCore
import ParleyEngine
import ParleyStore
import Testing

/// An approval request's post in Mattermost once the request is decided: its buttons give way to the
/// outcome (`PUT /posts/{id}/patch`), and the refusal of a self-approval is shown to the requester
/// alone (`POST /posts/ephemeral`).
@Suite(.serialized) struct MattermostApprovalPostTests {
    static let channel = MattermostTests.channel
    static let alice = MattermostTests.alice
    static let bob = MattermostTests.bob

    /// `expire` is how long a request waits for its approval.
    func withMattermost(expire: String = "15m", _ body: (MattermostHarness) async throws -> Void) async throws {
        let harness = try await MattermostHarness()
        defer { harness.stop() }
        let config = try ConfigLoader(builtins: Builtins.declarations).load(
            yaml: "adapters:\n\(harness.adapterYAML)\n" + MattermostTests.yaml + "\napprovals: { expire: \(expire) }\n",
            file: "test.yaml", baseDirectory: temporaryDirectory())
        try await harness.start(
            engine: Engine(config: config, store: try SQLiteStore(dataDirectory: config.dataDirectory)))
        try await body(harness)
    }

    func request(_ mm: MattermostHarness) async throws -> FakeMattermost.Post {
        // The adapter learns its own id first, as it does when it starts.
        #expect(try await waitUntil { !mm.fake.calls("users/me").isEmpty })
        try await mm.say("!deploy api to prod", user: Self.alice, channel: Self.channel)
        return try #require(await mm.waitForPost { !$0.buttons.isEmpty })
    }

    func current(_ mm: MattermostHarness, _ post: FakeMattermost.Post) -> FakeMattermost.Post? {
        mm.fake.posts.first { $0.id == post.id }
    }

    func waitUntil(within: Duration = .seconds(20), _ condition: () -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + within
        while ContinuousClock.now < deadline {
            if condition() { return true }
            try await Task.sleep(for: .milliseconds(30))
        }
        return condition()
    }

    func button(_ name: String, on post: FakeMattermost.Post) throws -> JSON {
        try #require(post.buttons.first { $0["name"].string == name })
    }

    @Test func aSelfApprovalIsRefusedToTheRequesterAloneAndTheButtonsStay() async throws {
        try await withMattermost { mm in
            let request = try await request(mm)
            #expect(
                try await mm.click(try button("Approve", on: request), post: request, user: Self.alice).status == 200)
            #expect(try await waitUntil { mm.fake.ephemerals.contains { $0.message.contains("cannot approve") } })
            let refusal = try #require(mm.fake.ephemerals.first)
            #expect(refusal.user == Self.alice)
            #expect(refusal.channel == Self.channel)
            #expect(!mm.fake.botPosts.contains { $0.message.contains("cannot approve") })
            #expect(current(mm, request)?.buttons.isEmpty == false)
        }
    }

    @Test func anApprovalReplacesTheButtonsWithWhoApproved() async throws {
        try await withMattermost { mm in
            let request = try await request(mm)
            #expect(try await mm.click(try button("Approve", on: request), post: request, user: Self.bob).status == 200)
            #expect(try await mm.waitForPost { $0.message.contains("deployed api to prod") } != nil)
            #expect(try await waitUntil { current(mm, request)?.buttons.isEmpty == true })
            let updated = try #require(current(mm, request))
            #expect(updated.message.contains("Approved by bob"), "\(updated.message)")
            #expect(updated.message.hasPrefix(request.message))
        }
    }

    @Test func aTypedDenialUpdatesThePostThatAskedToo() async throws {
        try await withMattermost { mm in
            let request = try await request(mm)
            let deny = try #require(try button("Deny", on: request)["integration"]["context"]["command"].string)
            try await mm.say("!\(deny) not today", user: Self.bob, channel: Self.channel)
            #expect(try await waitUntil { current(mm, request)?.buttons.isEmpty == true })
            #expect(current(mm, request)?.message.contains("Denied by bob: not today") == true)
        }
    }

    @Test func anExpiredRequestLosesItsButtons() async throws {
        try await withMattermost(expire: "2s") { mm in
            let request = try await request(mm)
            #expect(try await waitUntil { current(mm, request)?.buttons.isEmpty == true })
            #expect(current(mm, request)?.message.contains("Expired") == true)
        }
    }
}
