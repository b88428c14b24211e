import Yams

/// Reads a YAML node tree while collecting every problem with its line and column.
///
/// Reading never stops at the first problem: `parley config check` reports them all at once.
final class YAMLReader {
    let file: String
    let environment: [String: String]
    private(set) var issues: [ConfigIssue] = []
    /// How many unknown keys were reported; a caller can tell whether a missing key was a typo.
    private(set) var unknownKeys = 0

    init(file: String, environment: [String: String]) {
        self.file = file
        self.environment = environment
    }

    func report(_ node: Node?, _ message: String) {
        let mark = node?.mark
        issues.append(ConfigIssue(file: file, line: mark?.line ?? 0, column: mark?.column ?? 0, message: message))
    }

    func report(line: Int, column: Int, _ message: String) {
        issues.append(ConfigIssue(file: file, line: line, column: column, message: message))
    }

    /// The entries of a mapping with string keys, reporting keys not in `allowed` (when given).
    func mapping(_ node: Node, _ what: String, allowed: [String]? = nil) -> [(key: String, keyNode: Node, value: Node)]
    {
        guard case .mapping(let mapping) = node else {
            report(node, "\(what) must be a mapping of keys to values")
            return []
        }
        var entries: [(String, Node, Node)] = []
        for (keyNode, value) in mapping {
            guard case .scalar(let scalar) = keyNode else {
                report(keyNode, "keys in \(what) must be plain words")
                continue
            }
            let key = scalar.string
            if let allowed, !allowed.contains(key) {
                let near = allowed.filter { EditDistance.between($0, key) <= max(2, key.count / 3) }
                unknownKeys += 1
                let hint =
                    near.isEmpty ? "known keys: " + allowed.joined(separator: ", ") : "did you mean '\(near[0])'?"
                report(keyNode, "unknown key '\(key)' in \(what); \(hint)")
                continue
            }
            entries.append((key, keyNode, value))
        }
        return entries
    }

    /// A scalar as text, with `${VAR}` and `${VAR:-default}` replaced from the environment.
    func string(_ node: Node, _ what: String) -> String? {
        guard case .scalar(let scalar) = node else {
            report(node, "\(what) must be a single value, not a list or mapping")
            return nil
        }
        return interpolate(scalar.string, at: node)
    }

    func strings(_ node: Node, _ what: String) -> [(String, Node)] {
        if case .scalar = node, let single = string(node, what) { return [(single, node)] }
        guard case .sequence(let sequence) = node else {
            report(node, "\(what) must be a list")
            return []
        }
        return sequence.compactMap { item in string(item, "each entry of \(what)").map { ($0, item) } }
    }

    func int(_ node: Node, _ what: String) -> Int? {
        guard let text = string(node, what) else { return nil }
        guard let value = Int(text) else {
            report(node, "\(what) must be a whole number, got '\(text)'")
            return nil
        }
        return value
    }

    func bool(_ node: Node, _ what: String) -> Bool? {
        guard let text = string(node, what) else { return nil }
        guard text == "true" || text == "false" else {
            report(node, "\(what) must be true or false, got '\(text)'")
            return nil
        }
        return text == "true"
    }

    func interpolate(_ text: String, at node: Node) -> String {
        guard text.contains("$") else { return text }
        var result = ""
        var index = text.startIndex
        while index < text.endIndex {
            let rest = text[index...]
            if rest.hasPrefix("$$") {
                result.append("$")
                index = text.index(index, offsetBy: 2)
            } else if rest.hasPrefix("${"), let close = rest.firstIndex(of: "}") {
                let body = String(rest[rest.index(index, offsetBy: 2)..<close])
                let parts = body.components(separatedBy: ":-")
                let name = parts[0]
                if let value = environment[name], !value.isEmpty {
                    result += value
                } else if parts.count > 1 {
                    result += parts.dropFirst().joined(separator: ":-")
                } else {
                    report(node, "environment variable \(name) is not set; set it or write ${\(name):-default}")
                }
                index = text.index(after: close)
            } else {
                result.append(text[index])
                index = text.index(after: index)
            }
        }
        return result
    }
}
