import Foundation
import Testing

/// Forms Mattermost sends go through the adapters' one form decoder: a bad escape is refused with
/// the reason, and nothing runs.
@Suite(.serialized) struct MattermostFormTests {
    @Test func aSlashCommandWithABadEscapeIsRefusedWithTheReason() async throws {
        try await MattermostTests().withMattermost { mm in
            let body =
                "token=\(MattermostHarness.commandToken)&user_id=\(MattermostTests.alice)&channel_id=\(MattermostTests.channel)&text=counter+100%zz"
            let answer = try await mm.send(
                "/mattermost/command", body: body, contentType: "application/x-www-form-urlencoded")
            #expect(answer.status == 400)
            #expect(answer.body.contains("'%zz'"), "\(answer.body)")
            await mm.settle()
            #expect(mm.fake.botPosts.isEmpty)
        }
    }
}
