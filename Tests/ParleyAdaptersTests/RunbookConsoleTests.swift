import Foundation
import ParleyAdapters
import ParleyCore
import ParleyEngine
import ParleyStore
import Testing

/// A runbook driven through the terminal console by two people: one asks, the other approves the
/// gate half-way.
@Suite struct RunbookConsoleTests {
    static let yaml = """
        users:
          alice: { roles: [sre], identities: ["local:alice"] }
          bob: { roles: [sre], identities: ["local:bob"] }
        roles: { sre: { allow: ["*"] } }
        commands:
          drain:
            usage: "drain {node:regex(node-[0-9]+)} [--force]"
            help: Drain a node
            runbook:
              steps:
                - name: cordon
                  action: { exec: ["sh", "-c", "echo cordon $0 >> side.log; echo cordoned $0", "{{node}}"] }
                  idempotent: true
                - name: checks
                  parallel:
                    - name: disk
                      action: { exec: ["sh", "-c", "echo disk >> side.log; echo disk ok"] }
                    - name: pods
                      action: { exec: ["sh", "-c", "echo pods >> side.log; echo 3 pods"] }
                - name: flaky
                  action: { exec: ["sh", "-c", "n=$(cat tries 2>/dev/null || echo 0); n=$((n+1)); echo $n > tries; echo try $n; [ $n -ge 2 ]"] }
                  retry: { attempts: 3, backoff: 10ms }
                - name: gate
                  approval: { approvals: 1, approvers: [sre], message: "about to drain {{node}} ({{steps.pods.output}})" }
                - name: evict
                  when: force
                  action: { exec: ["sh", "-c", "echo evict >> side.log"] }
                - name: drain
                  when: 'steps.cordon.status == "succeeded"'
                  action: { exec: ["sh", "-c", "echo drain $0 >> side.log; echo drained $0", "{{node}}"] }
          broken:
            usage: broken
            runbook:
              steps:
                - name: first
                  action: { exec: ["sh", "-c", "echo first >> side.log"] }
                - name: fails
                  action: { exec: ["sh", "-c", "echo failing; exit 3"] }
                - name: never
                  action: { exec: ["sh", "-c", "echo never >> side.log"] }
              on_failure:
                - name: rollback
                  action: { exec: ["sh", "-c", "echo rollback >> side.log"] }
        """

    func setUp() throws -> (Engine, SQLiteStore, String) {
        let directory = NSTemporaryDirectory() + "parley-runbook-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let config = try ConfigLoader(builtins: Builtins.declarations).load(
            yaml: Self.yaml, file: "test.yaml", baseDirectory: directory)
        let store = try SQLiteStore(dataDirectory: config.dataDirectory)
        return (Engine(config: config, store: store), store, directory)
    }

    func console(_ who: String, _ script: [String], engine: Engine) async throws -> String {
        let transcript = Transcript()
        let console = TerminalConsole(
            identity: Identity(platform: "local", id: who), interactive: false, lines: lines(script), output: transcript
        )
        try await console.run(engine: engine)
        return transcript.value
    }

    @Test func fourKindsOfStepWithAnApprovalGateDrivenByTwoPeople() async throws {
        let (engine, store, directory) = try setUp()
        let asked = try await console("alice", ["drain node-3"], engine: engine)
        #expect(asked.contains("about to drain node-3 (3 pods)"), "\(asked)")
        let code = try #require(
            asked.range(of: #"approve [A-Z0-9]{8}"#, options: .regularExpression).map { String(asked[$0].dropFirst(8)) }
        )
        #expect(try await store.requireRun(1).status == .awaitingApproval)
        let sideBefore = try String(contentsOfFile: directory + "/side.log", encoding: .utf8)
        #expect(!sideBefore.contains("drain"))

        let approved = try await console("bob", ["approve \(code)"], engine: engine)
        #expect(approved.contains("Approved by bob"), "\(approved)")
        for row in [
            "cordon  succeeded", "checks  succeeded", "disk  succeeded", "pods  succeeded", "flaky  succeeded",
            "gate  approved", "evict  skipped", "drain  succeeded",
        ] {
            #expect(
                approved.replacingOccurrences(of: #" +"#, with: "  ", options: .regularExpression).contains(row),
                "\(row)\n\(approved)")
        }
        let side = try String(contentsOfFile: directory + "/side.log", encoding: .utf8).split(separator: "\n").map(
            String.init)
        #expect(side.filter { $0 == "cordon node-3" }.count == 1, "completed steps never run again: \(side)")
        #expect(side.filter { $0 == "drain node-3" }.count == 1)
        #expect(!side.contains("evict"))
        #expect(Set(side) == ["cordon node-3", "disk", "pods", "drain node-3"])
        #expect(try await store.requireRun(1).status == .succeeded)
        let steps = try await store.steps(runID: 1)
        #expect(steps.first { $0.name == "flaky" }?.attempts == 2)
        let detail = try await console("alice", ["run 1"], engine: engine)
        #expect(detail.contains("flaky") && detail.contains("approved"))
    }

    @Test func aFailingStepRunsOnFailureAndStopsTheRest() async throws {
        let (engine, store, directory) = try setUp()
        let text = try await console("alice", ["broken"], engine: engine)
        #expect(text.contains("failing"))
        #expect(try await store.requireRun(1).status == .failed)
        let side = try String(contentsOfFile: directory + "/side.log", encoding: .utf8).split(separator: "\n").map(
            String.init)
        #expect(side == ["first", "rollback"])
    }

    @Test func aDryRunShowsThePlanWithConditionsEvaluated() async throws {
        let (engine, _, directory) = try setUp()
        let text = try await console("alice", ["drain node-4 --dry-run"], engine: engine)
        #expect(text.contains("cordon: sh -c"))
        #expect(text.contains("checks: in parallel: disk, pods"))
        #expect(text.contains("gate: wait for 1 approval from sre"))
        #expect(text.contains("evict: sh -c 'echo evict >> side.log' (when force: no — skipped)"))
        #expect(text.contains("drain:") && text.contains("decided at run time"))
        #expect(!FileManager.default.fileExists(atPath: directory + "/side.log"))
    }
}

extension RunStore {
    func requireRun(_ id: Int64?) async throws -> RunRecord {
        guard let id, let run = try await run(id: id) else { throw CancellationError() }
        return run
    }
}
