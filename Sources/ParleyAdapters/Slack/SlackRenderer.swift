import ParleyCore

/// Renders replies as Block Kit, within Slack's limits, and reads Slack's text markup back into plain text.
public enum SlackRenderer {
    /// Most characters in one section's text (Slack refuses more than 3,000).
    static let sectionLimit = 3000
    /// Most characters of block text in one message; more goes into further messages.
    static let messageBudget = 12000
    /// Most blocks in one message (Slack refuses more than 50).
    static let maxBlocks = 50
    /// Most characters in the notification text.
    static let fallbackLimit = 3000

    /// One Slack message: notification text and blocks.
    public struct Message: Sendable, Equatable {
        public var text: String
        public var blocks: [JSON]
        /// The part of the reply this message shows, as plain text: posted instead when Slack refuses
        /// the blocks.
        public var plain: String = ""
    }

    /// The reply as one or more messages, each within Slack's limits. Limits are measured on the text
    /// as sent, after `&`, `<` and `>` are escaped, in UTF-16 units (Slack's own count).
    public static func messages(for reply: Reply) -> [Message] {
        var blocks: [(block: JSON, size: Int, plain: String)] = []
        for block in reply.blocks {
            switch block {
            case .text(let text):
                for chunk in chunks(text, limit: sectionLimit) {
                    blocks.append((section(escape(chunk)), escapedLength(chunk), chunk))
                }
            case .code(let code):
                let body = code.hasSuffix("\n") ? String(code.dropLast()) : code
                for chunk in chunks(body, limit: sectionLimit - 8) {
                    blocks.append((section("```\n" + escape(chunk) + "\n```"), escapedLength(chunk) + 8, chunk))
                }
            case .table:
                for chunk in chunks(block.plainText, limit: sectionLimit - 8) {
                    blocks.append((section("```\n" + escape(chunk) + "\n```"), escapedLength(chunk) + 8, chunk))
                }
            case .fields(let fields):
                for group in stride(from: 0, to: fields.count, by: 10) {
                    let slice = fields[group..<min(group + 10, fields.count)]
                    let items = slice.map { field -> JSON in
                        let label = prefix(field.label, escapedLimit: 200)
                        let value = prefix(field.value, escapedLimit: 2000 - 4 - escapedLength(label))
                        return ["type": "mrkdwn", "text": .string("*\(escape(label))*\n\(escape(value))")]
                    }
                    let plain = slice.map { "\($0.label): \($0.value)" }.joined(separator: "\n")
                    blocks.append((["type": "section", "fields": .array(Array(items))], 200 * items.count, plain))
                }
            case .actions(let actions):
                let buttons = actions.prefix(25).enumerated().map { index, action -> JSON in
                    var button: [String: JSON] = [
                        "type": "button", "action_id": .string("parley_\(index)"),
                        "text": ["type": "plain_text", "text": .string(String(action.label.prefix(75)))],
                        "value": .string(String(action.command.prefix(2000))),
                    ]
                    if action.style == "primary" || action.style == "danger" { button["style"] = .string(action.style) }
                    return .object(button)
                }
                let plain = actions.map { "`\($0.command)`" }.joined(separator: " · ")
                blocks.append((["type": "actions", "elements": .array(buttons)], 100, plain))
            }
        }
        if blocks.isEmpty { return [Message(text: " ", blocks: [])] }
        var messages: [Message] = []
        var current = Message(text: "", blocks: [])
        var size = 0
        for (block, blockSize, plain) in blocks {
            if !current.blocks.isEmpty, current.blocks.count == maxBlocks || size + blockSize > messageBudget {
                messages.append(current)
                current = Message(text: "", blocks: [])
                size = 0
            }
            current.blocks.append(block)
            current.plain += current.plain.isEmpty ? plain : "\n" + plain
            size += blockSize
        }
        messages.append(current)
        let plain = reply.plainText
        return messages.enumerated().map { index, message in
            var message = message
            let fallback = index == 0 ? plain : "(continued)"
            message.text = escape(prefix(fallback, escapedLimit: fallbackLimit))
            return message
        }
    }

    /// Text-only messages for a message whose blocks Slack refused: a first line that says so and why,
    /// then its text, each within Slack's limit.
    public static func plainFallback(_ message: Message, reason: String) -> [String] {
        let note = "⚠️ Slack refused this reply's formatting (\(reason)); here it is as plain text:\n"
        let body = message.plain.isEmpty ? message.text : message.plain
        return chunks(note + body, limit: fallbackLimit).map(escape)
    }

    static func section(_ mrkdwn: String) -> JSON {
        ["type": "section", "text": ["type": "mrkdwn", "text": .string(mrkdwn)]]
    }

    /// How long text is once escaped, in UTF-16 units.
    static func escapedLength(_ text: some StringProtocol) -> Int {
        text.unicodeScalars.reduce(0) { $0 + cost($1) }
    }

    private static func cost(_ scalar: Unicode.Scalar) -> Int {
        switch scalar {
        case "&": return 5
        case "<", ">": return 4
        default: return scalar.utf16.count
        }
    }

    private static func cost(_ character: Character) -> Int {
        character.unicodeScalars.reduce(0) { $0 + cost($1) }
    }

    /// The longest start of `text` whose escaped form fits `escapedLimit`, cut between characters.
    static func prefix(_ text: String, escapedLimit: Int) -> String {
        var total = 0
        var end = text.startIndex
        for index in text.indices {
            total += cost(text[index])
            if total > escapedLimit { break }
            end = text.index(after: index)
        }
        return String(text[..<end])
    }

    /// Splits text into pieces whose escaped form is at most `limit` long, at line ends where it can,
    /// never inside a character.
    static func chunks(_ text: String, limit: Int) -> [String] {
        guard escapedLength(text) > limit else { return [text] }
        var pieces: [String] = []
        var current = ""
        var currentSize = 0
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            var line = Substring(line)
            var lineSize = escapedLength(line)
            while lineSize > limit {
                if !current.isEmpty {
                    pieces.append(current)
                    current = ""
                    currentSize = 0
                }
                var size = 0
                var end = line.startIndex
                for index in line.indices {
                    let next = size + cost(line[index])
                    if next > limit { break }
                    size = next
                    end = line.index(after: index)
                }
                if end == line.startIndex { end = line.index(after: end) }  // one character over the limit
                pieces.append(String(line[..<end]))
                line = line[end...]
                lineSize = escapedLength(line)
            }
            if !current.isEmpty, currentSize + lineSize + 1 > limit {
                pieces.append(current)
                current = ""
                currentSize = 0
            }
            if current.isEmpty {
                current = String(line)
                currentSize = lineSize
            } else {
                current += "\n" + line
                currentSize += lineSize + 1
            }
        }
        if !current.isEmpty { pieces.append(current) }
        return pieces
    }

    /// Escapes the three characters Slack's markup reserves.
    public static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;")
    }

    /// Slack's message markup as the plain text a person typed: `<@U1>` mentions (Parley's own as
    /// `@name`), `<#C1|ops>` channels, `<https://x|x>` links, `<!here>`, and `&amp;` `&lt;` `&gt;`.
    public static func plainText(_ text: String, botUserID: String?, botName: String) -> String {
        var result = ""
        var rest = Substring(text)
        while let open = rest.firstIndex(of: "<") {
            result += rest[..<open]
            guard let close = rest[open...].firstIndex(of: ">") else {
                rest = rest[open...]
                break
            }
            let inside = rest[rest.index(after: open)..<close]
            let parts = inside.split(separator: "|", maxSplits: 1, omittingEmptySubsequences: false)
            let target = parts[0]
            let label = parts.count > 1 ? String(parts[1]) : nil
            if target.hasPrefix("@") {
                let id = String(target.dropFirst())
                result += id == botUserID ? "@\(botName)" : "@" + (label ?? id)
            } else if target.hasPrefix("#") {
                result += "#" + (label ?? String(target.dropFirst()))
            } else if target.hasPrefix("!") {
                result += "@" + (label ?? String(target.dropFirst()).split(separator: "^").first.map(String.init) ?? "")
            } else {
                result += target
            }
            rest = rest[rest.index(after: close)...]
        }
        result += rest
        return result.replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
            .replacingOccurrences(of: "&amp;", with: "&")
    }
}
