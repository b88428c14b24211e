/// A platform-neutral answer; each adapter renders it in its own dialect.
public struct Reply: Sendable, Equatable, Codable {
    /// The parts of the reply, in order.
    public var blocks: [ReplyBlock]

    /// Creates a reply from blocks.
    public init(_ blocks: [ReplyBlock]) {
        self.blocks = blocks
    }

    /// A reply made of one paragraph of text.
    public static func text(_ text: String) -> Reply { Reply([.text(text)]) }

    /// The reply as plain text, the fallback every platform can show.
    public var plainText: String {
        blocks.map(\.plainText).joined(separator: "\n")
    }
}

/// One part of a reply.
public enum ReplyBlock: Sendable, Equatable, Codable {
    /// A paragraph of prose.
    case text(String)
    /// Preformatted output, such as a program's output.
    case code(String)
    /// Rows under a header line.
    case table(header: [String], rows: [[String]])
    /// Label and value pairs.
    case fields([ReplyField])
    /// Buttons that send a command when pressed (approve/deny); text platforms show the commands.
    case actions([ReplyAction])

    /// The block as plain text.
    public var plainText: String {
        switch self {
        case .text(let text): return text
        case .code(let code): return code.hasSuffix("\n") ? String(code.dropLast()) : code
        case .table(let header, let rows): return TableLayout(header: header, rows: rows).render()
        case .fields(let fields):
            let width = fields.map(\.label.count).max() ?? 0
            return fields.map { field in
                field.label + ":" + String(repeating: " ", count: width - field.label.count + 1)
                    + field.value
            }.joined(separator: "\n")
        case .actions(let actions):
            return actions.map { "[\($0.label): \($0.command)]" }.joined(separator: " ")
        }
    }
}

extension ReplyBlock {
    private enum CodingKeys: String, CodingKey {
        case type, text, header, rows, fields, actions
    }

    /// Encodes as `{"type": "text", "text": …}`, `{"type": "table", "header": […], "rows": […]}` and so on.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .text(let text):
            try container.encode("text", forKey: .type)
            try container.encode(text, forKey: .text)
        case .code(let code):
            try container.encode("code", forKey: .type)
            try container.encode(code, forKey: .text)
        case .table(let header, let rows):
            try container.encode("table", forKey: .type)
            try container.encode(header, forKey: .header)
            try container.encode(rows, forKey: .rows)
        case .fields(let fields):
            try container.encode("fields", forKey: .type)
            try container.encode(fields, forKey: .fields)
        case .actions(let actions):
            try container.encode("actions", forKey: .type)
            try container.encode(actions, forKey: .actions)
        }
    }

    /// Decodes the form `encode(to:)` writes.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        switch try container.decode(String.self, forKey: .type) {
        case "text": self = .text(try container.decode(String.self, forKey: .text))
        case "code": self = .code(try container.decode(String.self, forKey: .text))
        case "table":
            self = .table(
                header: try container.decode([String].self, forKey: .header),
                rows: try container.decode([[String]].self, forKey: .rows))
        case "fields": self = .fields(try container.decode([ReplyField].self, forKey: .fields))
        case "actions": self = .actions(try container.decode([ReplyAction].self, forKey: .actions))
        case let other:
            throw DecodingError.dataCorruptedError(
                forKey: .type, in: container, debugDescription: "unknown reply block type '\(other)'")
        }
    }
}

/// A button: its label, and the command it sends as the person who presses it.
public struct ReplyAction: Sendable, Equatable, Codable {
    /// What the button says.
    public var label: String
    /// The command pressing it sends, e.g. `approve K7QXM2TA`.
    public var command: String
    /// `primary` or `danger`, for platforms that colour buttons.
    public var style: String

    /// Creates a button.
    public init(label: String, command: String, style: String = "primary") {
        self.label = label
        self.command = command
        self.style = style
    }
}

/// A label and its value, shown side by side.
public struct ReplyField: Sendable, Equatable, Codable {
    /// The label.
    public var label: String
    /// The value.
    public var value: String

    /// Creates a field.
    public init(_ label: String, _ value: String) {
        self.label = label
        self.value = value
    }
}

/// Lays out a table in fixed-width columns for plain-text platforms.
struct TableLayout {
    let header: [String]
    let rows: [[String]]

    func render() -> String {
        let columns = max(header.count, rows.map(\.count).max() ?? 0)
        var widths = [Int](repeating: 0, count: columns)
        for row in [header] + rows {
            for (index, cell) in row.enumerated() { widths[index] = max(widths[index], cell.count) }
        }
        func line(_ row: [String]) -> String {
            var cells: [String] = []
            for index in 0..<columns {
                let cell = index < row.count ? row[index] : ""
                cells.append(cell + String(repeating: " ", count: widths[index] - cell.count))
            }
            return cells.joined(separator: "  ").trimmingTrailingSpaces()
        }
        return ([line(header)] + rows.map(line)).joined(separator: "\n")
    }
}

extension String {
    func trimmingTrailingSpaces() -> String {
        var result = self
        while result.last == " " { result.removeLast() }
        return result
    }
}
