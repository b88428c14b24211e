import Foundation

/// A webhook body that cannot become alerts, with the reason for the 400.
public struct PayloadError: Error, Sendable, Equatable, CustomStringConvertible {
    public var reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { reason }
}

/// Reads the bodies monitoring tools post: Alertmanager's webhook (version 4), Grafana's (the same
/// shape with more fields), GitHub's CI/CD events, and generic JSON mapped by templates.
public enum AlertPayloads {
    /// Alertmanager's (or Grafana's) webhook payload.
    public static func alertmanager(_ body: [UInt8], source: String = "alertmanager") throws(PayloadError) -> [Alert] {
        let root = try object(body)
        if source == "alertmanager", let version = root["version"] as? String, version != "4" {
            throw PayloadError("version \(version) is not supported; Alertmanager sends version 4")
        }
        guard let list = root["alerts"] as? [Any] else { throw PayloadError("the payload needs an \"alerts\" list") }
        let commonLabels = (root["commonLabels"] as? [String: Any]).map(strings) ?? [:]
        var alerts: [Alert] = []
        for (index, item) in list.enumerated() {
            let at = "alerts[\(index)]"
            guard let entry = item as? [String: Any] else { throw PayloadError("\(at) must be an object") }
            guard let rawLabels = entry["labels"] as? [String: Any] else {
                throw PayloadError("\(at).labels must be an object of strings")
            }
            var labels = strings(rawLabels)
            guard !labels.isEmpty || !commonLabels.isEmpty else { throw PayloadError("\(at).labels is empty") }
            for (key, value) in commonLabels where labels[key] == nil { labels[key] = value }
            let statusText = (entry["status"] as? String) ?? (root["status"] as? String) ?? ""
            guard let status = AlertStatus(rawValue: statusText) else {
                throw PayloadError("\(at).status must be firing or resolved, got '\(statusText)'")
            }
            let annotations = (entry["annotations"] as? [String: Any]).map(strings) ?? [:]
            alerts.append(
                Alert(
                    source: source, fingerprint: entry["fingerprint"] as? String, status: status, labels: labels,
                    annotations: annotations, startsAt: date(entry["startsAt"]), endsAt: date(entry["endsAt"]),
                    url: (entry["generatorURL"] as? String).flatMap { $0.isEmpty ? nil : $0 }))
        }
        return alerts
    }

    /// A GitHub webhook event (`X-GitHub-Event`) as an alert: a failed workflow run, check run or
    /// deployment fires; a successful one resolves the same alert. Nil for events that are not a
    /// result yet (queued, in progress) or not about CI/CD.
    public static func github(event: String, _ body: [UInt8]) throws(PayloadError) -> Alert? {
        let root = try object(body)
        let repository = ((root["repository"] as? [String: Any])?["full_name"] as? String) ?? ""
        func alert(kind: String, name: String, ref: String, conclusion: String, url: String?, detail: String) -> Alert?
        {
            let failed = ["failure", "timed_out", "cancelled", "action_required", "startup_failure", "error"]
            let passed = ["success", "neutral", "skipped"]
            let status: AlertStatus
            if failed.contains(conclusion) {
                status = .firing
            } else if passed.contains(conclusion) {
                status = .resolved
            } else {
                return nil
            }
            let labels = [
                "alertname": kind, "repository": repository, "name": name, "ref": ref,
                "severity": status == .firing ? "warning" : "info", "service": repository,
            ]
            let verb = status == .firing ? "failed (\(conclusion))" : "succeeded"
            return Alert(
                source: "github", status: status, labels: labels,
                annotations: ["summary": "\(repository): \(name) on \(ref) \(verb)", "description": detail], url: url)
        }
        switch event {
        case "workflow_run":
            guard root["action"] as? String == "completed" else { return nil }
            guard let run = root["workflow_run"] as? [String: Any] else {
                throw PayloadError("a workflow_run event needs a workflow_run object")
            }
            let number = (run["run_number"] as? Int).map { "run #\($0)" } ?? ""
            return alert(
                kind: "WorkflowRun", name: run["name"] as? String ?? "workflow",
                ref: run["head_branch"] as? String ?? "", conclusion: run["conclusion"] as? String ?? "",
                url: run["html_url"] as? String, detail: number)
        case "check_run":
            guard root["action"] as? String == "completed" else { return nil }
            guard let check = root["check_run"] as? [String: Any] else {
                throw PayloadError("a check_run event needs a check_run object")
            }
            let branch = ((check["check_suite"] as? [String: Any])?["head_branch"] as? String) ?? ""
            return alert(
                kind: "CheckRun", name: check["name"] as? String ?? "check", ref: branch,
                conclusion: check["conclusion"] as? String ?? "", url: check["html_url"] as? String,
                detail: (check["head_sha"] as? String).map { "commit \($0.prefix(7))" } ?? "")
        case "deployment_status":
            guard let status = root["deployment_status"] as? [String: Any] else {
                throw PayloadError("a deployment_status event needs a deployment_status object")
            }
            let deployment = root["deployment"] as? [String: Any] ?? [:]
            let environment = status["environment"] as? String ?? deployment["environment"] as? String ?? ""
            return alert(
                kind: "Deployment", name: environment, ref: deployment["ref"] as? String ?? "",
                conclusion: status["state"] as? String ?? "",
                url: (status["log_url"] as? String) ?? (status["target_url"] as? String),
                detail: status["description"] as? String ?? "")
        default:
            return nil
        }
    }

    /// A generic JSON payload mapped by a source's templates.
    public static func generic(_ body: [UInt8], mapping: GenericAlertMapping) throws(PayloadError) -> Alert {
        let root = try object(body)
        var labels: [String: String] = [:]
        for (name, template) in mapping.labels {
            let value = template.render(root)
            if !value.isEmpty { labels[name] = value }
        }
        for path in mapping.alertname.referencedPaths.sorted() {
            var value: Any? = root
            for key in path.split(separator: ".") { value = (value as? [String: Any])?[String(key)] }
            if value == nil || value is NSNull {
                throw PayloadError("the payload has no \(path), which the alert name (\(mapping.alertname)) needs")
            }
        }
        let name = mapping.alertname.render(root)
        guard !name.isEmpty else { throw PayloadError("the alert name template rendered empty: \(mapping.alertname)") }
        labels["alertname"] = name
        var annotations: [String: String] = [:]
        for (key, template) in mapping.annotations {
            let value = template.render(root)
            if !value.isEmpty { annotations[key] = value }
        }
        let state = mapping.status.map { $0.render(root).lowercased() } ?? "firing"
        let status: AlertStatus = mapping.resolvedValues.contains(state) ? .resolved : .firing
        let fingerprint = mapping.fingerprint.map { $0.render(root) }.flatMap { $0.isEmpty ? nil : $0 }
        return Alert(
            source: mapping.source, fingerprint: fingerprint, status: status, labels: labels, annotations: annotations,
            startsAt: nil, url: mapping.url.map { $0.render(root) }.flatMap { $0.isEmpty ? nil : $0 })
    }

    static func object(_ body: [UInt8]) throws(PayloadError) -> [String: Any] {
        guard !body.isEmpty else { throw PayloadError("the body is empty; send a JSON object") }
        let parsed: Any
        do {
            parsed = try JSONSerialization.jsonObject(with: Data(body))
        } catch {
            throw PayloadError("the body is not valid JSON: \((error as NSError).localizedDescription)")
        }
        guard let object = parsed as? [String: Any] else { throw PayloadError("the body must be a JSON object") }
        return object
    }

    /// Label values as text (numbers and booleans are written out; nested values are left out).
    static func strings(_ object: [String: Any]) -> [String: String] {
        var result: [String: String] = [:]
        for (key, value) in object {
            switch value {
            case let text as String: result[key] = text
            case let number as NSNumber: result[key] = JSONPointer.text(number)
            default: continue
            }
        }
        return result
    }

    /// RFC 3339 with any number of fractional digits; Go's zero time (`0001-01-01…`) is no date.
    public static func date(_ value: Any?) -> Date? {
        guard var text = value as? String, !text.isEmpty, !text.hasPrefix("0001-01-01") else { return nil }
        if let dot = text.firstIndex(of: "."), let end = text[dot...].firstIndex(where: { !$0.isNumber && $0 != "." }) {
            let digits = text[text.index(after: dot)..<end]
            text.replaceSubrange(
                dot..<end, with: "." + String(digits.prefix(3)).padding(toLength: 3, withPad: "0", startingAt: 0))
        }
        return AuditClock.parse(text)
    }
}

/// How a generic source's JSON becomes an alert: templates over the payload.
public struct GenericAlertMapping: Sendable, Equatable {
    /// The source's name (`/hooks/generic/NAME`).
    public var source: String
    public var alertname: TextTemplate
    /// Renders to a word; the alert is resolved when it is one of `resolvedValues`.
    public var status: TextTemplate?
    public var resolvedValues: [String]
    public var labels: [String: TextTemplate]
    public var annotations: [String: TextTemplate]
    public var fingerprint: TextTemplate?
    public var url: TextTemplate?

    /// Creates a mapping.
    public init(
        source: String, alertname: TextTemplate, status: TextTemplate? = nil,
        resolvedValues: [String] = ["resolved", "ok", "up", "recovered"], labels: [String: TextTemplate] = [:],
        annotations: [String: TextTemplate] = [:], fingerprint: TextTemplate? = nil, url: TextTemplate? = nil
    ) {
        self.source = source
        self.alertname = alertname
        self.status = status
        self.resolvedValues = resolvedValues
        self.labels = labels
        self.annotations = annotations
        self.fingerprint = fingerprint
        self.url = url
    }
}
