import Foundation

/// The type of a placeholder in a usage template: what it accepts and how it says no.
public enum ParameterType: Sendable, Equatable, CustomStringConvertible {
    /// One word, or a quoted string.
    case string
    /// A whole number, optionally within bounds.
    case int(min: Int?, max: Int?)
    /// A duration such as `90s`, `10m`, `2h` or `1h30m`.
    case duration
    /// One of a fixed list of words, matched case-insensitively.
    case choice([String])
    /// A word that wholly matches a regular expression.
    case regex(RegexPattern)
    /// The rest of the line, verbatim.
    case text

    /// Parses a type as written after the colon in `{name:type}`.
    public static func parse(_ spec: String) throws(UsageError) -> ParameterType {
        let spec = spec.trimmingCharacters(in: .whitespaces)
        func argument(of name: String) -> String? {
            guard spec.hasPrefix(name + "("), spec.hasSuffix(")") else { return nil }
            return String(spec.dropFirst(name.count + 1).dropLast())
        }
        switch spec {
        case "", "string": return .string
        case "int": return .int(min: nil, max: nil)
        case "duration": return .duration
        case "text": return .text
        default: break
        }
        if let list = argument(of: "choice") {
            let choices = list.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            guard !choices.isEmpty, !choices.contains(where: \.isEmpty) else {
                throw .badType(spec, "choice needs a comma-separated list of words, e.g. choice(staging,prod)")
            }
            return .choice(choices)
        }
        if let pattern = argument(of: "regex") {
            do {
                _ = try NSRegularExpression(pattern: pattern)
            } catch {
                throw .badType(spec, "invalid regular expression '\(pattern)'")
            }
            return .regex(RegexPattern(pattern))
        }
        if let bounds = argument(of: "int") {
            let parts = bounds.components(separatedBy: "..")
            guard parts.count == 2 else { throw .badType(spec, "write int bounds as int(MIN..MAX)") }
            let low = parts[0].trimmingCharacters(in: .whitespaces)
            let high = parts[1].trimmingCharacters(in: .whitespaces)
            let min = low.isEmpty ? nil : Int(low)
            let max = high.isEmpty ? nil : Int(high)
            guard low.isEmpty || min != nil, high.isEmpty || max != nil else {
                throw .badType(spec, "int bounds must be whole numbers, as in int(1..20)")
            }
            if let min, let max, min > max { throw .badType(spec, "int lower bound is above its upper bound") }
            return .int(min: min, max: max)
        }
        throw .badType(spec, "known types are string, int, duration, choice(a,b), regex(…) and text")
    }

    /// Checks a value given for the placeholder `name`, returning its normalized form.
    public func accept(_ given: String, name: String) -> Result<ArgumentValue, ArgumentProblem> {
        switch self {
        case .string, .text:
            return .success(.init(text: given))
        case .int(let min, let max):
            guard let number = Int(given) else {
                return .failure(.init(argument: name, given: given, expected: "a whole number"))
            }
            if let min, number < min {
                return .failure(.init(argument: name, given: given, expected: boundsText(min, max)))
            }
            if let max, number > max {
                return .failure(.init(argument: name, given: given, expected: boundsText(min, max)))
            }
            return .success(.init(text: String(number), number: number))
        case .duration:
            guard let seconds = DurationText.seconds(given) else {
                return .failure(.init(argument: name, given: given, expected: "a duration such as 90s, 10m or 2h"))
            }
            return .success(.init(text: given, number: seconds))
        case .choice(let choices):
            if let match = choices.first(where: { $0.caseInsensitiveCompare(given) == .orderedSame }) {
                return .success(.init(text: match))
            }
            return .failure(.init(argument: name, given: given, expected: Self.list(choices), isUnknownChoice: true))
        case .regex(let pattern):
            if pattern.matches(given) {
                return .success(.init(text: given))
            }
            return .failure(.init(argument: name, given: given, expected: "a value matching /\(pattern)/"))
        }
    }

    /// Whether a literal word could be taken by this placeholder; used to find ambiguous usages.
    func couldAccept(word: String) -> Bool {
        if case .success = accept(word, name: "") { return true }
        return false
    }

    private func boundsText(_ min: Int?, _ max: Int?) -> String {
        switch (min, max) {
        case (let min?, let max?): return "a whole number from \(min) to \(max)"
        case (let min?, nil): return "a whole number of at least \(min)"
        case (nil, let max?): return "a whole number of at most \(max)"
        case (nil, nil): return "a whole number"
        }
    }

    /// `a, b or c`.
    public static func list(_ words: [String]) -> String {
        guard words.count > 1 else { return words.first ?? "" }
        return words.dropLast().joined(separator: ", ") + " or " + words.last!
    }

    /// The type as written in a usage template.
    public var description: String {
        switch self {
        case .string: return "string"
        case .int(nil, nil): return "int"
        case .int(let min, let max): return "int(\(min.map(String.init) ?? "")..\(max.map(String.init) ?? ""))"
        case .duration: return "duration"
        case .choice(let choices): return "choice(\(choices.joined(separator: ",")))"
        case .regex(let pattern): return "regex(\(pattern))"
        case .text: return "text"
        }
    }
}

/// A `regex(…)` type's pattern, compiled once when the usage is read.
public struct RegexPattern: @unchecked Sendable, Equatable, CustomStringConvertible, ExpressibleByStringLiteral {
    // NSRegularExpression is immutable once made, so sharing it between tasks is safe.
    /// The pattern as written.
    public let source: String
    let expression: NSRegularExpression?

    /// Compiles a pattern that must match a whole word.
    public init(_ source: String) {
        self.source = source
        expression = try? NSRegularExpression(pattern: "^(?:" + source + ")$")
    }

    public init(stringLiteral value: String) { self.init(value) }

    /// Whether the pattern compiled.
    public var isValid: Bool { expression != nil }

    func matches(_ text: String) -> Bool {
        expression?.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
    }

    public var description: String { source }
    public static func == (lhs: RegexPattern, rhs: RegexPattern) -> Bool { lhs.source == rhs.source }
}

/// A value bound to a placeholder: its text and, for numbers and durations, its number.
public struct ArgumentValue: Sendable, Equatable, Codable {
    /// The value as text (choices normalized to their declared spelling).
    public var text: String
    /// The whole number for `int`, the seconds for `duration`.
    public var number: Int?

    /// Creates a value.
    public init(text: String, number: Int? = nil) {
        self.text = text
        self.number = number
    }
}

/// Why a value was refused by its placeholder's type.
public struct ArgumentProblem: Error, Sendable, Equatable {
    /// The placeholder's name.
    public var argument: String
    /// What the person typed.
    public var given: String
    /// What would have been accepted.
    public var expected: String
    /// True when the type is a choice, which reads better as "unknown env 'moon'".
    public var isUnknownChoice = false

    /// The problem in a sentence.
    public var message: String {
        if isUnknownChoice { return "unknown \(argument) '\(given)'; expected \(expected)" }
        return "invalid \(argument) '\(given)'; expected \(expected)"
    }
}

/// Reads durations written as `90s`, `10m`, `2h`, `1d` or combinations such as `1h30m`.
public enum DurationText {
    /// The wait before retry number `attempt` (2, 3 …) with a doubling backoff from `base` seconds,
    /// never more than an hour and never a trap, however large the configured base.
    public static func backoff(_ base: Double, attempt: Int) -> Duration {
        let doublings = Double(max(0, min(attempt - 2, 30)))
        let seconds = base.isFinite ? max(0, base) * pow(2, doublings) : 0
        return .milliseconds(Int64(min(seconds, 3600) * 1000))
    }

    /// Seconds, with fractions: the forms of `seconds(_:)` and also milliseconds (`500ms`), for backoffs.
    public static func interval(_ text: String) -> Double? {
        if text.hasSuffix("ms") {
            // Digits and one dot only: `Double` would also take "inf", "nan" and "1e400".
            let number = text.dropLast(2)
            guard !number.isEmpty, number.count <= 15, number.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }),
                let milliseconds = Double(number), milliseconds.isFinite
            else { return nil }
            return milliseconds / 1000
        }
        return seconds(text).map(Double.init)
    }

    /// The number of whole seconds in `text`, or nil when it is not a duration.
    public static func seconds(_ text: String) -> Int? {
        guard !text.isEmpty, text.count <= 32 else { return nil }
        var total = 0
        var digits = ""
        var sawUnit = false
        for character in text.lowercased() {
            if character.isASCII && character.isNumber {
                digits.append(character)
                continue
            }
            guard let value = Int(digits) else { return nil }
            let unit: Int
            switch character {
            case "s": unit = 1
            case "m": unit = 60
            case "h": unit = 3600
            case "d": unit = 86400
            default: return nil
            }
            let (product, overflowA) = value.multipliedReportingOverflow(by: unit)
            let (sum, overflowB) = total.addingReportingOverflow(product)
            guard !overflowA, !overflowB else { return nil }
            total = sum
            digits = ""
            sawUnit = true
        }
        guard sawUnit, digits.isEmpty else { return nil }
        return total
    }
}
