/// Replaces every known secret value in text with `••••`, so nothing a script prints can leak one.
public struct SecretMasker: Sendable {
    /// What a masked value looks like.
    public static let mask = "••••"
    private let values: [String]

    /// Creates a masker for these values (short values are masked too: a leak is a leak).
    public init(values: some Sequence<String>) {
        // Longest first, so a secret containing another is masked whole.
        self.values = Set(values.filter { !$0.isEmpty }).sorted { $0.count > $1.count }
    }

    /// True when there is nothing to mask.
    public var isEmpty: Bool { values.isEmpty }

    /// `text` with every secret value replaced.
    public func mask(_ text: String) -> String {
        guard !values.isEmpty else { return text }
        var result = text
        for value in values where result.contains(value) {
            result = result.replacingOccurrences(of: value, with: Self.mask)
        }
        return result
    }

    /// A reply with every text, code, table cell and field masked.
    public func mask(_ reply: Reply) -> Reply {
        guard !values.isEmpty else { return reply }
        return Reply(
            reply.blocks.map { block in
                switch block {
                case .text(let text): return .text(mask(text))
                case .code(let code): return .code(mask(code))
                case .table(let header, let rows): return .table(header: header, rows: rows.map { $0.map(mask) })
                case .fields(let fields): return .fields(fields.map { ReplyField($0.label, mask($0.value)) })
                case .actions: return block
                }
            })
    }
}
