/// Decides whether a message speaks to Parley, and strips the prefix or mention if so.
public struct Addressing: Sendable, Equatable {
    /// The command prefix, `!` by default.
    public var prefix: String
    /// Names the bot answers to when mentioned: `@parley deploy …`, `parley: deploy …`.
    public var names: [String]

    /// Creates addressing rules.
    public init(prefix: String = "!", names: [String] = ["parley"]) {
        self.prefix = prefix
        self.names = names
    }

    /// The command text if `text` is addressed to Parley, else nil (the message is ignored).
    ///
    /// In a direct conversation everything is addressed; a prefix or mention there is still removed.
    public func commandText(in text: String, isDirect: Bool) -> String? {
        let trimmed = text.trimmingLeadingWhitespace().trimmingTrailingWhitespace()
        guard var stripped = strip(trimmed) else { return isDirect ? trimmed : nil }
        // "@parley @parley echo x" (a mention typed twice, or a client that inserts one): the command
        // is what follows the last of them.
        var rounds = 0
        while rounds < 8, let again = stripMention(stripped) {
            stripped = again
            rounds += 1
        }
        return stripped
    }

    private func strip(_ text: String) -> String? {
        if !prefix.isEmpty, text.hasPrefix(prefix) {
            return String(text.dropFirst(prefix.count)).trimmingLeadingWhitespace()
        }
        return stripMention(text)
    }

    private func stripMention(_ text: String) -> String? {
        for name in names {
            for form in ["@" + name, name] {
                guard text.lowercased().hasPrefix(form.lowercased()) else { continue }
                let rest = text.dropFirst(form.count)
                // "@parley deploy", "parley: deploy", "parley, deploy" — but not "parleying about".
                if form.hasPrefix("@"), rest.first.map({ $0.isWhitespace || $0 == ":" || $0 == "," }) ?? true {
                    return String(rest.drop { $0 == ":" || $0 == "," }).trimmingLeadingWhitespace()
                }
                if let first = rest.first, first == ":" || first == "," {
                    return String(rest.dropFirst()).trimmingLeadingWhitespace()
                }
            }
        }
        return nil
    }
}

extension String {
    func trimmingLeadingWhitespace() -> String {
        String(drop { $0.isWhitespace })
    }
}
