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

    /// The length of the longest secret in UTF-8 bytes: how much past a cut must be read to mask a
    /// secret that straddles it.
    public var longestValueBytes: Int { values.first.map { $0.utf8.count } ?? 0 }

    /// `text` masked, then cut to at most `maxBytes` UTF-8 bytes between characters. A secret that
    /// straddled the cut was masked whole before it; the start of a secret left at the cut's end (the
    /// text that follows is not known) is masked too, so no part of a secret shows.
    public func maskAndCut(_ text: String, maxBytes: Int) -> String {
        let masked = mask(text)
        guard masked.utf8.count > maxBytes else { return masked }
        var end = masked.startIndex
        var bytes = 0
        for index in masked.indices {
            let size = masked[index].utf8.count
            if bytes + size > maxBytes { break }
            bytes += size
            end = masked.index(after: index)
        }
        let cut = String(masked[..<end])
        return maskTrailingPrefix(cut)
    }

    /// `text` with a secret's start at its very end masked (three characters or more, or a whole
    /// short secret).
    public func maskTrailingPrefix(_ text: String) -> String {
        var longest = 0
        for value in values {
            var length = min(value.count - 1, text.count)
            while length >= min(3, value.count - 1), length > longest {
                if text.hasSuffix(value.prefix(length)) {
                    longest = length
                    break
                }
                length -= 1
            }
        }
        guard longest > 0 else { return text }
        return String(text.dropLast(longest)) + Self.mask
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
