import Foundation
import ParleyCore
import ParleyEngine
import ParleyStore
import Testing

@Suite struct PlanApplyTests {
    let directory = temporaryDirectory()
    static let yaml = """
        users:
          alice: { roles: [sre], identities: ["local:alice"] }
          bob: { roles: [sre], identities: ["local:bob"] }
        roles: { sre: { allow: ["*"] } }
        commands:
          infra:
            usage: "infra apply {env:choice(staging,prod)}"
            plan: { exec: ["cat", "plan-{{env}}.txt"] }
            action: { exec: ["sh", "-c", "echo applied $0 >> applied.log; echo applied", "{{env}}"] }
            rules:
              - require: { approvals: 1, approvers: [sre] }
        """

    func code(_ response: EngineResponse?) throws -> String {
        let text = try #require(response?.reply.plainText)
        let range = try #require(text.range(of: #"approve [A-Z0-9]{8}"#, options: .regularExpression))
        return String(text[range].dropFirst(8))
    }

    func applied() -> [String] {
        ((try? String(contentsOfFile: directory + "/applied.log", encoding: .utf8)) ?? "").split(separator: "\n").map(
            String.init)
    }

    @Test func theApprovalShowsThePlanAndApplyRunsOnlyIfThePlanIsUnchanged() async throws {
        try "+ bucket logs\n".write(toFile: directory + "/plan-prod.txt", atomically: true, encoding: .utf8)
        let (engine, _) = try makeEngine(Self.yaml, directory: directory)
        let request = try #require(await engine.handle(say("infra apply prod", as: "local:alice")))
        #expect(request.reply.blocks.prefix(2) == [.text("Plan:"), .code("+ bucket logs\n")])
        let approved = try #require(await engine.handle(say("approve \(try code(request))", as: "local:bob")))
        #expect(approved.outcome == .succeeded)
        #expect(applied() == ["applied prod"])

        let second = try #require(await engine.handle(say("infra apply prod", as: "local:alice")))
        try "+ bucket logs\n- database main\n".write(
            toFile: directory + "/plan-prod.txt", atomically: true, encoding: .utf8)
        let stale = try #require(await engine.handle(say("approve \(try code(second))", as: "local:bob")))
        #expect(stale.outcome == .pending)
        #expect(stale.reply.plainText.contains("The plan changed since"))
        #expect(stale.reply.plainText.contains("- database main"))
        #expect(applied() == ["applied prod"], "a changed plan must not be applied")
        let fresh = try #require(await engine.handle(say("approve \(try code(stale))", as: "local:bob")))
        #expect(fresh.outcome == .succeeded)
        #expect(applied() == ["applied prod", "applied prod"])
    }

    @Test func aFailingPlanStopsTheRequest() async throws {
        let (engine, _) = try makeEngine(Self.yaml, directory: directory)
        let response = try #require(await engine.handle(say("infra apply staging", as: "local:alice")))
        #expect(response.outcome == .failed)
        #expect(response.reply.plainText.hasPrefix("the plan of infra failed"))
        #expect(applied().isEmpty)
    }

    @Test func aDryRunShowsThePlan() async throws {
        try "+ queue jobs\n".write(toFile: directory + "/plan-staging.txt", atomically: true, encoding: .utf8)
        let (engine, _) = try makeEngine(Self.yaml, directory: directory)
        let response = try #require(await engine.handle(say("infra apply staging --dry-run", as: "local:alice")))
        #expect(response.reply.blocks.contains(.code("+ queue jobs\n")))
        #expect(applied().isEmpty)
    }
}
