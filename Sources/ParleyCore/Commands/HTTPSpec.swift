import Foundation

/// An HTTP request to make: method, URL, headers and body rendered from arguments and secrets,
/// retried with backoff on connection errors and 5xx, with fields of the JSON response extracted.
/// A value with a field per key of an `http` action.
public struct HTTPSpec: Sendable, Equatable {
    public var method: String
    public var url: TextTemplate
    public var headers: [String: TextTemplate]
    public var body: HTTPBodyTemplate?
    public var timeoutSeconds: Int
    /// Extra attempts after the first, on connection errors and 5xx (never on 4xx).
    public var retries: Int
    /// The wait before the first retry; it doubles each time.
    public var backoffSeconds: Double
    /// Statuses that count as success; nil means any 2xx.
    public var expect: [Int]?
    /// Outputs by name, each a JSON pointer into the response (`/html_url`).
    public var extract: [String: String]
    /// Renders a JSON array in the response as the reply's table.
    public var table: HTTPTable?

    /// Creates a request spec.
    public init(
        method: String, url: TextTemplate, headers: [String: TextTemplate] = [:], body: HTTPBodyTemplate? = nil,
        timeoutSeconds: Int = 30, retries: Int = 2, backoffSeconds: Double = 1, expect: [Int]? = nil,
        extract: [String: String] = [:], table: HTTPTable? = nil
    ) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeoutSeconds = timeoutSeconds
        self.retries = retries
        self.backoffSeconds = backoffSeconds
        self.expect = expect
        self.extract = extract
        self.table = table
    }
}

/// A request body: JSON built from a template tree, a form, or text.
public enum HTTPBodyTemplate: Sendable, Equatable {
    case json(JSONTemplate)
    case form([(String, TextTemplate)])
    case text(TextTemplate)

    public static func == (lhs: HTTPBodyTemplate, rhs: HTTPBodyTemplate) -> Bool {
        switch (lhs, rhs) {
        case (.json(let a), .json(let b)): return a == b
        case (.text(let a), .text(let b)): return a == b
        case (.form(let a), .form(let b)): return a.map(\.0) == b.map(\.0) && a.map(\.1) == b.map(\.1)
        default: return false
        }
    }
}

/// A JSON value whose strings are templates.
public indirect enum JSONTemplate: Sendable, Equatable {
    case string(TextTemplate)
    case number(Double)
    case bool(Bool)
    case null
    case array([JSONTemplate])
    case object([String: JSONTemplate])

    /// The JSON value with every string rendered.
    public func render(_ context: [String: Any]) -> Any {
        switch self {
        case .string(let template): return template.render(context)
        case .number(let number): return number == number.rounded() && abs(number) < 1e15 ? Int(number) as Any : number
        case .bool(let value): return value
        case .null: return NSNull()
        case .array(let items): return items.map { $0.render(context) }
        case .object(let fields): return fields.mapValues { $0.render(context) }
        }
    }

    /// Every template in the tree.
    public var templates: [TextTemplate] {
        switch self {
        case .string(let template): return [template]
        case .array(let items): return items.flatMap(\.templates)
        case .object(let fields): return fields.values.flatMap(\.templates)
        default: return []
        }
    }
}

/// How a JSON array in a response becomes a table: the rows' pointer and a pointer per column.
public struct HTTPTable: Sendable, Equatable {
    public var rows: String
    public var columns: [(name: String, pointer: String)]

    public init(rows: String, columns: [(name: String, pointer: String)]) {
        self.rows = rows
        self.columns = columns
    }

    public static func == (lhs: HTTPTable, rhs: HTTPTable) -> Bool {
        lhs.rows == rhs.rows && lhs.columns.map(\.name) == rhs.columns.map(\.name)
            && lhs.columns.map(\.pointer) == rhs.columns.map(\.pointer)
    }
}
