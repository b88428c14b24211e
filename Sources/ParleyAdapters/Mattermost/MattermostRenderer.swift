import ParleyCore

/// Renders replies as Mattermost Markdown, with approval buttons as an interactive attachment.
public enum MattermostRenderer {
    /// Mattermost refuses posts longer than 16,383 characters; stay under with room for a fence.
    static let postLimit = 16000

    /// One post: its Markdown and the buttons to show under it.
    public struct Post: Sendable, Equatable {
        public var message: String
        public var actions: [ReplyAction]
    }

    /// The reply as one or more posts within Mattermost's size limit; buttons go with the last.
    public static func posts(for reply: Reply) -> [Post] {
        var pieces: [String] = []
        var actions: [ReplyAction] = []
        for block in reply.blocks {
            switch block {
            case .text(let text): pieces += SlackRenderer.chunks(text, limit: postLimit)
            case .code(let code):
                let body = code.hasSuffix("\n") ? String(code.dropLast()) : code
                pieces += SlackRenderer.chunks(body, limit: postLimit - 16).map { fence($0) }
            case .table(let header, let rows):
                pieces += SlackRenderer.chunks(table(header: header, rows: rows), limit: postLimit)
            case .fields(let fields):
                pieces.append(fields.map { "**\(escape($0.label)):** \(escape($0.value))" }.joined(separator: "\n"))
            case .actions(let list):
                actions += list
            }
        }
        var posts: [Post] = []
        var current = ""
        for piece in pieces {
            if !current.isEmpty, current.count + piece.count + 1 > postLimit {
                posts.append(Post(message: current, actions: []))
                current = ""
            }
            current += current.isEmpty ? piece : "\n" + piece
        }
        posts.append(Post(message: current.isEmpty ? " " : current, actions: actions))
        return posts
    }

    /// A code block whose fence is longer than any run of backticks inside, so output cannot end it.
    static func fence(_ code: String) -> String {
        var longest = 0
        var run = 0
        for character in code {
            run = character == "`" ? run + 1 : 0
            longest = max(longest, run)
        }
        let marks = String(repeating: "`", count: max(3, longest + 1))
        return marks + "\n" + code + "\n" + marks
    }

    /// A Markdown table; pipes inside cells are escaped.
    static func table(header: [String], rows: [[String]]) -> String {
        func line(_ cells: [String]) -> String {
            "| "
                + cells.map { $0.replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "\n", with: " ") }
                .joined(separator: " | ") + " |"
        }
        return ([line(header), line(header.map { _ in "---" })] + rows.map(line)).joined(separator: "\n")
    }

    /// Escapes Markdown emphasis and link characters in short labels.
    static func escape(_ text: String) -> String {
        var result = ""
        for character in text {
            if "\\*_`[]<>|~".contains(character) { result.append("\\") }
            result.append(character)
        }
        return result
    }
}
