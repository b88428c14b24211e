import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import ParleyAdapters
import ParleyConformance
import ParleyCore
import ParleyEngine
import ParleyServer
import ParleyStore
import Testing

@Suite struct AlertHookTests {
    func post(
        _ client: some TestClientProtocol, _ path: String, body: String, headers: HTTPFields = [:]
    ) async throws -> TestResponse {
        var headers = headers
        headers[.contentType] = "application/json"
        return try await client.execute(uri: path, method: .post, headers: headers, body: ByteBuffer(string: body))
    }

    @Test func alertmanagerAlertsAreStoredBeforeTheAnswerAndRoutedByLabels() async throws {
        let fixture = try await AlertFixture()
        try await fixture.server.application().test(.router) { client in
            let body = AlertFixture.alertmanagerBody([
                (["alertname": "HighCPU", "instance": "web1", "severity": "critical", "team": "web"], "firing"),
                (["alertname": "SlowQueries", "instance": "db1", "team": "db"], "firing"),
            ])
            let response = try await post(
                client, "/hooks/alertmanager", body: body, headers: [.authorization: "Bearer \(AlertFixture.token)"])
            #expect(response.status == .ok)
            #expect(response.json["stored"] as? String == "2")
            // On disk by the time the answer arrived.
            let stored = try await fixture.store.alerts(AlertQuery())
            #expect(Set(stored.map(\.alert.name)) == ["HighCPU", "SlowQueries"])
            await fixture.server.alerts.settle()
            let pager = fixture.room.messages(in: "pager").map(\.text)
            #expect(pager == ["PAGE HighCPU on web1"])
            // `continue: true` lets the critical alert reach the web room too; the db alert matches nothing.
            #expect(fixture.room.messages(in: "web").map(\.text).first?.contains("HighCPU (critical) on web1") == true)
            #expect(fixture.room.messages(in: "ops").map(\.text).first?.contains("SlowQueries on db1") == true)
            // Basic authentication works as well as the token.
            let basic = "Basic " + Data("am:basic-pw".utf8).base64EncodedString()
            let again = try await post(client, "/hooks/alertmanager", body: body, headers: [.authorization: basic])
            #expect(again.status == .ok)
            #expect(try await fixture.store.alertEventCount() == 4)
        }
    }

    @Test func missingOrWrongCredentialsAreRefusedAuditedAndStoreNothing() async throws {
        let fixture = try await AlertFixture()
        try await fixture.server.application().test(.router) { client in
            let body = AlertFixture.alertmanagerBody([(["alertname": "HighCPU"], "firing")])
            let none = try await post(client, "/hooks/alertmanager", body: body)
            #expect(none.status == .unauthorized)
            #expect(none.json["error"] as? String == "missing Authorization")
            let wrong = try await post(
                client, "/hooks/alertmanager", body: body, headers: [.authorization: "Bearer nope"])
            #expect(wrong.status == .unauthorized)
            let basic = "Basic " + Data("am:wrong".utf8).base64EncodedString()
            #expect(
                try await post(client, "/hooks/alertmanager", body: body, headers: [.authorization: basic]).status
                    == .unauthorized)
            #expect(try await fixture.store.alertEventCount() == 0)
            // The first refusal is recorded at once; the ones that follow within a minute are summarised.
            let refused = try await fixture.store.auditEntries(AuditQuery(kind: "webhook_refused"))
            #expect(refused.count == 1)
            #expect(refused.first?.detail == "missing Authorization")
            // Unknown sources are simply not there.
            #expect(try await post(client, "/hooks/nagios", body: body).status == .notFound)
        }
    }

    @Test func malformedPayloadsGet400WithTheReason() async throws {
        let fixture = try await AlertFixture()
        try await fixture.server.application().test(.router) { client in
            let auth: HTTPFields = [.authorization: "Bearer \(AlertFixture.token)"]
            let broken = try await post(client, "/hooks/alertmanager", body: "{\"version\":\"4\",", headers: auth)
            #expect(broken.status == .badRequest)
            #expect((broken.json["error"] as? String)?.hasPrefix("the body is not valid JSON") == true)
            let labels = try await post(
                client, "/hooks/alertmanager", body: #"{"version":"4","alerts":[{"status":"firing","labels":7}]}"#,
                headers: auth)
            #expect(labels.json["error"] as? String == "alerts[0].labels must be an object of strings")
            #expect(try await fixture.store.alertEventCount() == 0)
        }
    }

    @Test(.requires(.python3)) func githubSignaturesAreCheckedAgainstIndependentlyComputedVectors() async throws {
        let fixture = try await AlertFixture()
        let body = """
            {"action":"completed","workflow_run":{"name":"Deploy","head_branch":"main","conclusion":"failure",
             "html_url":"https://github.com/acme/api/actions/runs/42","run_number":42},"repository":{"full_name":"acme/api"}}
            """
        // GitHub's documented example: secret "It's a Secret to Everybody", payload "Hello, World!".
        let documented = try await independentHMAC(key: AlertFixture.githubSecret, message: Array("Hello, World!".utf8))
        #expect(documented == "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17")
        let signature =
            "sha256=" + (try await independentHMAC(key: AlertFixture.githubSecret, message: Array(body.utf8)))
        try await fixture.server.application().test(.router) { client in
            func send(_ signature: String?, delivery: String) async throws -> TestResponse {
                var headers: HTTPFields = [:]
                headers[HTTPField.Name("X-GitHub-Event")!] = "workflow_run"
                headers[HTTPField.Name("X-GitHub-Delivery")!] = delivery
                if let signature { headers[HTTPField.Name("X-Hub-Signature-256")!] = signature }
                return try await post(client, "/hooks/github", body: body, headers: headers)
            }
            let forged = try await send("sha256=" + String(repeating: "a", count: 64), delivery: "d1")
            #expect(forged.status == .unauthorized)
            #expect(forged.json["error"] as? String == "X-Hub-Signature-256 does not match")
            let missing = try await send(nil, delivery: "d1")
            #expect(missing.status == .unauthorized)
            #expect(missing.json["error"] as? String == "missing X-Hub-Signature-256")
            let valid = try await send(signature, delivery: "d1")
            #expect(valid.status == .ok)
            #expect(valid.json["stored"] as? String == "1")
            // GitHub redelivers with the same delivery id: stored once.
            let replay = try await send(signature, delivery: "d1")
            #expect(replay.json["status"] as? String == "already received")
            #expect(try await fixture.store.alertEventCount() == 1)
        }
    }

    @Test(.requires(.python3)) func genericSourcesNeedAFreshHMACSignature() async throws {
        let fixture = try await AlertFixture()
        let body = #"{"check":{"name":"Checkout","service":"shop"},"state":"down"}"#
        try await fixture.server.application().test(.router) { client in
            func send(at stamp: Int, key: String = AlertFixture.uptimeSecret) async throws -> TestResponse {
                let mac = try await independentHMAC(key: key, message: Array("\(stamp).\(body)".utf8))
                var headers: HTTPFields = [:]
                headers[HTTPField.Name("X-Parley-Timestamp")!] = "\(stamp)"
                headers[HTTPField.Name("X-Parley-Signature")!] = "sha256=\(mac)"
                return try await post(client, "/hooks/generic/uptime", body: body, headers: headers)
            }
            let now = Int(Date().timeIntervalSince1970)
            #expect(try await send(at: now).status == .ok)
            let stale = try await send(at: now - 600)
            #expect(stale.status == .unauthorized)
            #expect(stale.json["error"] as? String == "X-Parley-Timestamp is not within 5 minutes of now")
            #expect(try await send(at: now, key: "guess").status == .unauthorized)
            let stored = try await fixture.store.alerts(AlertQuery())
            #expect(stored.map(\.alert.name) == ["CheckoutDown"])
            #expect(stored.first?.labels["severity"] == "critical")
        }
    }

    @Test func aResolvedAlertUpdatesItsFiringMessage() async throws {
        let fixture = try await AlertFixture()
        try await fixture.server.application().test(.router) { client in
            let auth: HTTPFields = [.authorization: "Bearer \(AlertFixture.token)"]
            let labels = ["alertname": "DiskFull", "instance": "db1"]
            _ = try await post(
                client, "/hooks/alertmanager", body: AlertFixture.alertmanagerBody([(labels, "firing")]), headers: auth)
            await fixture.server.alerts.settle()
            _ = try await post(
                client, "/hooks/alertmanager", body: AlertFixture.alertmanagerBody([(labels, "resolved")]),
                headers: auth)
            await fixture.server.alerts.settle()
            let messages = fixture.room.messages(in: "ops")
            #expect(messages.count == 1)
            #expect(messages.first?.text.hasPrefix("✅ [resolved] DiskFull on db1") == true)
            #expect(messages.first?.text.contains("(×2)") == true)
        }
    }

    @Test func twoReplicasShareTheRoomsBudgetItsSummaryAndEachAlertsCount() async throws {
        let directory = temporaryDirectory()
        let first = try await AlertFixture(directory: directory)
        let second = try await AlertFixture(directory: directory, room: first.room)
        let names = ["HighCPU", "DiskFull", "Latency", "Errors5xx", "QueueBacklog"]
        let auth: HTTPFields = [.authorization: "Bearer \(AlertFixture.token)"]
        // The storm of the single-replica test, its webhooks spread over two replicas in turn.
        try await first.server.application().test(.router) { one in
            try await second.server.application().test(.router) { two in
                for batch in 0..<100 {
                    let alerts = (0..<100).map { index -> ([String: String], String) in
                        let alert = (batch * 100 + index) % 50
                        return (["alertname": names[alert % 5], "instance": "host\(alert / 5)"], "firing")
                    }
                    let body = AlertFixture.alertmanagerBody(alerts)
                    let response =
                        batch % 2 == 0
                        ? try await post(one, "/hooks/alertmanager", body: body, headers: auth)
                        : try await post(two, "/hooks/alertmanager", body: body, headers: auth)
                    #expect(response.status == .ok)
                }
            }
        }
        await first.server.alerts.settle()
        await second.server.alerts.settle()
        #expect(try await first.store.alertEventCount() == 10_000)
        let messages = first.room.messages(in: "ops")
        // As from one replica: 20 alerts get their own message in the minute, the 30 others one summary.
        #expect(messages.count == 21, "\(messages.map(\.text))")
        let own = messages.filter { !$0.text.hasPrefix("+") }
        #expect(own.count == 20)
        #expect(Set(own.map { $0.text.split(separator: "\n")[0] }).count == 20, "no alert posted twice")
        #expect(own.allSatisfy { $0.text.contains("(×200)") }, "\(own.map(\.text))")
        let summaries = messages.filter { $0.text.hasPrefix("+") }
        #expect(summaries.count == 1)
        #expect(summaries.first?.text.hasPrefix("+30 more firing: ") == true, "\(summaries.map(\.text))")
    }

    @Test func aStormIsStoredWholeAndFoldedIntoABoundedNumberOfMessagesWithTheRightCounts() async throws {
        let fixture = try await AlertFixture()
        let names = ["HighCPU", "DiskFull", "Latency", "Errors5xx", "QueueBacklog"]
        try await fixture.server.application().test(.router) { client in
            let auth: HTTPFields = [.authorization: "Bearer \(AlertFixture.token)"]
            // 10,000 notifications of 50 alerts (10 instances of 5 names), 100 per request as Alertmanager batches.
            for batch in 0..<100 {
                let alerts = (0..<100).map { index -> ([String: String], String) in
                    let alert = (batch * 100 + index) % 50
                    return (["alertname": names[alert % 5], "instance": "host\(alert / 5)"], "firing")
                }
                let response = try await post(
                    client, "/hooks/alertmanager", body: AlertFixture.alertmanagerBody(alerts), headers: auth)
                #expect(response.status == .ok)
            }
        }
        await fixture.server.alerts.settle()
        #expect(try await fixture.store.alertEventCount() == 10_000)
        let current = try await fixture.store.alerts(AlertQuery(limit: 1000))
        #expect(current.count == 50)
        #expect(current.allSatisfy { $0.received == 200 })
        let messages = fixture.room.messages(in: "ops")
        // 20 alerts a minute get their own message; the other 30 share one summary.
        #expect(messages.count == 21)
        let own = messages.filter { !$0.text.hasPrefix("+") }
        #expect(own.count == 20)
        #expect(own.allSatisfy { $0.text.contains("(×200)") }, "\(own.map(\.text))")
        let summary = try #require(messages.first { $0.text.hasPrefix("+") })
        #expect(summary.text.hasPrefix("+30 more firing: "))
        let counts = summary.text.split(separator: ":", maxSplits: 1)[1].split(separator: ",").compactMap {
            Int($0.split(separator: "×").last?.trimmingCharacters(in: .whitespaces) ?? "")
        }
        #expect(counts.reduce(0, +) == 30)
        // Every alert is there for `alerts`, whichever message it is in.
        let listed = await fixture.engine.handle(
            Inbound(sender: Identity(platform: "local", id: "alice"), room: "terminal", text: "alerts", isDirect: true))
        #expect(listed?.reply.plainText.contains("host9") == true)
    }

    @Test func anAutomationDeclaresAnIncidentFromItsAlert() async throws {
        let extra = [
            "  automations:",
            "    - match: { alertname: CheckoutDown }",
            "      run: \"incident declare sev1 --from-alert {{id}}\"",
            "      as: \"service:alertbot\"",
            "      room: \"mattermost:ops\"",
        ].joined(separator: "\n")
        let fixture = try await AlertFixture(extra: extra)
        try await fixture.server.application().test(.router) { client in
            let body = AlertFixture.alertmanagerBody([(["alertname": "CheckoutDown", "instance": "lb1"], "firing")])
            _ = try await post(
                client, "/hooks/alertmanager", body: body, headers: [.authorization: "Bearer \(AlertFixture.token)"])
        }
        await fixture.server.alerts.settle()
        let incident = try #require(try await fixture.store.incident(number: 1))
        #expect(incident.title == "something is wrong", "the alert's summary")
        #expect(incident.declaredBy == "alertbot")
        #expect(try await fixture.store.incidentAlerts(number: 1) == [1])
        #expect(
            fixture.room.messages(in: "ops").contains { $0.text.contains("INC-1 declared (sev1): something is wrong") })
    }

    @Test func automationsRunAsTheirServiceIdentityUnderPolicyWithACooldown() async throws {
        let extra = [
            "  automations:",
            "    - match: { alertname: DiskFull }",
            "      run: \"cleanup {{labels.instance}}\"",
            "      as: \"service:alertbot\"",
            "      room: \"mattermost:ops\"",
            "      cooldown: 30m",
            "    - match: { alertname: HighCPU }",
            "      run: \"cleanup {{labels.instance}}\"",
            "      as: \"service:intern\"",
            "      room: \"mattermost:ops\"",
            "commands:",
            "  cleanup:",
            "    usage: \"cleanup {host}\"",
            "    action: { exec: [\"printf\", \"cleaned %s\\\\n\", \"{{host}}\"] }",
        ].joined(separator: "\n")
        let fixture = try await AlertFixture(extra: extra)
        try await fixture.server.application().test(.router) { client in
            let auth: HTTPFields = [.authorization: "Bearer \(AlertFixture.token)"]
            for _ in 0..<2 {
                let body = AlertFixture.alertmanagerBody([
                    (["alertname": "DiskFull", "instance": "db1"], "firing"),
                    (["alertname": "HighCPU", "instance": "web1"], "firing"),
                ])
                _ = try await post(client, "/hooks/alertmanager", body: body, headers: auth)
            }
        }
        // Every delivery has been answered, so every rule has decided; settling waits for what they started.
        await fixture.server.alerts.settle()
        let posted = fixture.room.messages(in: "ops").map(\.text).filter { $0.hasPrefix("🤖") }
        // DiskFull ran once for two notifications (cooldown); the intern has no role, so policy refused it.
        #expect(posted.filter { $0.contains("cleaned db1") }.count == 1, "\(posted)")
        #expect(posted.contains { $0.contains("HighCPU") && $0.contains("denied") }, "\(posted)")
        let runs = try await fixture.store.runs(RunQuery(limit: 20))
        #expect(runs.contains { $0.userName == "alertbot" && $0.text == "cleanup db1" })
    }
}

@Suite struct AlertsPageTests {
    @Test func theAlertsPageShowsFiringTakenAndResolvedAndTakingIsAudited() async throws {
        let fixture = try await AlertFixture()
        try await fixture.store.setPasswordHash(try PasswordHasher.hash("correct horse battery"), userName: "alice")
        _ = try await fixture.server.alerts.ingest(
            [
                Alert(source: "alertmanager", status: .firing, labels: ["alertname": "HighCPU", "instance": "<web1>"]),
                Alert(source: "alertmanager", status: .resolved, labels: ["alertname": "DiskFull", "instance": "db1"]),
            ], from: "alertmanager")
        try await fixture.server.application().test(.router) { client in
            #expect(try await client.execute(uri: "/alerts", method: .get).status == .seeOther)
            let session = try #require(try await client.signIn("alice", "correct horse battery"))
            let page = try await client.execute(uri: "/alerts", method: .get, headers: [.cookie: session.cookie])
            #expect(page.status == .ok)
            #expect(page.text.contains("HighCPU"))
            #expect(page.text.contains("&lt;web1&gt;"), "labels are escaped")
            #expect(!page.text.contains("<web1>"))
            #expect(page.text.contains("DiskFull"))
            let firing = try #require(try await fixture.store.alerts(AlertQuery(status: .firing)).first?.id)
            let take = try await client.execute(
                uri: "/alerts/\(firing)/ack", method: .post,
                headers: [.cookie: session.cookie, .contentType: "application/x-www-form-urlencoded"],
                body: ByteBuffer(string: "csrf=\(session.csrf)"))
            #expect(take.status == .seeOther)
            let forged = try await client.execute(
                uri: "/alerts/\(firing)/ack", method: .post,
                headers: [.cookie: session.cookie, .contentType: "application/x-www-form-urlencoded"],
                body: ByteBuffer(string: "csrf=forged"))
            #expect(forged.status != .seeOther)
            let taken = try await fixture.store.alert(id: firing)
            #expect(taken?.acknowledgedBy == "alice")
            let audited = try await fixture.store.auditEntries(AuditQuery(limit: 50))
            #expect(audited.contains { $0.command == "ack" && $0.actor == "alice" })
        }
    }
}
