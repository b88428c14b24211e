import Foundation
import FuzzSupport
import ParleyCore

// A webhook body, as `/hooks/…` reads it after authentication. The first line names the source
// kind (`alertmanager`, `grafana`, `generic`, or `github EVENT`), the rest is the body. Every body
// becomes alerts or a PayloadError with a reason; alerts always have labels and a fingerprint.

let mapping = GenericAlertMapping(
    source: "uptime", alertname: try! TextTemplate("{{check.name}}Down"), status: try! TextTemplate("{{state}}"),
    labels: [
        "service": try! TextTemplate("{{check.service}}"), "tags": try! TextTemplate("{{#tags}}{{.}},{{/tags}}"),
    ],
    annotations: ["summary": try! TextTemplate("{{check.name}} is {{state}} {{{detail}}}")],
    fingerprint: try! TextTemplate("{{id}}"), url: try! TextTemplate("{{links.0}}"))

func check(_ alert: Alert, _ kind: String) {
    require(!alert.fingerprint.isEmpty, "\(kind): an alert without a fingerprint: \(alert)")
    require(!alert.labels.isEmpty, "\(kind): an alert without labels: \(alert)")
    if let start = alert.startsAt { require(start.timeIntervalSince1970.isFinite, "\(kind): start \(start)") }
    _ = alert.name
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzHooks(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let (kind, body) = FuzzInput(data, size).firstLine
    do {
        switch kind.split(separator: " ", maxSplits: 1).first ?? "" {
        case "grafana":
            for alert in try AlertPayloads.alertmanager(body, source: "grafana") { check(alert, kind) }
        case "generic":
            let alert = try AlertPayloads.generic(body, mapping: mapping)
            require(!(alert.labels["alertname"] ?? "").isEmpty, "generic: an alert without a name")
            check(alert, kind)
        case "github":
            if let alert = try AlertPayloads.github(event: String(kind.dropFirst(7)), body) { check(alert, kind) }
        default:
            for alert in try AlertPayloads.alertmanager(body) { check(alert, kind) }
        }
    } catch {
        require(!error.reason.isEmpty, "\(kind): a refusal without a reason")
    }
    return 0
}
