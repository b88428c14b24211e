/// A rule's `when:` condition, parsed once at configuration load: `env == "prod" and app in ["api", "web"]`.
///
/// The language is small on purpose: names (command arguments, `room`, `platform`, `user`, `roles`,
/// `groups`, `command`), string and number literals, lists, `==` `!=` `<` `<=` `>` `>=` `in`
/// `matches`, `and` `or` `not`, and parentheses. A missing optional argument is the empty string,
/// which is false on its own.
public indirect enum Condition: Sendable, Equatable, CustomStringConvertible {
    case literal(ConditionValue)
    case name(String)
    case list([Condition])
    case not(Condition)
    case and(Condition, Condition)
    case or(Condition, Condition)
    case compare(Condition, ComparisonOperator, Condition)

    /// Parses a condition, or says where it is malformed.
    public static func parse(_ source: String) throws(ConditionError) -> Condition {
        var parser = ConditionParser(tokens: try ConditionLexer.tokens(source), source: source)
        let condition = try parser.parseOr()
        if let extra = parser.peek {
            throw ConditionError(message: "unexpected '\(extra.text)'", column: extra.column)
        }
        return condition
    }

    /// Every name the condition refers to.
    public var names: Set<String> {
        switch self {
        case .literal: return []
        case .name(let name): return [name]
        case .list(let items): return items.reduce(into: Set()) { $0.formUnion($1.names) }
        case .not(let inner): return inner.names
        case .and(let a, let b), .or(let a, let b), .compare(let a, _, let b): return a.names.union(b.names)
        }
    }

    /// Evaluates the condition over named values; true or false, never an error.
    public func evaluate(_ values: [String: ConditionValue]) -> Bool {
        value(values).isTruthy
    }

    func value(_ values: [String: ConditionValue]) -> ConditionValue {
        switch self {
        case .literal(let value): return value
        case .name(let name): return values[name] ?? .string("")
        case .list(let items): return .list(items.map { $0.value(values) })
        case .not(let inner): return .bool(!inner.value(values).isTruthy)
        case .and(let a, let b): return .bool(a.value(values).isTruthy && b.value(values).isTruthy)
        case .or(let a, let b): return .bool(a.value(values).isTruthy || b.value(values).isTruthy)
        case .compare(let a, let op, let b): return .bool(op.apply(a.value(values), b.value(values)))
        }
    }

    /// The condition written back in its own language.
    public var description: String {
        switch self {
        case .literal(let value): return value.description
        case .name(let name): return name
        // A list item that is not a single value is parenthesized, so it reads back as one item
        // (`[(a in b)]`, found by the condition fuzzer).
        case .list(let items): return "[" + items.map(\.operand).joined(separator: ", ") + "]"
        case .not(let inner):
            if case .not = inner { return "not \(inner.description)" }
            return "not \(inner.operand)"
        // `and` binds tighter than `or` and both group to the left, as the parser reads them: only
        // what would otherwise read differently is parenthesized, so a long chain stays flat.
        case .and(let a, let b):
            let left = if case .or = a { "(\(a.description))" } else { a.description }
            return "\(left) and \(b.wrapped)"
        case .or(let a, let b):
            let right = if case .or = b { "(\(b.description))" } else { b.description }
            return "\(a.description) or \(right)"
        case .compare(let a, let op, let b): return "\(a.operand) \(op.rawValue) \(b.operand)"
        }
    }

    /// As the operand of `not` or a comparison: anything but a single value is parenthesized, so
    /// `not (a in b)` and `n >= (x == y)` read back as they were (found by the condition fuzzer).
    private var operand: String {
        switch self {
        case .and, .or, .not, .compare: return "(\(description))"
        default: return description
        }
    }

    private var wrapped: String {
        switch self {
        case .and, .or: return "(\(description))"
        default: return description
        }
    }
}

/// A value in a condition: text, a whole number, a boolean or a list.
public enum ConditionValue: Sendable, Equatable, CustomStringConvertible {
    case string(String)
    case number(Int)
    case bool(Bool)
    case list([ConditionValue])

    var isTruthy: Bool {
        switch self {
        case .string(let text): return !text.isEmpty
        case .number(let number): return number != 0
        case .bool(let value): return value
        case .list(let items): return !items.isEmpty
        }
    }

    /// A number when the value is one or is text that reads as one.
    var number: Int? {
        switch self {
        case .number(let number): return number
        case .string(let text): return Int(text)
        default: return nil
        }
    }

    var text: String {
        switch self {
        case .string(let text): return text
        case .number(let number): return String(number)
        case .bool(let value): return value ? "true" : "false"
        case .list(let items): return items.map(\.text).joined(separator: ",")
        }
    }

    public var description: String {
        switch self {
        case .string(let text):
            return "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
                + "\""
        case .number(let number): return String(number)
        case .bool(let value): return value ? "true" : "false"
        case .list(let items): return "[" + items.map(\.description).joined(separator: ", ") + "]"
        }
    }
}

/// A comparison in a condition.
public enum ComparisonOperator: String, Sendable, CaseIterable {
    case equal = "=="
    case notEqual = "!="
    case less = "<"
    case lessOrEqual = "<="
    case greater = ">"
    case greaterOrEqual = ">="
    case isIn = "in"
    case matches = "matches"

    func apply(_ a: ConditionValue, _ b: ConditionValue) -> Bool {
        switch self {
        case .equal: return Self.equal(a, b)
        case .notEqual: return !Self.equal(a, b)
        case .less, .lessOrEqual, .greater, .greaterOrEqual:
            let order: Int
            if let x = a.number, let y = b.number {
                order = x < y ? -1 : (x == y ? 0 : 1)
            } else {
                order = a.text < b.text ? -1 : (a.text == b.text ? 0 : 1)
            }
            switch self {
            case .less: return order < 0
            case .lessOrEqual: return order <= 0
            case .greater: return order > 0
            default: return order >= 0
            }
        case .isIn:
            if case .list(let items) = b { return items.contains { Self.equal(a, $0) } }
            return b.text.contains(a.text)
        case .matches:
            return GlobPattern.matches(pattern: b.text, text: a.text)
        }
    }

    static func equal(_ a: ConditionValue, _ b: ConditionValue) -> Bool {
        if let x = a.number, let y = b.number { return x == y }
        switch (a, b) {
        case (.list(let x), .list(let y)): return x.count == y.count && zip(x, y).allSatisfy { equal($0, $1) }
        case (.bool(let x), _): return x == b.isTruthy
        case (_, .bool(let y)): return a.isTruthy == y
        default: return a.text.caseInsensitiveCompare(b.text) == .orderedSame
        }
    }
}

/// Why a condition could not be parsed, with the column (from 1) where the problem is.
public struct ConditionError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What is wrong.
    public var message: String
    /// Where, counting from 1.
    public var column: Int

    public var description: String { "\(message) at column \(column)" }
}
