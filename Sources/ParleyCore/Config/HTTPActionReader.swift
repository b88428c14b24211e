import Foundation
import Yams

/// Reads an `http:` action: method, url, headers, one of json/form/body, timeout, retries, backoff,
/// expect, extract and table.
struct HTTPActionReader {
    let reader: YAMLReader
    let command: String
    /// Compiles and checks a template (names, secrets); nil when it is not valid.
    let templates: (String, Node) -> TextTemplate?

    static let keys = [
        "method", "url", "headers", "json", "form", "body", "timeout", "retries", "backoff", "expect", "extract",
        "table",
    ]
    static let methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"]

    func read(_ node: Node) -> HTTPSpec? {
        var fields: [String: Node] = [:]
        for entry in reader.mapping(node, "http action of '\(command)'", allowed: Self.keys) {
            fields[entry.key] = entry.value
        }
        guard case .mapping = node else { return nil }
        guard let urlNode = fields["url"], let urlText = reader.string(urlNode, "url") else {
            reader.report(node, "the http action of '\(command)' needs url:")
            return nil
        }
        if !(urlText.hasPrefix("http://") || urlText.hasPrefix("https://") || urlText.hasPrefix("{{")) {
            reader.report(urlNode, "url must start with http:// or https://")
        }
        guard let url = templates(urlText, urlNode) else { return nil }
        var spec = HTTPSpec(method: "GET", url: url)
        if let methodNode = fields["method"], let method = reader.string(methodNode, "method")?.uppercased() {
            if Self.methods.contains(method) {
                spec.method = method
            } else {
                reader.report(methodNode, "method '\(method)' is not one of \(Self.methods.joined(separator: ", "))")
            }
        }
        if let headersNode = fields["headers"] {
            for entry in reader.mapping(headersNode, "headers") {
                if let text = reader.string(entry.value, "header \(entry.key)"),
                    let template = templates(text, entry.value)
                {
                    spec.headers[entry.key] = template
                }
            }
        }
        spec.body = readBody(fields)
        readNumbers(fields, into: &spec)
        if let extractNode = fields["extract"] {
            for entry in reader.mapping(extractNode, "extract") {
                guard let pointer = reader.string(entry.value, "extract \(entry.key)") else { continue }
                guard JSONPointer.isValid(pointer) else {
                    reader.report(entry.value, "'\(pointer)' is not a JSON pointer; write /field/0/name")
                    continue
                }
                spec.extract[entry.key] = pointer
            }
        }
        if let tableNode = fields["table"] { spec.table = readTable(tableNode) }
        return spec
    }

    private func readBody(_ fields: [String: Node]) -> HTTPBodyTemplate? {
        let given = ["json", "form", "body"].filter { fields[$0] != nil }
        if given.count > 1 {
            reader.report(
                fields[given[1]],
                "an http action has one body: json, form or body, not \(given.joined(separator: " and "))")
        }
        if let jsonNode = fields["json"] { return readJSON(jsonNode).map { .json($0) } }
        if let formNode = fields["form"] {
            let pairs = reader.mapping(formNode, "form").compactMap { entry -> (String, TextTemplate)? in
                guard let text = reader.string(entry.value, "form \(entry.key)"),
                    let template = templates(text, entry.value)
                else { return nil }
                return (entry.key, template)
            }
            return .form(pairs)
        }
        if let bodyNode = fields["body"], let text = reader.string(bodyNode, "body"),
            let template = templates(text, bodyNode)
        {
            return .text(template)
        }
        return nil
    }

    private func readJSON(_ node: Node) -> JSONTemplate? {
        switch node {
        case .scalar(let scalar):
            if scalar.style == .plain {
                if scalar.string == "null" || scalar.string == "~" { return .null }
                if scalar.string == "true" || scalar.string == "false" { return .bool(scalar.string == "true") }
                if let number = Double(scalar.string), !scalar.string.isEmpty { return .number(number) }
            }
            return templates(reader.interpolate(scalar.string, at: node), node).map { .string($0) }
        case .sequence(let sequence): return .array(sequence.compactMap(readJSON))
        case .mapping:
            var fields: [String: JSONTemplate] = [:]
            for entry in reader.mapping(node, "json") { fields[entry.key] = readJSON(entry.value) }
            return .object(fields)
        default:
            reader.report(node, "json bodies are written as YAML mappings, lists and values")
            return nil
        }
    }

    private func readNumbers(_ fields: [String: Node], into spec: inout HTTPSpec) {
        if let node = fields["timeout"], let text = reader.string(node, "timeout") {
            if let seconds = DurationText.seconds(text), seconds > 0 {
                spec.timeoutSeconds = seconds
            } else {
                reader.report(node, "timeout '\(text)' is not a duration; write 30s or 2m")
            }
        }
        if let node = fields["retries"], let count = reader.int(node, "retries") {
            if (0...10).contains(count) {
                spec.retries = count
            } else {
                reader.report(node, "retries must be from 0 to 10")
            }
        }
        if let node = fields["backoff"], let text = reader.string(node, "backoff") {
            if let seconds = DurationText.interval(text) {
                spec.backoffSeconds = seconds
            } else {
                reader.report(node, "backoff '\(text)' is not a duration; write 500ms or 2s")
            }
        }
        if let node = fields["expect"] {
            let statuses = reader.strings(node, "expect").compactMap { text, item -> Int? in
                guard let status = Int(text), (100...599).contains(status) else {
                    reader.report(item, "'\(text)' is not an HTTP status")
                    return nil
                }
                return status
            }
            spec.expect = statuses
        }
    }

    private func readTable(_ node: Node) -> HTTPTable? {
        var rows: String?
        var columns: [(String, String)] = []
        for entry in reader.mapping(node, "table", allowed: ["rows", "columns"]) {
            if entry.key == "rows" {
                rows = reader.string(entry.value, "rows")
            } else {
                for column in reader.mapping(entry.value, "columns") {
                    if let pointer = reader.string(column.value, "column \(column.key)") {
                        columns.append((column.key, pointer))
                    }
                }
            }
        }
        guard let rows, JSONPointer.isValid(rows), !columns.isEmpty else {
            reader.report(node, "a table needs rows: a JSON pointer to an array, and columns: { name: /pointer }")
            return nil
        }
        return HTTPTable(rows: rows, columns: columns)
    }
}
