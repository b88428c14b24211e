/// One IRC protocol line (RFC 1459/2812, with IRCv3 tags): `@tags :prefix COMMAND params :trailing`.
public struct IRCMessage: Sendable, Equatable {
    public var tags: [String: String]
    public var prefix: String?
    public var command: String
    public var params: [String]

    /// Creates a message.
    public init(_ command: String, _ params: [String] = [], prefix: String? = nil, tags: [String: String] = [:]) {
        self.command = command
        self.params = params
        self.prefix = prefix
        self.tags = tags
    }

    /// Parses a line (without its CR LF); nil for an empty or malformed line.
    public init?(line: String) {
        var rest = Substring(line)
        var tags: [String: String] = [:]
        if rest.hasPrefix("@") {
            guard let space = rest.firstIndex(of: " ") else { return nil }
            for tag in rest[rest.index(after: rest.startIndex)..<space].split(separator: ";") {
                let pair = tag.split(separator: "=", maxSplits: 1)
                tags[String(pair[0])] = pair.count > 1 ? String(pair[1]) : ""
            }
            rest = rest[space...].drop { $0 == " " }
        }
        var prefix: String?
        if rest.hasPrefix(":") {
            guard let space = rest.firstIndex(of: " ") else { return nil }
            prefix = String(rest[rest.index(after: rest.startIndex)..<space])
            rest = rest[space...].drop { $0 == " " }
        }
        var params: [String] = []
        var command: String?
        while !rest.isEmpty {
            if rest.hasPrefix(":") && command != nil {
                params.append(String(rest.dropFirst()))
                break
            }
            let word = rest.prefix { $0 != " " }
            rest = rest.dropFirst(word.count).drop { $0 == " " }
            if command == nil { command = String(word).uppercased() } else { params.append(String(word)) }
        }
        guard let command, !command.isEmpty else { return nil }
        self.init(command, params, prefix: prefix, tags: tags)
    }

    /// The sender's nick, from `nick!user@host`.
    public var nick: String? {
        prefix.map { String($0.prefix { $0 != "!" && $0 != "@" }) }
    }

    /// The line to send (without CR LF). Line breaks in parameters are replaced: a parameter can
    /// never smuggle a second command.
    public var line: String {
        var parts = [command]
        for (index, param) in params.enumerated() {
            let clean = param.replacingOccurrences(of: "\r", with: " ").replacingOccurrences(of: "\n", with: " ")
                .replacingOccurrences(of: "\u{0}", with: "")
            let last = index == params.count - 1
            parts.append(last && (clean.isEmpty || clean.contains(" ") || clean.hasPrefix(":")) ? ":" + clean : clean)
        }
        return parts.joined(separator: " ")
    }
}

/// Splits reply text into IRC-sized lines: at most `limit` bytes each, cut on UTF-8 boundaries.
public enum IRCLines {
    public static func split(_ text: String, limit: Int = 400) -> [String] {
        var lines: [String] = []
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            var line = Substring(raw)
            if line.isEmpty {
                lines.append(" ")
                continue
            }
            while !line.isEmpty {
                var count = 0
                var end = line.startIndex
                for character in line {
                    let size = character.utf8.count
                    if count + size > limit { break }
                    count += size
                    end = line.index(after: end)
                }
                if end == line.startIndex { end = line.index(after: end) }
                lines.append(String(line[..<end]))
                line = line[end...]
            }
        }
        while lines.last == " " { lines.removeLast() }
        return lines
    }
}
