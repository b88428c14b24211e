import ParleyCore
import ParleyEngine
import Testing

/// The one permission question the pages, the console and the API ask the engine.
@Suite struct PermissionTests {
    @Test func theEngineAnswersWhetherSomeoneMayRunACommandAtAll() async throws {
        let fixture = try await ServerFixture()
        let bob = Identity(platform: "web", id: "bob")
        #expect(fixture.engine.authorization(for: bob, command: "runs") == .allowed)
        guard case .denied(let reason) = fixture.engine.authorization(for: bob, command: "audit") else {
            Issue.record("bob may not read the audit log")
            return
        }
        #expect(reason.contains("audit") && reason.contains("viewer"))
        // The open built-ins check inside who may act; anyone may send them.
        #expect(fixture.engine.authorization(for: bob, command: "approve").isAllowed)
        #expect(!fixture.engine.authorization(for: bob, command: "no-such-command").isAllowed)
        let menu = fixture.engine.runnableCommands(for: bob).map(\.id)
        #expect(menu.contains("approve") && menu.contains("runs") && !menu.contains("deploy"))
        let alice = Identity(platform: "api", id: "alice")
        #expect(fixture.engine.authorization(for: alice, command: "audit").isAllowed)
    }
}
