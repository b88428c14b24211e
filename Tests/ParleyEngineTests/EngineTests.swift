import Foundation
import ParleyCore
import ParleyEngine
import ParleyStore
import Testing

@Suite struct EngineTests {
    let directory = temporaryDirectory()
    static let yaml = """
        users:
          alice: { roles: [sre], identities: ["local:alice", "slack:U1"] }
          bob: { roles: [developer], identities: ["local:bob"] }
        roles:
          developer: { allow: [help, whoami, runs, run, status] }
          sre: { allow: ["*"] }
        commands:
          deploy:
            usage: "deploy {app:choice(api,web)} to {env:choice(staging,prod)}"
            action: { exec: ["printf", "deployed %s to %s\\n", "{{app}}", "{{env}}"] }
          status:
            usage: "status"
            action: { exec: ["echo", "all good"] }
          slow:
            usage: "slow"
            action: { exec: ["sh", "-c", "until [ -f release ]; do sleep 0.05; done"], timeout: 60s }
          chatty:
            usage: "chatty {lines:int}"
            action: { exec: ["seq", "{{lines}}"] }
        limits: { reply_lines: 5 }
        """

    @Test func anAllowedCommandRunsRepliesAndIsRecorded() async throws {
        let (engine, store) = try makeEngine(Self.yaml, directory: directory)
        let response = try #require(await engine.handle(say("deploy api to staging", as: "local:alice")))
        #expect(response.outcome == .succeeded)
        #expect(response.reply.blocks.first == .code("deployed api to staging"))
        let run = try await store.requireRun(response.runID)
        #expect(run.userName == "alice")
        #expect(run.identity == "local:alice")
        #expect(run.room == "terminal")
        #expect(run.commandID == "deploy")
        #expect(run.arguments == ["app": "api", "env": "staging"])
        #expect(run.decision == .allowed)
        #expect(run.reason == "role sre allows *")
        #expect(run.status == .succeeded)
        #expect(run.exitCode == 0)
        #expect(run.durationMilliseconds != nil)
    }

    @Test func aDeniedCommandSaysWhyIsRecordedAndDoesNotRun() async throws {
        let (engine, store) = try makeEngine(Self.yaml, directory: directory)
        let response = try #require(await engine.handle(say("deploy api to prod", as: "local:bob")))
        #expect(response.outcome == .denied)
        #expect(response.reply.plainText == "denied: deploy needs role sre; you have developer")
        let run = try await store.requireRun(response.runID)
        #expect(run.decision == .denied)
        #expect(run.status == .rejected)
        #expect(run.output.isEmpty)
        #expect(run.exitCode == nil)
    }

    @Test func strangersAreGuestsWhoMayOnlyAskForHelp() async throws {
        let (engine, _) = try makeEngine(Self.yaml, directory: directory)
        let whoami = try #require(await engine.handle(say("whoami", as: "irc:mallory")))
        #expect(whoami.reply.plainText.contains("none: this identity is not mapped, so you are a guest"))
        let help = try #require(await engine.handle(say("help", as: "irc:mallory")))
        #expect(help.reply.plainText.contains("help [<command>]"))
        #expect(!help.reply.plainText.contains("deploy"))
        let status = try #require(await engine.handle(say("status", as: "irc:mallory")))
        #expect(status.outcome == .denied)
    }

    @Test func helpListsOnlyWhatThisUserMayRun() async throws {
        let (engine, _) = try makeEngine(Self.yaml, directory: directory)
        let bob = try #require(await engine.handle(say("help", as: "local:bob"))).reply.plainText
        #expect(bob.contains("status"))
        #expect(!bob.contains("deploy"))
        let alice = try #require(await engine.handle(say("help", as: "local:alice"))).reply.plainText
        #expect(alice.contains("deploy <app> to <env>"))
        let detail = try #require(await engine.handle(say("help deploy", as: "local:bob"))).reply.plainText
        #expect(detail.contains("one of staging, prod"))
        #expect(detail.contains("may not run it: deploy needs role sre; you have developer"))
    }

    @Test func unknownAndInvalidCommandsAreExplainedAndRecorded() async throws {
        let (engine, store) = try makeEngine(Self.yaml, directory: directory)
        let unknown = try #require(await engine.handle(say("deplyo api to prod")))
        #expect(unknown.outcome == .unknown)
        #expect(unknown.reply.plainText == "unknown command 'deplyo'; did you mean `deploy`?")
        let invalid = try #require(await engine.handle(say("deploy api to moon")))
        #expect(invalid.outcome == .invalid)
        #expect(
            invalid.reply.plainText.hasPrefix(
                "unknown env 'moon'; expected staging or prod\nusage: deploy <app> to <env>"))
        let recorded = try await store.runs(RunQuery(limit: 2))
        #expect(recorded.map(\.decision) == [.invalid, .unknown])
        #expect(recorded.map(\.status) == [.rejected, .rejected])
        #expect(recorded[0].commandID == "deploy")
    }

    @Test func messagesNotAddressedToParleyInARoomAreIgnoredSilently() async throws {
        let (engine, store) = try makeEngine(Self.yaml, directory: directory)
        #expect(await engine.handle(say("deploy api to prod", room: "#ops", direct: false)) == nil)
        #expect(try await store.runs(RunQuery()).isEmpty)
        let addressed = try #require(await engine.handle(say("!status", room: "#ops", direct: false)))
        #expect(addressed.outcome == .succeeded)
        let mentioned = try #require(await engine.handle(say("@parley status", room: "#ops", direct: false)))
        #expect(mentioned.outcome == .succeeded)
    }

    @Test func aPlatformRetryOfTheSameEventRunsNothingTwice() async throws {
        let (engine, store) = try makeEngine(Self.yaml, directory: directory)
        let first = await engine.handle(say("status", as: "slack:U1", eventID: "Ev42"))
        let retry = await engine.handle(say("status", as: "slack:U1", eventID: "Ev42"))
        #expect(first?.outcome == .succeeded)
        #expect(retry == nil)
        #expect(try await store.runs(RunQuery()).count == 1)
    }

    @Test func aSlowCommandDoesNotHoldUpOthers() async throws {
        let (engine, store) = try makeEngine(Self.yaml, directory: directory)
        let slow = Task { await engine.handle(say("slow")) }
        // Wait until the slow run is on record as running.
        var running = false
        for _ in 0..<100 where !running {
            running = try await store.runs(RunQuery(status: .running)).count == 1
            if !running { try await Task.sleep(for: .milliseconds(20)) }
        }
        #expect(running)
        let quick = try #require(await engine.handle(say("status", as: "local:bob")))
        #expect(quick.outcome == .succeeded)
        // The quick one finished while the slow one is still running.
        #expect(try await store.runs(RunQuery(status: .running)).map(\.text) == ["slow"])
        _ = FileManager.default.createFile(atPath: directory + "/release", contents: Data())
        #expect(await slow.value?.outcome == .succeeded)
    }

    @Test func longOutputIsCutWithAPointerToTheFullRun() async throws {
        let (engine, _) = try makeEngine(Self.yaml, directory: directory)
        let response = try #require(await engine.handle(say("chatty 12")))
        let id = try #require(response.runID)
        #expect(
            response.reply.blocks[0]
                == .text(
                    "… 7 earlier lines cut; `run \(id) --page 1` shows them from the start (3 pages), or all at once: http://127.0.0.1:8080/runs/\(id)"
                ))
        #expect(response.reply.blocks[1] == .code("8\n9\n10\n11\n12"))
        // Paging from the first page leads to the last, and together the pages are the whole output.
        var shown: [String] = []
        for page in 1...3 {
            let reply = try #require(await engine.handle(say("run \(id) --page \(page)"))).reply
            #expect(reply.plainText.contains("output page \(page) of 3"))
            if page < 3 { #expect(reply.plainText.contains("`run \(id) --page \(page + 1)`")) }
            for case .code(let text) in reply.blocks { shown += text.split(separator: "\n").map(String.init) }
        }
        #expect(shown == (1...12).map(String.init))
        // Without --page: the last page, where the end of the output is.
        let last = try #require(await engine.handle(say("run \(id)"))).reply
        #expect(last.blocks.contains(.code("11\n12")))
        let beyond = try #require(await engine.handle(say("run \(id) --page 4"))).reply
        #expect(beyond.plainText.contains("has 3 pages of output; ask for 1 to 3"))
    }

    @Test func runsListsRecentActionRunsAndRunShowsOne() async throws {
        let (engine, _) = try makeEngine(Self.yaml, directory: directory)
        _ = await engine.handle(say("deploy web to prod"))
        _ = await engine.handle(say("help"))
        let runs = try #require(await engine.handle(say("runs"))).reply.plainText
        #expect(runs.contains("deploy web to prod"))
        #expect(!runs.contains("help"))
        let all = try #require(await engine.handle(say("runs --all"))).reply.plainText
        #expect(all.contains("help"))
        let missing = try #require(await engine.handle(say("run 999")))
        #expect(missing.reply.plainText == "no run #999")
    }

    @Test func runsInterruptedByACrashAreSettledAtStart() async throws {
        do {
            let store = try SQLiteStore(dataDirectory: directory + "/.parley")
            _ = try await store.insertRun(
                RunRecord(
                    userName: "alice", identity: "local:alice", room: "terminal", text: "deploy api to prod",
                    decision: .allowed, status: .running))
        }
        let (engine, store) = try makeEngine(Self.yaml, directory: directory)
        let settled = try await engine.start()
        #expect(settled.map(\.text) == ["deploy api to prod"])
        #expect(try await store.runs(RunQuery()).first?.status == .interrupted)
    }

    @Test func everyBuiltInUsageParsesAndHasHelp() {
        for builtin in Builtins.all {
            #expect(!builtin.declaration.help.isEmpty)
            #expect(!builtin.declaration.patterns.isEmpty)
        }
        #expect(
            Builtins.declarations.map(\.id) == [
                "help", "ping", "echo", "whoami", "version", "runs", "run", "approve", "deny", "yes", "approvals",
                "cancel", "audit", "alerts", "ack", "silence", "silences", "unsilence", "incident.declare",
                "incident.status", "incident.update", "incident.assign", "incident.roles", "incident.note",
                "incident.timeline", "incident.severity", "incident.attach", "incident.resolve", "incident.close",
                "incident.task", "incident.task.done", "incident.tasks", "incident.show", "incidents", "oncall.who",
                "oncall.schedule", "oncall.override", "oncall.swap", "oncall.overrides", "oncall.unoverride", "pages",
                "page.ack",
                "page.resolve", "oncall.page",
            ])
        // Every example reads as the command it illustrates.
        let catalogue = CommandCatalogue(Builtins.declarations)
        for builtin in Builtins.all {
            for example in builtin.declaration.examples {
                let parsed = try? catalogue.parse(example).get()
                #expect(parsed?.command.id == builtin.declaration.id, "\(example)")
            }
        }
    }
}

/// Each synced commit costs a command its time: the engine holds itself to two per command.
@Suite struct CommitsPerCommandTests {
    static let yaml = EngineTests.yaml

    @Test func aCommandThatRunsIsTwoCommitsAndARefusalIsOne() async throws {
        let (engine, store) = try makeEngine(Self.yaml)
        _ = try await engine.start()
        var before = store.commits
        let ran = try #require(await engine.handle(say("deploy api to staging", as: "local:alice", eventID: "e1")))
        #expect(ran.outcome == .succeeded)
        // Arrival (event key, received, run, started) and outcome (run's final state, finished); the
        // third notes the program's process group, unsynced (it is written beside the program's run).
        for _ in 0..<100 where store.commits - before < 3 {
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(store.commits - before == 3)
        #expect(try await store.synchronousLevel() == 2)
        let entries = try await store.auditEntries(AuditQuery(afterSeq: 0, limit: 100))
            .filter { $0.runID == ran.runID }
        #expect(entries.map(\.kind) == ["received", "started", "finished"])

        // A command that changes nothing is recorded once, with its outcome, before the answer.
        before = store.commits
        let builtin = try #require(await engine.handle(say("whoami", as: "local:alice")))
        #expect(builtin.outcome == .succeeded)
        #expect(store.commits - before == 1)
        let once = try await store.auditEntries(AuditQuery(afterSeq: 0, limit: 100)).filter {
            $0.runID == builtin.runID
        }
        #expect(once.map(\.kind) == ["received", "started", "finished"])
        #expect(try await store.requireRun(builtin.runID).status == .succeeded)

        before = store.commits
        let denied = try #require(await engine.handle(say("deploy api to prod", as: "local:bob")))
        #expect(denied.outcome == .denied)
        #expect(store.commits - before == 1)

        // A platform's retry writes nothing and answers nothing.
        let runs = try await store.runs(RunQuery(limit: 100)).count
        #expect(await engine.handle(say("deploy api to staging", as: "local:alice", eventID: "e1")) == nil)
        #expect(try await store.runs(RunQuery(limit: 100)).count == runs)
    }

    @Test func aReplyOnlyCommandAnswersFromItsTemplateAndRunsNothing() async throws {
        let yaml = Self.yaml.replacingOccurrences(
            of: "commands:\n",
            with: """
                commands:
                  greet:
                    usage: "greet {who} {where}"
                    reply: "Hello, {{who}}! Welcome to {{where}}."

                """)
        let (engine, store) = try makeEngine(yaml)
        _ = try await engine.start()
        let before = store.commits
        let response = try #require(await engine.handle(say("greet bob prod", as: "local:alice")))
        #expect(response.outcome == .succeeded)
        #expect(response.reply.plainText == "Hello, bob! Welcome to prod.")
        #expect(store.commits - before == 1)
        let run = try await store.requireRun(response.runID)
        #expect(run.commandID == "greet")
        #expect(run.arguments == ["who": "bob", "where": "prod"])
        // Policy still decides: bob's role does not include greet.
        let denied = try #require(await engine.handle(say("greet bob prod", as: "local:bob")))
        #expect(denied.outcome == .denied)
        let dry = try #require(await engine.handle(say("greet bob prod --dry-run", as: "local:alice")))
        #expect(dry.reply.plainText.contains("reply only; runs nothing"))
        #expect(dry.reply.plainText.contains("Hello, bob! Welcome to prod."))
    }

    @Test func concurrentCommandsShareCommits() async throws {
        let (engine, store) = try makeEngine(Self.yaml)
        _ = try await engine.start()
        let before = store.commits
        let outcomes = await withTaskGroup(of: EngineResponse.Outcome?.self) { group in
            for index in 0..<40 {
                group.addTask { await engine.handle(say("whoami", as: "local:alice", eventID: "w\(index)"))?.outcome }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        #expect(outcomes.allSatisfy { $0 == .succeeded })
        #expect(store.commits - before < 80, "each of 40 commands took its own two commits")
        let key = try AuditKeys.loadOrCreate(dataDirectory: engine.config.dataDirectory)
        let verified = try await AuditVerification.verifyStore(store, publicKey: key.publicKey)
        #expect(verified.problem == nil)
    }
}

@Suite struct EngineNULTests {
    /// A NUL in a chat message (a JSON `\u0000` from Slack, Matrix or the console) is refused like any
    /// control character, and what is recorded of it keeps the whole text (as ␀): the log verifies.
    @Test func aNULInAMessageIsRefusedRecordedWholeAndTheLogVerifies() async throws {
        let (engine, store) = try makeEngine(
            commands("  hello: { usage: \"hello {who}\", action: { exec: [\"echo\", \"{{who}}\"] } }\n"))
        let response = try #require(await engine.handle(say("hello a\u{0}b")))
        #expect(response.outcome == .invalid)
        #expect(response.reply.plainText.contains("control character"))
        let received = try await store.auditEntries(AuditQuery(kind: "received")).last
        #expect(received?.detail == "hello a\u{2400}b")
        let verifier = try await store.feedAuditChain(to: AuditVerifier())
        #expect(verifier.problem == nil && verifier.count > 0)
    }
}
