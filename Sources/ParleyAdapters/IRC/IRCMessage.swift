/// One IRC protocol line (RFC 1459/2812, with IRCv3 tags): `@tags :prefix COMMAND params :trailing`.
public struct IRCMessage: Sendable, Equatable {
    /// IRCv3 message tags (`time`, `msgid` …), values unescaped.
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

    /// Parses a line (without its CR LF); nil for an empty or malformed line. It is read by Unicode
    /// scalar, not by character: a space followed by a combining mark is one character in Swift but
    /// still the separator IRC's grammar sees.
    public init?(line: String) {
        typealias Scalars = Substring.UnicodeScalarView
        func text(_ scalars: Scalars.SubSequence) -> String { String(Substring(Scalars(scalars))) }
        var rest = Substring(line).unicodeScalars[...]
        var tags: [String: String] = [:]
        if rest.first == "@" {
            guard let space = rest.firstIndex(of: " ") else { return nil }
            for tag in rest[rest.index(after: rest.startIndex)..<space].split(separator: ";") {
                let pair = tag.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                guard !pair[0].isEmpty else { continue }
                tags[text(pair[0])] = pair.count > 1 ? IRCTagValue.unescape(Substring(text(pair[1]))) : ""
            }
            rest = rest[space...].drop { $0 == " " }
        }
        var prefix: String?
        if rest.first == ":" {
            guard let space = rest.firstIndex(of: " ") else { return nil }
            prefix = text(rest[rest.index(after: rest.startIndex)..<space])
            rest = rest[space...].drop { $0 == " " }
        }
        var params: [String] = []
        var command: String?
        while !rest.isEmpty {
            if rest.first == ":" && command != nil {
                params.append(text(rest.dropFirst()))
                break
            }
            let word = rest.prefix { $0 != " " }
            rest = rest.dropFirst(word.count).drop { $0 == " " }
            if command == nil { command = text(word).uppercased() } else { params.append(text(word)) }
        }
        // A command is letters or a three-digit numeric (RFC 2812 §2.3.1): anything else, such as a
        // second `@`, is a malformed line (found by the IRC fuzzer).
        guard let command, !command.isEmpty,
            command.unicodeScalars.allSatisfy({ $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0)) }
            )
        else { return nil }
        self.init(command, params, prefix: prefix, tags: tags)
    }

    /// `text` with CR and LF made spaces and NUL removed, scalar by scalar (Foundation's search would
    /// miss one followed by a combining mark, which forms one character with it).
    static func oneLine(_ text: String) -> String {
        var scalars = String.UnicodeScalarView()
        for scalar in text.unicodeScalars where scalar != "\u{0}" {
            scalars.append(scalar == "\r" || scalar == "\n" ? " " : scalar)
        }
        return String(scalars)
    }

    /// The sender's nick, from `nick!user@host`.
    public var nick: String? {
        prefix.map { String($0.prefix { $0 != "!" && $0 != "@" }) }
    }

    /// The line to send (without CR LF), with its tags and prefix when it has them. Line breaks in
    /// parameters are replaced: a parameter can never smuggle a second command.
    public var line: String {
        var parts: [String] = []
        if !tags.isEmpty {
            let rendered = tags.sorted { $0.key < $1.key }.map { tag in
                tag.value.isEmpty ? tag.key : tag.key + "=" + IRCTagValue.escape(tag.value)
            }
            parts.append("@" + rendered.joined(separator: ";"))
        }
        if let prefix { parts.append(":" + prefix) }
        parts.append(command)
        for (index, param) in params.enumerated() {
            let clean = Self.oneLine(param)
            let last = index == params.count - 1
            // By scalar: " " or ":" followed by a combining mark is one Swift character.
            let needsColon = clean.isEmpty || clean.unicodeScalars.contains(" ") || clean.unicodeScalars.first == ":"
            parts.append(last && needsColon ? ":" + clean : clean)
        }
        return parts.joined(separator: " ")
    }
}

/// The escaping of IRCv3 tag values: `;` `\:`, space `\s`, `\` `\\`, CR `\r`, LF `\n`.
enum IRCTagValue {
    /// The value a tag carries; an unknown escape stands for its character, a lone trailing `\` for nothing.
    static func unescape(_ raw: Substring) -> String {
        var value = String.UnicodeScalarView()
        var escaping = false
        for scalar in raw.unicodeScalars {
            if escaping {
                switch scalar {
                case ":": value.append(";")
                case "s": value.append(" ")
                case "r": value.append("\r")
                case "n": value.append("\n")
                default: value.append(scalar)
                }
                escaping = false
            } else if scalar == "\\" {
                escaping = true
            } else {
                value.append(scalar)
            }
        }
        return String(value)
    }

    /// The value as it is written on the wire.
    static func escape(_ value: String) -> String {
        var raw = ""
        for scalar in value.unicodeScalars {
            switch scalar {
            case ";": raw += "\\:"
            case " ": raw += "\\s"
            case "\\": raw += "\\\\"
            case "\r": raw += "\\r"
            case "\n": raw += "\\n"
            default: raw.unicodeScalars.append(scalar)
            }
        }
        return raw
    }
}
