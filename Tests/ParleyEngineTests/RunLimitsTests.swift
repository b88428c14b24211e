import Foundation
import ParleyCore
import ParleyEngine
import ParleyStore
import Testing

@Suite struct RunLimitsTests {
    let directory = temporaryDirectory()
    static let yaml = """
        users:
          alice: { roles: [ops], identities: ["local:alice"] }
          bob: { roles: [ops], identities: ["local:bob"] }
          dave: { roles: [viewer], identities: ["local:dave"] }
        roles:
          ops: { allow: ["*"] }
          viewer: { allow: [ping] }
        secrets: { token: env:HOME }
        commands:
          deploy:
            usage: "deploy {app} to {env:choice(staging,prod)}"
            action:
              exec: ["sh", "-c", "echo deploying $0 to $1; sleep 2; echo done", "{{app}}", "{{env}}"]
              env: { TOKEN: "{{secrets.token}}" }
              lock: "deploy-{{env}}"
          build:
            usage: "build {n}"
            action: { exec: ["sleep", "2"], max_concurrent: 1 }
          hang:
            usage: hang
            action: { exec: ["sh", "-c", "sleep 300 & echo $! > child.pid; wait"] }
          notify:
            usage: "notify {who}"
            action:
              http:
                method: POST
                url: "https://hooks.example/{{who}}"
                headers: { Authorization: "Bearer {{secrets.token}}" }
                json: { text: "hello {{who}}" }
        """

    func waitUntilRunning(_ store: SQLiteStore, count: Int = 1) async throws {
        for _ in 0..<100 {
            if try await store.runs(RunQuery(status: .running)).count >= count { return }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    @Test func aLockedEnvironmentNamesItsHolder() async throws {
        let (engine, store) = try makeEngine(Self.yaml, directory: directory)
        let first = Task { await engine.handle(say("deploy api to prod", as: "local:alice")) }
        try await waitUntilRunning(store)
        let second = try #require(await engine.handle(say("deploy web to prod", as: "local:bob")))
        #expect(second.outcome == .failed)
        #expect(second.reply.plainText.hasPrefix("deploy-prod is held by run #1 (alice, "))
        let staging = try #require(await engine.handle(say("deploy web to staging", as: "local:bob")))
        #expect(staging.outcome == .succeeded, "a different env takes a different lock")
        #expect(await first.value?.outcome == .succeeded)
        let third = try #require(await engine.handle(say("deploy web to prod", as: "local:bob")))
        #expect(third.outcome == .succeeded, "the lock is released when the run ends")
    }

    @Test func locksOfRunsThatDiedAreReleasedAtStart() async throws {
        do {
            let store = try SQLiteStore(dataDirectory: directory + "/.parley")
            let run = try await store.insertRun(
                RunRecord(
                    userName: "alice", identity: "local:alice", room: "t", text: "deploy api to prod",
                    decision: .allowed,
                    status: .running, owner: "\(ProcessInfo.processInfo.hostName)/999999"))
            #expect(
                try await store.acquireLock(
                    LockRecord(name: "deploy-prod", runID: run.id!, holder: "alice", acquiredAt: Date())) == nil)
        }
        let (engine, _) = try makeEngine(Self.yaml, directory: directory)
        _ = try await engine.start()
        #expect(await engine.handle(say("deploy api to prod", as: "local:bob"))?.outcome == .succeeded)
    }

    @Test func maxConcurrentIsEnforced() async throws {
        let (engine, store) = try makeEngine(Self.yaml, directory: directory)
        let first = Task { await engine.handle(say("build 1")) }
        try await waitUntilRunning(store)
        let second = try #require(await engine.handle(say("build 2")))
        #expect(
            second.reply.plainText == "build already has 1 run going (max_concurrent: 1); try again when one finishes")
        _ = await first.value
        #expect(await engine.handle(say("build 3"))?.outcome == .succeeded)
    }

    @Test func cancelStopsTheProcessGroupAndOnlyEntitledPeopleMayCancel() async throws {
        let (engine, store) = try makeEngine(Self.yaml, directory: directory)
        let running = Task { await engine.handle(say("hang", as: "local:alice")) }
        try await waitUntilRunning(store)
        // The program has started its background child once it wrote the child's pid.
        for _ in 0..<100 where !FileManager.default.fileExists(atPath: directory + "/child.pid") {
            try await Task.sleep(for: .milliseconds(20))
        }
        let refused = try #require(await engine.handle(say("cancel 1", as: "local:dave")))
        #expect(refused.reply.plainText == "only alice or someone who may run hang may cancel run #1")
        let cancelled = try #require(await engine.handle(say("cancel 1", as: "local:bob")))
        #expect(cancelled.reply.plainText.hasPrefix("Cancelling run #1"))
        let result = try #require(await running.value)
        #expect(result.reply.plainText.contains("run #1 was cancelled by bob"))
        #expect(try await store.requireRun(1).status == .cancelled)
        let child = try #require(
            Int32(
                try String(contentsOfFile: directory + "/child.pid", encoding: .utf8).trimmingCharacters(
                    in: .whitespacesAndNewlines)))
        var gone = false
        for _ in 0..<50 where !gone {
            gone = !processExists(child)
            if !gone { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(gone, "the background child survived the cancel")
        #expect(try await store.auditEntries(AuditQuery(kind: "cancelled")).count == 1)
        let again = try #require(await engine.handle(say("cancel 1", as: "local:bob")))
        #expect(again.reply.plainText == "run #1 is not running (it cancelled)")
    }

    @Test func aDryRunShowsTheExactArgvAndRequestWithSecretsMaskedAndRunsNothing() async throws {
        let (engine, store) = try makeEngine(Self.yaml, directory: directory)
        let exec = try #require(await engine.handle(say(#"deploy "x; rm -rf /" to prod --dry-run"#)))
        let text = exec.reply.plainText
        #expect(text.hasPrefix("Dry run — nothing was run:"))
        #expect(text.contains(#"argv:     sh -c 'echo deploying $0 to $1; sleep 2; echo done' 'x; rm -rf /' prod"#))
        #expect(text.contains("TOKEN"))
        #expect(text.contains("lock:     deploy-prod"))
        let http = try #require(await engine.handle(say("notify ops --dry-run")))
        #expect(http.reply.plainText.contains("request:  POST https://hooks.example/ops"))
        #expect(http.reply.plainText.contains("header:   Authorization: Bearer ••••"))
        #expect(http.reply.plainText.contains(#"body:     {"text":"hello ops"}"#))
        #expect(!http.reply.plainText.contains("/root"))
        let runs = try await store.runs(RunQuery(limit: 10))
        #expect(runs.allSatisfy { $0.status == .dryRun })
        #expect(try await store.auditEntries(AuditQuery(kind: "started")).isEmpty)
    }
}
