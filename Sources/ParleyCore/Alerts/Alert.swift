import Crypto
import Foundation

/// Whether an alert is going on.
public enum AlertStatus: String, Sendable, Codable, Equatable {
    case firing, resolved
}

/// One alert as a monitoring source reported it: labels identify it, annotations describe it.
/// A value with one field per part of an alert every source has.
public struct Alert: Sendable, Equatable, Codable {
    /// Where it came from: `alertmanager`, `grafana`, `github`, or a generic source's name.
    public var source: String
    /// Identifies the alert across notifications: the same fingerprint is the same alert.
    public var fingerprint: String
    public var status: AlertStatus
    public var labels: [String: String]
    public var annotations: [String: String]
    public var startsAt: Date?
    public var endsAt: Date?
    /// A link back to the source (a graph, a workflow run).
    public var url: String?

    /// Creates an alert; without a fingerprint, one is computed from the source and labels.
    public init(
        source: String, fingerprint: String? = nil, status: AlertStatus, labels: [String: String],
        annotations: [String: String] = [:], startsAt: Date? = nil, endsAt: Date? = nil, url: String? = nil
    ) {
        self.source = source
        self.fingerprint =
            fingerprint.flatMap { $0.isEmpty ? nil : $0 } ?? Self.fingerprint(source: source, labels: labels)
        self.status = status
        self.labels = labels
        self.annotations = annotations
        self.startsAt = startsAt
        self.endsAt = endsAt
        self.url = url
    }

    /// The alert's name (`alertname` label), or `alert`.
    public var name: String { labels["alertname"] ?? "alert" }

    /// A stable fingerprint: the first 16 hex digits of SHA-256 over the source and sorted labels.
    public static func fingerprint(source: String, labels: [String: String]) -> String {
        var text = source
        for key in labels.keys.sorted() { text += "\u{1F}\(key)\u{1E}\(labels[key] ?? "")" }
        return String(HexDigest.sha256(text).prefix(16))
    }
}

/// A label matcher as Alertmanager writes them: `name=value`, `name!=value`, `name=~regex`, `name!~regex`.
public struct LabelMatcher: Sendable, Equatable, CustomStringConvertible {
    public var name: String
    public var value: String
    public var isRegex: Bool
    public var isEqual: Bool
    private let regex: RegexPattern?

    /// Parses one matcher; nil with a reason in `problem` when it is not one.
    public init(parsing text: String) throws(LabelMatcherError) {
        let operators = ["=~", "!~", "!=", "="]
        guard
            let (op, range) = operators.lazy.compactMap({ op in text.range(of: op).map { (op, $0) } })
                .min(by: { $0.1.lowerBound < $1.1.lowerBound })
        else { throw LabelMatcherError(text: text, reason: "needs =, !=, =~ or !~, as in alertname=HighCPU") }
        let name = String(text[..<range.lowerBound]).trimmingCharacters(in: .whitespaces)
        var value = String(text[range.upperBound...]).trimmingCharacters(in: .whitespaces)
        if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") {
            value = String(value.dropFirst().dropLast())
        }
        guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }),
            !(name.first?.isNumber ?? true)
        else { throw LabelMatcherError(text: text, reason: "'\(name)' is not a label name") }
        self.name = name
        self.value = value
        isRegex = op.hasSuffix("~")
        isEqual = !op.hasPrefix("!")
        if isRegex {
            let pattern = RegexPattern(value)
            guard pattern.isValid else {
                throw LabelMatcherError(text: text, reason: "'\(value)' is not a valid regular expression")
            }
            regex = pattern
        } else {
            regex = nil
        }
    }

    /// Whether labels satisfy the matcher (a missing label is the empty string, as in Alertmanager).
    public func matches(_ labels: [String: String]) -> Bool {
        let actual = labels[name] ?? ""
        let hit = regex.map { $0.matches(actual) } ?? (actual == value)
        return hit == isEqual
    }

    public var description: String { name + (isEqual ? "" : "!") + (isRegex ? "=~" : "=") + value }

    public static func == (lhs: LabelMatcher, rhs: LabelMatcher) -> Bool { lhs.description == rhs.description }
}

/// A matcher that could not be read.
public struct LabelMatcherError: Error, Sendable, Equatable, CustomStringConvertible {
    public var text: String
    public var reason: String
    public var description: String { "'\(text)': \(reason)" }
}
