import Foundation
import ParleyCore
import ParleyEngine
import ParleyStore
import Testing

@Suite struct IncidentTests {
    let directory = temporaryDirectory()
    static let yaml = """
        adapters:
          irc: { server: "127.0.0.1:6667", nick: parley, channels: ["#status"] }
        users:
          alice: { roles: [sre], identities: ["local:alice"] }
          bob: { roles: [developer], identities: ["local:bob"] }
          carol: { roles: [viewer], identities: ["local:carol"] }
          dave: { roles: [sre], identities: ["local:dave"] }
        roles:
          developer: { allow: [deploy, incident.declare, incident.note, incidents] }
          viewer: { allow: [incidents, incident.show] }
          sre: { allow: ["*"] }
        incidents:
          stakeholder_rooms: ["irc:#status"]
          severities:
            sev1: { update_every: 30m }
            sev2: { update_every: 1h }
            sev3: {}
          declare_rules:
            - name: only SREs declare sev1
              when: 'severity == "sev1"'
              require: { roles: [sre] }
        commands:
          deploy:
            usage: "deploy {app:choice(api,web)}"
            action: { exec: ["echo", "deployed {{app}}"] }
        """

    func run(_ engine: Engine, _ text: String, as user: String, room: String = "#ops") async throws -> EngineResponse {
        try #require(await engine.handle(say(text, as: "local:\(user)", room: room)))
    }

    @Test func anIncidentIsDeclaredRunByItsRolesAndResolvedByItsCommanderWithATracedTimeline() async throws {
        let (engine, store) = try makeEngine(Self.yaml, directory: directory)
        let messenger = RecordingMessenger()
        engine.attach(messenger: messenger)

        // Who may declare what: carol has no grant; bob may declare, but not a sev1 (the rule).
        #expect(try await run(engine, #"incident declare sev2 "Search slow""#, as: "carol").outcome == .denied)
        let sev1ByBob = try await run(engine, #"incident declare sev1 "Checkout errors""#, as: "bob")
        #expect(sev1ByBob.outcome == .denied)
        #expect(sev1ByBob.reply.plainText.contains("only SREs declare sev1 needs role sre"))
        let bad = try await run(engine, #"incident declare sev9 "x""#, as: "alice")
        #expect(bad.reply.plainText == "'sev9' is not a severity; write one of sev1, sev2, sev3")
        let search = try await run(engine, "incident declare sev2 Search is slow", as: "bob", room: "#search")
        #expect(search.reply.plainText.hasPrefix("🚨 INC-1 declared (sev2): Search is slow"))

        let declared = try await run(
            engine, #"incident declare sev1 "Checkout errors on EU" --commander alice"#, as: "dave")
        #expect(declared.outcome == .succeeded)
        #expect(declared.reply.plainText.hasPrefix("🚨 INC-2 declared (sev1): Checkout errors on EU\ncommander: alice"))
        #expect(
            messenger.posts.withLock { $0 }.contains {
                $0.room == "irc:#status" && $0.text.hasPrefix("🚨 INC-2 declared (sev1)")
            })

        // A role grants its incident commands inside that incident only.
        #expect(
            try await run(engine, "incident assign comms bob", as: "alice").reply.plainText.contains("bob is comms"))
        let update = try await run(engine, "incident update Rolled back; error rate falling", as: "bob")
        #expect(update.outcome == .succeeded)
        #expect(update.reply.plainText.contains("Update from bob: Rolled back; error rate falling"))
        #expect(
            messenger.posts.withLock { $0 }.contains { $0.room == "irc:#status" && $0.text.contains("Rolled back") })
        // bob declared INC-1, so he commands it: named from this room, his role there applies.
        let named = try await run(engine, "incident update --incident INC-1 Index rebuilt", as: "bob", room: "#ops")
        #expect(named.reply.plainText.hasPrefix("📣 INC-1 (sev2, investigating) — Search is slow"))
        #expect(try await run(engine, "incident update --incident INC-2 hi", as: "carol").outcome == .denied)

        // Work in the room joins the timeline from the audit chain.
        #expect(try await run(engine, "deploy api", as: "alice").outcome == .succeeded)
        #expect(try await run(engine, "incident note restarted the primary by hand", as: "bob").outcome == .succeeded)
        #expect(try await run(engine, "incident status identified", as: "alice").outcome == .succeeded)

        // Only the commander resolves, even for someone who may run everything.
        let byDave = try await run(engine, "incident resolve", as: "dave")
        #expect(byDave.reply.plainText.hasPrefix("only INC-2's commander (alice) may resolve it"))
        let resolved = try await run(engine, "incident resolve Bad config rolled back", as: "alice")
        #expect(resolved.reply.plainText.hasPrefix("✅ INC-2 resolved after"))
        #expect(
            messenger.posts.withLock { $0 }.contains {
                $0.room == "irc:#status" && $0.text.hasPrefix("✅ INC-2 resolved")
            })
        // Once resolved, bob's comms role no longer grants him anything; alice is told there is nothing open.
        #expect(try await run(engine, "incident update late", as: "bob").outcome == .denied)
        #expect(
            try await run(engine, "incident update late", as: "alice").reply.plainText.contains("no incident is open"))

        let incident = try #require(try await store.incident(number: 2))
        #expect(incident.status == .resolved)
        #expect(incident.roles == ["commander": "alice", "comms": "bob"])
        let lines = try await IncidentTimeline.build(incident, store: store)
        let kinds = lines.map(\.kind)
        #expect(kinds.filter { $0 != .command } == [.declared, .role, .update, .note, .status, .resolved])
        #expect(lines.contains { $0.kind == .command && $0.text == "ran `deploy app=api`" && $0.actor == "alice" })
        #expect(lines.contains { $0.kind == .command && $0.text.hasPrefix("`deploy` ") })
        #expect(!lines.contains { $0.text.contains("INC-1") || $0.text.contains("Search") })
        // Every line is traced to an audit entry of the same run.
        for line in lines {
            let seq = try #require(line.auditSeq, "\(line.text) has no audit entry")
            let entry = try #require(try await store.auditEntry(seq: seq))
            #expect(entry.runID == line.runID, "\(line.text) → audit #\(seq)")
        }
        #expect(try await store.feedAuditChain(to: AuditVerifier(fromGenesis: true)).problem == nil)

        let report = try #require(try await IncidentReport.gather(number: 2, store: store))
        let markdown = report.markdown()
        #expect(markdown.hasPrefix("# INC-2: Checkout errors on EU\n"))
        #expect(markdown.contains("| Commander | alice |"))
        #expect(markdown.contains("| Comms | bob |"))
        #expect(markdown.contains("restarted the primary by hand"))
        #expect(markdown.contains("## Commands run\n\n- "))
        #expect(report.contributors.first == "alice")
        let json = try report.json()
        #expect(json.contains(#""title" : "Checkout errors on EU""#))
    }

    @Test func followUpTasksAndAlertsAttach() async throws {
        let (engine, store) = try makeEngine(Self.yaml, directory: directory)
        _ = try await store.recordAlerts(
            [
                Alert(
                    source: "alertmanager", fingerprint: "f1", status: .firing,
                    labels: ["alertname": "HighErrorRate", "severity": "critical"],
                    annotations: ["summary": "5xx above 5% on checkout"])
            ], at: Date())
        let declared = try await run(engine, "incident declare sev2 --from-alert 1", as: "alice")
        #expect(declared.reply.plainText.hasPrefix("🚨 INC-1 declared (sev2): 5xx above 5% on checkout"))
        #expect(try await store.incidentAlerts(number: 1) == [1])
        #expect(try await run(engine, "incident attach 1", as: "alice").reply.plainText.contains("already"))
        let task = try await run(engine, "incident task add --owner bob Add a canary", as: "alice")
        #expect(task.reply.plainText == "☑️ task 1 for INC-1: Add a canary — bob")
        #expect(
            try await run(engine, "incident task done 1", as: "alice").reply.plainText == "✔️ task 1 done: Add a canary")
        #expect(try await run(engine, "incident task done 1", as: "alice").reply.plainText.contains("no open task 1"))
        let unknown = try await run(engine, "incident task add --owner zed Something", as: "alice")
        #expect(unknown.reply.plainText.hasPrefix("no Parley user 'zed'"))
        let list = try await run(engine, "incidents", as: "carol")
        #expect(list.reply.plainText.contains("INC-1"))
        let missing = try await run(engine, "incident show INC-99", as: "carol")
        #expect(missing.reply.plainText.hasPrefix("there is no incident INC-99"))
        let garbage = try await run(engine, "incident show INC-99999999999999999999999", as: "carol")
        #expect(garbage.reply.plainText.contains("is not an incident number"))
    }

    @Test func aDueUpdateRemindsCommsOnceThenTheCommanderAndAnUpdateStartsAgain() async throws {
        let (engine, store) = try makeEngine(Self.yaml, directory: directory)
        let messenger = RecordingMessenger()
        engine.attach(messenger: messenger)
        _ = try await run(engine, #"incident declare sev1 "Checkout down" --commander alice"#, as: "alice")
        _ = try await run(engine, "incident assign comms bob", as: "alice")
        let declared = try #require(try await store.incident(number: 1)).lastUpdateAt
        let second = try Engine(
            config: engine.config, store: SQLiteStore(dataDirectory: engine.config.dataDirectory), executors: [])
        #expect(try await engine.remindIncidents(now: declared.addingTimeInterval(29 * 60)).isEmpty)
        let first = try await engine.remindIncidents(now: declared.addingTimeInterval(31 * 60))
        #expect(first.count == 1)
        #expect(first.first?.contains("comms bob") == true)
        // Another look (another replica) at the same moment sends nothing more.
        #expect(try await second.remindIncidents(now: declared.addingTimeInterval(31 * 60)).isEmpty)
        let overdue = try await engine.remindIncidents(now: declared.addingTimeInterval(61 * 60))
        #expect(overdue.first?.contains("overdue") == true)
        #expect(overdue.first?.contains("Commander alice") == true)
        #expect(try await engine.remindIncidents(now: declared.addingTimeInterval(200 * 60)).isEmpty)
        #expect(messenger.posts.withLock { $0 }.filter { $0.room == "local:#ops" && $0.text.hasPrefix("⏰") }.count == 2)
        // An update starts the cadence again.
        _ = try await run(engine, "incident update Still rolling back", as: "bob")
        let updated = try #require(try await store.incident(number: 1)).lastUpdateAt
        #expect(try await engine.remindIncidents(now: updated.addingTimeInterval(10 * 60)).isEmpty)
        #expect(try await engine.remindIncidents(now: updated.addingTimeInterval(31 * 60)).count == 1)
        let reminders = try await store.incidentEvents(number: 1).filter { $0.kind == .reminder }
        #expect(reminders.count == 3)
    }
}

/// A command whose rules name the incident is decided the same way when its approval releases it.
@Suite struct IncidentRuleTests {
    let directory = temporaryDirectory()
    static let yaml = """
        users:
          alice: { roles: [sre], identities: ["local:alice"] }
          bob: { roles: [sre], identities: ["local:bob"] }
        roles:
          sre: { allow: ["*"] }
        commands:
          failover:
            usage: "failover {db}"
            action: { exec: ["echo", "failed over {{db}}"] }
            rules:
              - name: only during an incident
                when: 'incident == ""'
                deny: "declare an incident in this room first"
              - name: others ask the commander
                when: 'not ("commander" in incident.role)'
                require: { approvals: 1 }
        """

    func run(_ engine: Engine, _ text: String, as user: String) async throws -> EngineResponse {
        try #require(await engine.handle(say(text, as: "local:\(user)", room: "#ops")))
    }

    func code(_ response: EngineResponse) throws -> String {
        let text = response.reply.plainText
        let range = try #require(text.range(of: #"approve [A-Z0-9]{8}"#, options: .regularExpression))
        return String(text[range].dropFirst("approve ".count))
    }

    @Test func rulesOnTheIncidentHoldAtArrivalAndAgainAtRelease() async throws {
        let (engine, _) = try makeEngine(Self.yaml, directory: directory)
        let outside = try await run(engine, "failover main", as: "bob")
        #expect(outside.reply.plainText == "denied: only during an incident: declare an incident in this room first")
        _ = try await run(engine, #"incident declare sev1 "DB primary down""#, as: "alice")
        // The commander runs it at once; anyone else needs an approval, released as decided.
        #expect(try await run(engine, "failover main", as: "alice").reply.plainText.contains("failed over main"))
        let asked = try await run(engine, "failover replica", as: "bob")
        #expect(asked.outcome == .pending)
        let released = try #require(await engine.handle(say("approve \(try code(asked))", as: "local:alice")))
        #expect(released.outcome == .succeeded)
        #expect(released.reply.plainText.contains("failed over replica"))
        // Resolved before the approval: the release is refused, as a new request would be.
        let late = try await run(engine, "failover other", as: "bob")
        #expect(late.outcome == .pending)
        _ = try await run(engine, "incident resolve", as: "alice")
        let refused = try #require(await engine.handle(say("approve \(try code(late))", as: "local:alice")))
        #expect(refused.reply.plainText.contains("may no longer run it"))
    }
}
