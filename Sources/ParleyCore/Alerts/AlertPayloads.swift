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
        if source == "alertmanager", let version = root["version"], !(version is NSNull) {
            guard let text = version as? String else {
                throw PayloadError("version must be a string, got \(kind(version))")
            }
            guard text == "4" else {
                throw PayloadError("version \(text) is not supported; Alertmanager sends version 4")
            }
        }
        guard let list = root["alerts"] as? [Any] else { throw PayloadError("the payload needs an \"alerts\" list") }
        let commonLabels = try strings(root["commonLabels"], at: "commonLabels")
        let rootStatus = try string(root["status"], at: "status")
        var alerts: [Alert] = []
        for (index, item) in list.enumerated() {
            let at = "alerts[\(index)]"
            guard let entry = item as? [String: Any] else { throw PayloadError("\(at) must be an object") }
            guard entry["labels"] is [String: Any] else {
                throw PayloadError("\(at).labels must be an object of strings")
            }
            var labels = try strings(entry["labels"], at: "\(at).labels")
            guard !labels.isEmpty || !commonLabels.isEmpty else { throw PayloadError("\(at).labels is empty") }
            for (key, value) in commonLabels where labels[key] == nil { labels[key] = value }
            if entry.keys.contains("status"), entry["status"] is NSNull {
                throw PayloadError("\(at).status must be firing or resolved, got null")
            }
            let statusText = try string(entry["status"], at: "\(at).status") ?? rootStatus ?? ""
            guard let status = AlertStatus(rawValue: statusText) else {
                throw PayloadError("\(at).status must be firing or resolved, got '\(statusText)'")
            }
            alerts.append(
                Alert(
                    source: source, fingerprint: try string(entry["fingerprint"], at: "\(at).fingerprint"),
                    status: status, labels: labels,
                    annotations: try strings(entry["annotations"], at: "\(at).annotations"),
                    startsAt: try time(entry["startsAt"], at: "\(at).startsAt"),
                    endsAt: try time(entry["endsAt"], at: "\(at).endsAt"),
                    url: try string(entry["generatorURL"], at: "\(at).generatorURL").flatMap { $0.isEmpty ? nil : $0 }))
        }
        return alerts
    }

    /// A member that must be an object when present (null counts as absent).
    static func member(_ object: [String: Any], _ key: String, at path: String? = nil) throws(PayloadError)
        -> [String: Any]?
    {
        guard let value = object[key], !(value is NSNull) else { return nil }
        guard let member = value as? [String: Any] else {
            throw PayloadError("\(path ?? key) must be an object, got \(kind(value))")
        }
        return member
    }

    /// A member that must be text when present (null counts as absent).
    static func string(_ value: Any?, at path: String) throws(PayloadError) -> String? {
        guard let value, !(value is NSNull) else { return nil }
        guard let text = value as? String else { throw PayloadError("\(path) must be a string, got \(kind(value))") }
        return text
    }

    /// An object whose members must all be text (labels, annotations); absent or null is empty.
    static func strings(_ value: Any?, at path: String) throws(PayloadError) -> [String: String] {
        guard let value, !(value is NSNull) else { return [:] }
        guard let object = value as? [String: Any] else {
            throw PayloadError("\(path) must be an object of strings, got \(kind(value))")
        }
        var result: [String: String] = [:]
        for (key, member) in object {
            guard let text = member as? String else {
                throw PayloadError("\(path).\(key) must be a string, got \(kind(member))")
            }
            result[key] = text
        }
        return result
    }

    /// An RFC 3339 time when present; Go's zero time is no time.
    static func time(_ value: Any?, at path: String) throws(PayloadError) -> Date? {
        guard let text = try string(value, at: path), !text.isEmpty, !text.hasPrefix("0001-01-01") else { return nil }
        guard let date = date(text) else {
            throw PayloadError(
                "\(path) must be an RFC 3339 time such as 2026-01-02T03:04:05Z, got '\(text.prefix(40))'")
        }
        return date
    }

    /// The JSON kind of a value, for error messages.
    static func kind(_ value: Any) -> String {
        switch value {
        case is String: return "a string"
        case is NSNull: return "null"
        case is [Any]: return "a list"
        case is [String: Any]: return "an object"
        case let number as NSNumber:
            if type(of: value) == Bool.self || String(describing: type(of: number)).contains("Bool") {
                return "a boolean"
            }
            return "a number"
        default: return "a \(type(of: value))"
        }
    }

    /// A GitHub webhook event (`X-GitHub-Event`) as an alert: a failed workflow run, check run or
    /// deployment fires; a successful one resolves the same alert. Nil for events that are not a
    /// result yet (queued, in progress) or not about CI/CD.
    public static func github(event: String, _ body: [UInt8]) throws(PayloadError) -> Alert? {
        let root = try object(body)
        let repository = try string(try member(root, "repository")?["full_name"], at: "repository.full_name") ?? ""
        let action = try string(root["action"], at: "action")
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
            guard action == "completed" else { return nil }
            guard let run = try member(root, "workflow_run") else {
                throw PayloadError("a workflow_run event needs a workflow_run object")
            }
            let number = (run["run_number"] as? Int).map { "run #\($0)" } ?? ""
            return alert(
                kind: "WorkflowRun", name: try string(run["name"], at: "workflow_run.name") ?? "workflow",
                ref: try string(run["head_branch"], at: "workflow_run.head_branch") ?? "",
                conclusion: try string(run["conclusion"], at: "workflow_run.conclusion") ?? "",
                url: try string(run["html_url"], at: "workflow_run.html_url"), detail: number)
        case "check_run":
            guard action == "completed" else { return nil }
            guard let check = try member(root, "check_run") else {
                throw PayloadError("a check_run event needs a check_run object")
            }
            let suite = try member(check, "check_suite", at: "check_run.check_suite")
            let branch = try string(suite?["head_branch"], at: "check_run.check_suite.head_branch") ?? ""
            return alert(
                kind: "CheckRun", name: try string(check["name"], at: "check_run.name") ?? "check", ref: branch,
                conclusion: try string(check["conclusion"], at: "check_run.conclusion") ?? "",
                url: try string(check["html_url"], at: "check_run.html_url"),
                detail: try string(check["head_sha"], at: "check_run.head_sha").map { "commit \($0.prefix(7))" } ?? "")
        case "deployment_status":
            guard let status = try member(root, "deployment_status") else {
                throw PayloadError("a deployment_status event needs a deployment_status object")
            }
            let deployment = try member(root, "deployment") ?? [:]
            let statusEnvironment = try string(status["environment"], at: "deployment_status.environment")
            let deploymentEnvironment = try string(deployment["environment"], at: "deployment.environment")
            let logURL = try string(status["log_url"], at: "deployment_status.log_url")
            let targetURL = try string(status["target_url"], at: "deployment_status.target_url")
            return alert(
                kind: "Deployment", name: statusEnvironment ?? deploymentEnvironment ?? "",
                ref: try string(deployment["ref"], at: "deployment.ref") ?? "",
                conclusion: try string(status["state"], at: "deployment_status.state") ?? "",
                url: logURL ?? targetURL,
                detail: try string(status["description"], at: "deployment_status.description") ?? "")
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
