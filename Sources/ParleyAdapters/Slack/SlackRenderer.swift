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
    }

    /// The reply as one or more messages, each within Slack's limits.
    public static func messages(for reply: Reply) -> [Message] {
        var blocks: [(block: JSON, size: Int)] = []
        for block in reply.blocks {
            switch block {
            case .text(let text):
                for chunk in chunks(text, limit: sectionLimit) { blocks.append((section(escape(chunk)), chunk.count)) }
            case .code(let code):
                let body = code.hasSuffix("\n") ? String(code.dropLast()) : code
                for chunk in chunks(body, limit: sectionLimit - 8) {
                    blocks.append((section("```\n" + escape(chunk) + "\n```"), chunk.count + 8))
                }
            case .table:
                for chunk in chunks(block.plainText, limit: sectionLimit - 8) {
                    blocks.append((section("```\n" + escape(chunk) + "\n```"), chunk.count + 8))
                }
            case .fields(let fields):
                for group in stride(from: 0, to: fields.count, by: 10) {
                    let items = fields[group..<min(group + 10, fields.count)].map { field -> JSON in
                        let text = "*\(escape(field.label))*\n\(escape(field.value))"
                        return ["type": "mrkdwn", "text": .string(String(text.prefix(2000)))]
                    }
                    blocks.append((["type": "section", "fields": .array(Array(items))], 200 * items.count))
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
                blocks.append((["type": "actions", "elements": .array(buttons)], 100))
            }
        }
        if blocks.isEmpty { return [Message(text: " ", blocks: [])] }
        var messages: [Message] = []
        var current: [JSON] = []
        var size = 0
        for (block, blockSize) in blocks {
            if !current.isEmpty, current.count == maxBlocks || size + blockSize > messageBudget {
                messages.append(Message(text: "", blocks: current))
                current = []
                size = 0
            }
            current.append(block)
            size += blockSize
        }
        messages.append(Message(text: "", blocks: current))
        let plain = reply.plainText
        return messages.enumerated().map { index, message in
            var message = message
            let fallback = index == 0 ? plain : "(continued)"
            message.text = escape(String(fallback.prefix(fallbackLimit)))
            return message
        }
    }

    static func section(_ mrkdwn: String) -> JSON {
        ["type": "section", "text": ["type": "mrkdwn", "text": .string(mrkdwn)]]
    }

    /// Splits text into pieces of at most `limit` characters, at line ends where it can.
    static func chunks(_ text: String, limit: Int) -> [String] {
        guard text.count > limit else { return [text] }
        var pieces: [String] = []
        var current = ""
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            var line = Substring(line)
            while line.count > limit {
                if !current.isEmpty {
                    pieces.append(current)
                    current = ""
                }
                pieces.append(String(line.prefix(limit)))
                line = line.dropFirst(limit)
            }
            if current.count + line.count + 1 > limit, !current.isEmpty {
                pieces.append(current)
                current = ""
            }
            current += current.isEmpty ? String(line) : "\n" + line
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
