import Foundation

/// A JSON value: Matrix event contents change shape with their type, so the adapter reads and
/// writes them as trees rather than one struct per event type.
public enum MatrixJSON: Sendable, Equatable, Codable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([MatrixJSON])
    case object([String: MatrixJSON])

    /// The member `key` of an object, or nil.
    public subscript(key: String) -> MatrixJSON? {
        if case .object(let members) = self { return members[key] }
        return nil
    }

    /// The text of a string value.
    public var string: String? {
        if case .string(let text) = self { return text }
        return nil
    }

    /// The value of a whole number.
    public var int: Int? {
        switch self {
        case .int(let value): return value
        case .double(let value): return Int(exactly: value)
        default: return nil
        }
    }

    /// The value of a boolean.
    public var bool: Bool? {
        if case .bool(let value) = self { return value }
        return nil
    }

    /// The elements of an array, empty for anything else.
    public var elements: [MatrixJSON] {
        if case .array(let elements) = self { return elements }
        return []
    }

    /// The members of an object, empty for anything else.
    public var members: [String: MatrixJSON] {
        if case .object(let members) = self { return members }
        return [:]
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int.self) {
            self = .int(value)
        } else if let value = try? container.decode(Double.self) {
            self = .double(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([MatrixJSON].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: MatrixJSON].self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .int(let value): try container.encode(value)
        case .double(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }

    /// The value as compact JSON bytes.
    public func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }

    /// Parses JSON bytes.
    public static func decode(_ data: Data) throws -> MatrixJSON {
        try JSONDecoder().decode(MatrixJSON.self, from: data)
    }
}

extension MatrixJSON: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .int(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: MatrixJSON...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, MatrixJSON)...) {
        self = .object(Dictionary(elements) { _, last in last })
    }
}
