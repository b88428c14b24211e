import Foundation
import Testing

@testable import ParleyCore

@Suite struct AlertPayloadTests {
    /// The example payload from Alertmanager's webhook documentation (version 4), with two alerts.
    static let alertmanager = """
        {"version":"4","groupKey":"{}:{alertname=\\"HighCPU\\"}","truncatedAlerts":0,"status":"firing",
         "receiver":"parley","groupLabels":{"alertname":"HighCPU"},"commonLabels":{"alertname":"HighCPU","team":"web"},
         "commonAnnotations":{},"externalURL":"http://127.0.0.1:9093",
         "alerts":[
          {"status":"firing","labels":{"alertname":"HighCPU","instance":"web1","severity":"critical"},
           "annotations":{"summary":"CPU above 90%"},"startsAt":"2026-11-27T09:00:00.123456789Z",
           "endsAt":"0001-01-01T00:00:00Z","generatorURL":"http://prometheus/graph?g0.expr=up","fingerprint":"c2b3b4a1d0e9f8a7"},
          {"status":"resolved","labels":{"alertname":"HighCPU","instance":"web2"},
           "annotations":{},"startsAt":"2026-11-27T08:00:00Z","endsAt":"2026-11-27T08:30:00Z","generatorURL":"","fingerprint":""}
         ]}
        """

    @Test func alertmanagerWebhooksBecomeAlertsWithCommonLabels() throws {
        let alerts = try AlertPayloads.alertmanager(Array(Self.alertmanager.utf8))
        #expect(alerts.count == 2)
        #expect(alerts[0].fingerprint == "c2b3b4a1d0e9f8a7")
        #expect(alerts[0].status == .firing)
        #expect(
            alerts[0].labels == ["alertname": "HighCPU", "instance": "web1", "severity": "critical", "team": "web"])
        #expect(alerts[0].annotations["summary"] == "CPU above 90%")
        #expect(alerts[0].startsAt == AuditClock.parse("2026-11-27T09:00:00.123Z"))
        #expect(alerts[0].endsAt == nil)
        #expect(alerts[0].url == "http://prometheus/graph?g0.expr=up")
        // Without a fingerprint, one is computed from the labels: stable, and different per alert.
        #expect(alerts[1].status == .resolved)
        #expect(alerts[1].fingerprint == Alert.fingerprint(source: "alertmanager", labels: alerts[1].labels))
        #expect(alerts[1].fingerprint.count == 16)
        #expect(alerts[1].url == nil)
    }

    @Test func malformedPayloadsSayWhatIsWrong() {
        func reason(_ body: String) -> String? {
            do {
                _ = try AlertPayloads.alertmanager(Array(body.utf8))
                return nil
            } catch {
                return error.reason
            }
        }
        #expect(reason("") == "the body is empty; send a JSON object")
        #expect(reason("{nope")?.hasPrefix("the body is not valid JSON") == true)
        #expect(reason("[1]") == "the body must be a JSON object")
        #expect(reason(#"{"version":"3","alerts":[]}"#) == "version 3 is not supported; Alertmanager sends version 4")
        #expect(reason(#"{"version":"4"}"#) == #"the payload needs an "alerts" list"#)
        #expect(
            reason(#"{"version":"4","alerts":[{"status":"firing"}]}"#)
                == "alerts[0].labels must be an object of strings")
        #expect(
            reason(#"{"version":"4","alerts":[{"status":"burning","labels":{"a":"b"}}]}"#)
                == "alerts[0].status must be firing or resolved, got 'burning'")
    }

    @Test func grafanaSendsTheSameShapeWithMoreFields() throws {
        let body = """
            {"receiver":"parley","status":"firing","orgId":1,"title":"[FIRING:1] DiskFull","state":"alerting",
             "alerts":[{"status":"firing","labels":{"alertname":"DiskFull","grafana_folder":"infra"},
              "annotations":{"summary":"/var is 97% full"},"startsAt":"2026-11-27T10:00:00Z",
              "endsAt":"0001-01-01T00:00:00Z","generatorURL":"https://grafana/alerting/grafana/abc/view",
              "fingerprint":"57c6d9296de2ad39","silenceURL":"https://grafana/silence","valueString":"[ var='B' value=97 ]"}]}
            """
        let alerts = try AlertPayloads.alertmanager(Array(body.utf8), source: "grafana")
        #expect(alerts.map(\.source) == ["grafana"])
        #expect(alerts[0].name == "DiskFull")
        #expect(alerts[0].fingerprint == "57c6d9296de2ad39")
    }

    @Test func githubResultsFireOnFailureAndResolveOnSuccess() throws {
        func run(_ conclusion: String, action: String = "completed") -> String {
            """
            {"action":"\(action)","workflow_run":{"name":"Deploy","head_branch":"main","conclusion":"\(conclusion)",
             "html_url":"https://github.com/acme/api/actions/runs/42","run_number":42},
             "repository":{"full_name":"acme/api"}}
            """
        }
        let failed = try #require(try AlertPayloads.github(event: "workflow_run", Array(run("failure").utf8)))
        #expect(failed.status == .firing)
        #expect(failed.annotations["summary"] == "acme/api: Deploy on main failed (failure)")
        #expect(failed.url == "https://github.com/acme/api/actions/runs/42")
        let fixed = try #require(try AlertPayloads.github(event: "workflow_run", Array(run("success").utf8)))
        #expect(fixed.status == .resolved)
        #expect(fixed.fingerprint != failed.fingerprint || fixed.labels["severity"] != failed.labels["severity"])
        #expect(fixed.labels.filter { $0.key != "severity" } == failed.labels.filter { $0.key != "severity" })
        #expect(try AlertPayloads.github(event: "workflow_run", Array(run("", action: "in_progress").utf8)) == nil)
        #expect(try AlertPayloads.github(event: "star", Array("{}".utf8)) == nil)
        let deployment = """
            {"deployment_status":{"state":"error","environment":"production","log_url":"https://ci/log/7",
             "description":"rollout stuck"},"deployment":{"ref":"v1.4.2"},"repository":{"full_name":"acme/api"}}
            """
        let deploy = try #require(try AlertPayloads.github(event: "deployment_status", Array(deployment.utf8)))
        #expect(deploy.status == .firing)
        #expect(deploy.labels["alertname"] == "Deployment")
        #expect(deploy.url == "https://ci/log/7")
        let check = """
            {"action":"completed","check_run":{"name":"lint","conclusion":"timed_out","head_sha":"abcdef1234",
             "html_url":"https://github.com/acme/api/runs/9","check_suite":{"head_branch":"feature"}},
             "repository":{"full_name":"acme/api"}}
            """
        let lint = try #require(try AlertPayloads.github(event: "check_run", Array(check.utf8)))
        #expect(lint.annotations["description"] == "commit abcdef1")
    }

    @Test func genericPayloadsAreMappedByTemplates() throws {
        let mapping = GenericAlertMapping(
            source: "uptime", alertname: try TextTemplate("{{check.name}}Down"), status: try TextTemplate("{{state}}"),
            labels: ["service": try TextTemplate("{{check.service}}"), "empty": try TextTemplate("{{missing}}")],
            annotations: ["summary": try TextTemplate("{{check.name}} is {{state}}")])
        let down = try AlertPayloads.generic(
            Array(#"{"check":{"name":"Checkout","service":"shop"},"state":"DOWN"}"#.utf8), mapping: mapping)
        #expect(down.labels == ["alertname": "CheckoutDown", "service": "shop"])
        #expect(down.status == .firing)
        #expect(down.annotations["summary"] == "Checkout is DOWN")
        let up = try AlertPayloads.generic(
            Array(#"{"check":{"name":"Checkout","service":"shop"},"state":"up"}"#.utf8), mapping: mapping)
        #expect(up.status == .resolved)
        #expect(up.fingerprint == down.fingerprint)
        #expect(throws: PayloadError.self) {
            try AlertPayloads.generic(Array(#"{"state":"down"}"#.utf8), mapping: mapping)
        }
    }

    @Test func labelMatchersFollowAlertmanager() throws {
        let labels = ["alertname": "HighCPU", "instance": "web-1"]
        #expect(try LabelMatcher(parsing: "alertname=HighCPU").matches(labels))
        #expect(try !LabelMatcher(parsing: "alertname!=HighCPU").matches(labels))
        #expect(try LabelMatcher(parsing: "instance=~web-.*").matches(labels))
        #expect(try !LabelMatcher(parsing: "instance=~web").matches(labels), "regexes match whole values")
        #expect(try LabelMatcher(parsing: "team!~pay.*").matches(labels))
        #expect(try LabelMatcher(parsing: "team=").matches(labels), "a missing label is empty")
        #expect(try LabelMatcher(parsing: #"instance="web-1""#).matches(labels))
        #expect(throws: LabelMatcherError.self) { try LabelMatcher(parsing: "nonsense") }
        #expect(throws: LabelMatcherError.self) { try LabelMatcher(parsing: "a=~(") }
        #expect(throws: LabelMatcherError.self) { try LabelMatcher(parsing: "1x=y") }
    }
}
