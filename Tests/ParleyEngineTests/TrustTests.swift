import Foundation
import ParleyCore
import ParleyEngine
import ParleyStore
import Testing

@Suite struct PolicyEnforcementTests {
    let directory = temporaryDirectory()
    static let yaml = """
        users:
          alice: { roles: [sre], identities: ["local:alice"] }
          bob: { roles: [developer], identities: ["local:bob"] }
          ivan: { roles: [developer, intern], identities: ["local:ivan"] }
        roles:
          developer: { allow: ["deploy *", status] }
          intern: { deny: [deploy] }
          sre: { allow: ["*"] }
        commands:
          deploy:
            usage: "deploy {app:choice(api,web,db)} to {env:choice(staging,prod)}"
            action: { exec: ["echo", "deployed {{app}} to {{env}}"] }
            rules:
              - name: deploy to prod
                when: 'env == "prod"'
                require: { roles: [sre] }
              - when: 'app == "db"'
                deny: database deploys go through the DBA team
              - when: 'env == "staging"'
                rooms: ["#ops", "terminal"]
          status:
            usage: status
            action: { exec: ["echo", "ok"] }
            rate: 2/min
        """

    @Test func anExplicitDenyBeatsAnyAllow() async throws {
        let (engine, _) = try makeEngine(Self.yaml, directory: directory)
        let ivan = try #require(await engine.handle(say("deploy api to staging", as: "local:ivan")))
        #expect(ivan.outcome == .denied)
        #expect(ivan.reply.plainText == "denied: role intern may not run deploy")
        let bob = try #require(await engine.handle(say("deploy api to staging", as: "local:bob")))
        #expect(bob.outcome == .succeeded)
    }

    @Test func conditionsOnArgumentsDecideAndTheExplanationNamesTheRule() async throws {
        let (engine, _) = try makeEngine(Self.yaml, directory: directory)
        let prod = try #require(await engine.handle(say("deploy api to prod", as: "local:bob")))
        #expect(prod.reply.plainText == "denied: deploy to prod needs role sre; you have developer")
        let database = try #require(await engine.handle(say("deploy db to staging", as: "local:alice")))
        #expect(
            database.reply.plainText == #"denied: deploy when app == "db": database deploys go through the DBA team"#)
        let allowed = try #require(await engine.handle(say("deploy api to prod", as: "local:alice")))
        #expect(allowed.outcome == .succeeded)
    }

    @Test func conditionsOnRoomsRestrictWhereACommandRuns() async throws {
        let (engine, store) = try makeEngine(Self.yaml, directory: directory)
        let random = try #require(
            await engine.handle(say("!deploy web to staging", as: "local:alice", room: "#random", direct: false)))
        #expect(
            random.reply.plainText
                == #"denied: deploy when env == "staging" may only run in #ops or terminal; this is #random"#)
        let ops = try #require(
            await engine.handle(say("!deploy web to staging", as: "local:alice", room: "#ops", direct: false)))
        #expect(ops.outcome == .succeeded)
        let denied = try await store.requireRun(random.runID)
        #expect(denied.decision == .denied)
    }

    @Test func ratesAreLimitedPerPersonWithWhenToRetry() async throws {
        let (engine, _) = try makeEngine(Self.yaml, directory: directory)
        #expect(await engine.handle(say("status", as: "local:bob"))?.outcome == .succeeded)
        #expect(await engine.handle(say("status", as: "local:bob"))?.outcome == .succeeded)
        let third = try #require(await engine.handle(say("status", as: "local:bob")))
        #expect(third.outcome == .denied)
        #expect(third.reply.plainText.hasPrefix("status is limited to 2/min per person; try again in "))
        #expect(await engine.handle(say("status", as: "local:alice"))?.outcome == .succeeded)
    }

    @Test func aPlatformsRetryDoesNotUseUpTheRate() async throws {
        let (engine, _) = try makeEngine(Self.yaml, directory: directory)
        #expect(await engine.handle(say("status", as: "local:bob", eventID: "e1"))?.outcome == .succeeded)
        // Delivered again: nothing runs, nothing is answered, and the person keeps their second run.
        #expect(await engine.handle(say("status", as: "local:bob", eventID: "e1")) == nil)
        #expect(await engine.handle(say("status", as: "local:bob", eventID: "e2"))?.outcome == .succeeded)
        #expect(await engine.handle(say("status", as: "local:bob", eventID: "e3"))?.outcome == .denied)
    }

    @Test func everyDecisionIsAuditedWithTheReason() async throws {
        let (engine, store) = try makeEngine(Self.yaml, directory: directory)
        _ = await engine.handle(say("deploy api to prod", as: "local:bob"))
        let entries = try await store.auditEntries(AuditQuery())
        let denied = try #require(entries.last)
        #expect(denied.kind == "denied")
        #expect(denied.actor == "bob")
        #expect(denied.command == "deploy")
        #expect(denied.arguments == #"{"app":"api","env":"prod"}"#)
        #expect(denied.outcome == "deploy to prod needs role sre; you have developer")
        #expect(denied.detail == "rule 'deploy to prod'")
        #expect(entries.map(\.kind).suffix(2) == ["received", "denied"])
    }
}

@Suite struct ApprovalTests {
    let directory = temporaryDirectory()

    func yaml(expire: String = "15m", approvals: Int = 2) -> String {
        """
        users:
          alice: { roles: [sre], identities: ["local:alice"] }
          bob: { roles: [sre], identities: ["local:bob", "slack:UBOB"] }
          carol: { groups: [oncall], identities: ["local:carol"] }
          dave: { roles: [developer], identities: ["local:dave"] }
        groups:
          oncall: { roles: [sre] }
        roles:
          developer: { allow: [ping] }
          sre: { allow: ["*"] }
        approvals: { expire: \(expire), confirm_within: \(expire) }
        commands:
          drain:
            usage: "drain {node}"
            action: { exec: ["sh", "-c", "echo \\"$PARLEY_USER/$PARLEY_APPROVERS\\" >> ran.log; echo drained {{node}}"] }
            rules:
              - require: { approvals: \(approvals), approvers: [sre] }
          wipe:
            usage: "wipe {disk}"
            action: { exec: ["sh", "-c", "echo wiped >> wiped.log; echo wiped {{disk}}"] }
            rules:
              - require: { confirm: true }
        """
    }

    func code(in response: EngineResponse?) throws -> String {
        let text = try #require(response?.reply.plainText)
        let range = try #require(text.range(of: #"(approve [A-Z0-9]{8}|yes [0-9]{4})"#, options: .regularExpression))
        return String(text[range].split(separator: " ")[1])
    }

    func ranLog() -> [String] {
        ((try? String(contentsOfFile: directory + "/ran.log", encoding: .utf8)) ?? "").split(separator: "\n").map(
            String.init)
    }

    @Test func aQuorumOfOthersReleasesTheCommandExactlyOnceAsTheRequester() async throws {
        let (engine, store) = try makeEngine(yaml(), directory: directory)
        let request = await engine.handle(say("drain node-3", as: "local:alice"))
        #expect(request?.outcome == .pending)
        #expect(
            request?.reply.blocks.contains(
                .actions([
                    ReplyAction(label: "Approve", command: "approve \(try code(in: request))", style: "primary"),
                    ReplyAction(label: "Deny", command: "deny \(try code(in: request))", style: "danger"),
                ])) == true)
        let id = try code(in: request)
        // The request names its gate, so adapters can update its message once it is settled.
        #expect(request?.openedGate?.id == id)
        let first = try #require(await engine.handle(say("approve \(id)", as: "local:bob")))
        #expect(first.reply.plainText == "Approved by bob; \(id) needs 1 more approval.")
        #expect(first.settledGate == nil)
        #expect(ranLog().isEmpty)
        let second = try #require(await engine.handle(say("approve \(id)", as: "local:carol")))
        #expect(second.outcome == .succeeded)
        #expect(second.reply.plainText.contains("drained node-3"))
        #expect(second.settledGate == SettledGate(id: id, outcome: "✅ Approved by bob, carol."))
        #expect(ranLog() == ["alice/bob,carol"])
        let late = try #require(await engine.handle(say("approve \(id)", as: "local:dave")))
        #expect(late.reply.plainText.contains("already approved"))
        #expect(late.settledGate == second.settledGate)
        #expect(ranLog().count == 1)
        let run = try await store.requireRun(request?.runID)
        #expect(run.status == .succeeded)
        #expect(run.userName == "alice")
    }

    @Test func theRequesterCanNeverApproveTheirOwnRequest() async throws {
        let (engine, store) = try makeEngine(yaml(approvals: 1), directory: directory)
        let id = try code(in: await engine.handle(say("drain node-1", as: "local:bob")))
        let own = try #require(await engine.handle(say("approve \(id)", as: "slack:UBOB")))
        #expect(own.outcome == .denied)
        #expect(own.reply.plainText == "you asked for `drain node-1`, so you cannot approve it; someone else must")
        // Only the requester needs to read that, and the request still waits.
        #expect(own.audience == .sender)
        #expect(own.settledGate == nil)
        #expect(ranLog().isEmpty)
        #expect(try await store.auditEntries(AuditQuery(kind: "denied")).last?.decision == "self-approval refused")
    }

    @Test func theSamePersonCountsOnceWhicheverIdentityTheyUse() async throws {
        let (engine, _) = try makeEngine(yaml(), directory: directory)
        let id = try code(in: await engine.handle(say("drain node-2", as: "local:alice")))
        _ = await engine.handle(say("approve \(id)", as: "local:bob"))
        let again = try #require(await engine.handle(say("approve \(id)", as: "slack:UBOB")))
        #expect(again.reply.plainText == "you already answered \(id); each person counts once")
        #expect(ranLog().isEmpty)
    }

    @Test func onlyEligibleApproversCount() async throws {
        let (engine, _) = try makeEngine(yaml(approvals: 1), directory: directory)
        let id = try code(in: await engine.handle(say("drain node-2", as: "local:alice")))
        let dave = try #require(await engine.handle(say("approve \(id)", as: "local:dave")))
        #expect(dave.reply.plainText == "approving \(id) needs role sre; you have developer")
        let stranger = try #require(await engine.handle(say("approve \(id)", as: "irc:mallory")))
        #expect(stranger.outcome == .denied)
        #expect(ranLog().isEmpty)
    }

    @Test func oneDenialStopsTheRequest() async throws {
        let (engine, store) = try makeEngine(yaml(), directory: directory)
        let request = await engine.handle(say("drain node-4", as: "local:alice"))
        let id = try code(in: request)
        let denial = try #require(await engine.handle(say("deny \(id) change freeze", as: "local:bob")))
        #expect(denial.reply.plainText == "`drain node-4` will not run: denied by bob: change freeze.")
        #expect(denial.audience == .room)
        #expect(denial.settledGate == SettledGate(id: id, outcome: "❌ Denied by bob: change freeze."))
        _ = await engine.handle(say("approve \(id)", as: "local:carol"))
        #expect(ranLog().isEmpty)
        #expect(try await store.requireRun(request?.runID).status == .rejected)
    }

    @Test func requestsExpire() async throws {
        // While its time runs, a request stays open (an hour is long enough on any loaded machine)...
        let (patient, _) = try makeEngine(yaml(expire: "1h", approvals: 1), directory: temporaryDirectory())
        let open = try code(in: await patient.handle(say("drain node-5", as: "local:alice")))
        #expect(await patient.settledGate(open) == nil)

        let (engine, store) = try makeEngine(yaml(expire: "1s", approvals: 1), directory: directory)
        let request = await engine.handle(say("drain node-5", as: "local:alice"))
        let id = try code(in: request)
        try await Task.sleep(for: .milliseconds(1200))
        // Asked once its time is up, the engine expires it.
        #expect(await engine.settledGate(id) == SettledGate(id: id, outcome: "⌛ Expired; nothing ran."))
        let late = try #require(await engine.handle(say("approve \(id)", as: "local:bob")))
        #expect(late.reply.plainText == "approval request \(id) expired; nothing will run")
        #expect(ranLog().isEmpty)
        #expect(try await store.requireRun(request?.runID).status == .expired)
        #expect(try await store.auditEntries(AuditQuery(kind: "approval_expired")).count == 1)
    }

    @Test func pendingRequestsSurviveARestart() async throws {
        let id: String
        do {
            let (engine, _) = try makeEngine(yaml(approvals: 1), directory: directory)
            id = try code(in: await engine.handle(say("drain node-6", as: "local:alice")))
        }
        let (restarted, _) = try makeEngine(yaml(approvals: 1), directory: directory)
        _ = try await restarted.start()
        let listed = try #require(await restarted.handle(say("approvals", as: "local:bob")))
        #expect(listed.reply.plainText.contains(id))
        let approved = try #require(await restarted.handle(say("approve \(id)", as: "local:bob")))
        #expect(approved.reply.plainText.contains("drained node-6"))
        #expect(ranLog() == ["alice/bob"])
    }

    @Test func racingApproversReleaseTheCommandOnce() async throws {
        let (engine, _) = try makeEngine(yaml(approvals: 1), directory: directory)
        let id = try code(in: await engine.handle(say("drain node-7", as: "local:alice")))
        await withTaskGroup(of: Void.self) { group in
            for voter in ["local:bob", "local:carol"] {
                group.addTask { _ = await engine.handle(say("approve \(id)", as: voter)) }
            }
        }
        #expect(ranLog().count == 1)
    }

    @Test func anApprovalNeverReleasesADifferentCommand() async throws {
        let id: String
        do {
            let (engine, _) = try makeEngine(yaml(approvals: 1), directory: directory)
            id = try code(in: await engine.handle(say("drain node-8", as: "local:alice")))
        }
        // The command is redeclared so that the same text now means something else.
        let changed = yaml(approvals: 1).replacingOccurrences(of: "drain {node}", with: "drain {host}")
            .replacingOccurrences(of: "{{node}}", with: "{{host}}")
        let (engine, _) = try makeEngine(changed, directory: directory)
        let answer = try #require(await engine.handle(say("approve \(id)", as: "local:bob")))
        #expect(answer.reply.plainText.contains("no longer means the same command"))
        #expect(ranLog().isEmpty)
    }

    @Test func confirmationNeedsTheRequestersCode() async throws {
        let (engine, _) = try makeEngine(yaml(), directory: directory)
        let request = await engine.handle(say("wipe sdb", as: "local:alice"))
        #expect(request?.outcome == .pending)
        let code = try code(in: request)
        let other = try #require(await engine.handle(say("yes \(code)", as: "local:bob")))
        #expect(other.reply.plainText == "no confirmation \(code) is waiting for you")
        #expect(!FileManager.default.fileExists(atPath: directory + "/wiped.log"))
        let confirmed = try #require(await engine.handle(say("yes \(code)", as: "local:alice")))
        #expect(confirmed.reply.plainText.contains("wiped sdb"))
        let twice = try #require(await engine.handle(say("yes \(code)", as: "local:alice")))
        #expect(twice.outcome == .denied)
        #expect(try String(contentsOfFile: directory + "/wiped.log", encoding: .utf8) == "wiped\n")
    }
}

@Suite struct SecretTests {
    let directory = temporaryDirectory()

    @Test func aScriptThatEchoesASecretShowsMaskInChatRecordsAndAudit() async throws {
        try "s3cr3t-file-value\n".write(toFile: directory + "/token", atomically: true, encoding: .utf8)
        let yaml = """
            users:
              alice: { roles: [ops], identities: ["local:alice"], secrets: { personal: env:ALICE_TOKEN } }
            roles: { ops: { allow: ["*"] } }
            secrets:
              shared: file:token
              personal: { per_user: true }
            commands:
              leak:
                usage: "leak {note:text}"
                action:
                  exec: ["sh", "-c", "echo shared=$SHARED personal=$PERSONAL note=$NOTE; echo $SHARED >&2"]
                  env: { SHARED: "{{secrets.shared}}", PERSONAL: "{{secrets.personal}}", NOTE: "{{note}}" }
            """
        let config = try ConfigLoader(
            builtins: Builtins.declarations, environment: ["ALICE_TOKEN": "alice-personal-token"]
        )
        .load(yaml: yaml, file: "test.yaml", baseDirectory: directory)
        let store = try SQLiteStore(dataDirectory: config.dataDirectory)
        let engine = Engine(config: config, store: store, environment: ["ALICE_TOKEN": "alice-personal-token"])
        let response = try #require(await engine.handle(say("leak I pasted alice-personal-token by mistake")))
        let text = response.reply.plainText
        #expect(text.contains("shared=•••• personal=•••• note=I pasted •••• by mistake"))
        #expect(!text.contains("s3cr3t-file-value"))
        #expect(!text.contains("alice-personal-token"))
        let run = try await store.requireRun(response.runID)
        #expect(!run.output.contains("s3cr3t") && !run.text.contains("alice-personal-token"))
        let audit = try await store.auditEntries(AuditQuery())
        #expect(!audit.isEmpty)
        for entry in audit {
            let all = [entry.arguments, entry.detail, entry.outcome, entry.decision].joined()
            #expect(!all.contains("s3cr3t-file-value") && !all.contains("alice-personal-token"), "\(entry)")
        }
    }
}
