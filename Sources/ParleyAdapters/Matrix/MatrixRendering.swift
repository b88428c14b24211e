import ParleyCore

/// One message's text in both forms Matrix carries: the plain `body` every client shows and the
/// HTML `formatted_body` rich clients show.
public struct MatrixText: Sendable, Equatable {
    /// The plain-text fallback.
    public var plain: String
    /// The same text as Matrix's HTML subset.
    public var html: String

    /// The content of an `m.notice` with both forms.
    public var notice: JSON {
        [
            "msgtype": "m.notice", "body": .string(plain), "format": "org.matrix.custom.html",
            "formatted_body": .string(html),
        ]
    }
}

/// Renders a `Reply` as Matrix notices: code as `<pre><code>`, tables as `<table>`, fields as
/// `<b>name</b>: value`, actions as the commands to type (Matrix has no buttons). A long reply
/// becomes several messages, split between lines (or, for a very long line, between characters),
/// each well under the homeserver's 64 KiB event limit even when later edited.
public enum MatrixRendering {
    /// The most JSON bytes the two texts of one message may take together.
    public static let messageBudget = 40_000
    /// The longest piece a single line is cut into.
    static let pieceBytes = 2_000

    /// The reply's messages, in order; one when it fits.
    public static func messages(_ reply: Reply, budget: Int = messageBudget) -> [MatrixText] {
        var packer = Packer(budget: budget)
        for block in reply.blocks { packer.add(rendered(block)) }
        return packer.finish()
    }

    /// Escapes text for HTML.
    public static func escape(_ text: String) -> String { HTMLText.escape(text) }

    /// How many bytes `text` takes inside a JSON string.
    static func jsonLength(_ text: String) -> Int {
        var length = 0
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"", "\\", "\n", "\r", "\t", "\u{8}", "\u{C}": length += 2
            case _ where scalar.value < 0x20: length += 6
            default: length += scalar.utf8.count
            }
        }
        return length
    }

    /// A line of a block in both forms; `continues` when it is the rest of a line cut for length.
    struct Line {
        var plain: String
        var html: String
        var continues = false
    }

    /// A block as lines, and the HTML around and between them.
    struct Rendered {
        var lines: [Line]
        var open: String
        var close: String
        var separator: String
    }

    static func rendered(_ block: ReplyBlock) -> Rendered {
        switch block {
        case .text(let text):
            return Rendered(lines: pieces(of: text), open: "<p>", close: "</p>", separator: "<br>")
        case .code:
            return Rendered(
                lines: pieces(of: block.plainText), open: "<pre><code>", close: "</code></pre>", separator: "\n")
        case .table(let header, let rows):
            let plain = lines(of: block.plainText)
            let html = [row(header, cell: "th")] + rows.map { row($0, cell: "td") }
            return Rendered(
                lines: zip(plain, html).map { Line(plain: $0.0, html: $0.1) }, open: "<table>",
                close: "</table>", separator: "")
        case .fields(let fields):
            let plain = lines(of: block.plainText)
            let html = fields.map { "<b>\(escape($0.label))</b>: \(escape($0.value))" }
            return Rendered(
                lines: zip(plain, html).map { Line(plain: $0.0, html: $0.1) }, open: "<p>", close: "</p>",
                separator: "<br>")
        case .actions(let actions):
            let commands = actions.map { "<code>\(escape($0.command))</code>" }.joined(separator: " / ")
            return Rendered(
                lines: [Line(plain: block.plainText, html: "Reply " + commands)], open: "<p>", close: "</p>",
                separator: "<br>")
        }
    }

    private static func row(_ cells: [String], cell: String) -> String {
        "<tr>" + cells.map { "<\(cell)>\(escape($0))</\(cell)>" }.joined() + "</tr>"
    }

    private static func lines(of text: String) -> [String] {
        text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    }

    /// The text's lines, a line longer than `pieceBytes` cut between characters.
    static func pieces(of text: String) -> [Line] {
        var result: [Line] = []
        for line in lines(of: text) {
            var piece = ""
            var bytes = 0
            var continues = false
            for character in line {
                let size = character.utf8.count
                if bytes + size > pieceBytes, !piece.isEmpty {
                    result.append(Line(plain: piece, html: escape(piece), continues: continues))
                    piece = ""
                    bytes = 0
                    continues = true
                }
                piece.append(character)
                bytes += size
            }
            result.append(Line(plain: piece, html: escape(piece), continues: continues))
        }
        return result
    }

    /// Fills messages line by line, closing and reopening a block's HTML where a message ends.
    struct Packer {
        let budget: Int
        var done: [MatrixText] = []
        var plain = ""
        var html = ""
        var cost = 0
        var started = false

        mutating func add(_ block: Rendered) {
            var open = false
            for line in block.lines {
                var plainPart = (started && !line.continues ? "\n" : "") + line.plain
                var htmlPart = (open ? (line.continues ? "" : block.separator) : block.open) + line.html
                var partCost = MatrixRendering.jsonLength(plainPart) + MatrixRendering.jsonLength(htmlPart)
                if cost + partCost + block.close.utf8.count > budget, started {
                    if open { html += block.close }
                    flush()
                    open = false
                    plainPart = line.plain
                    htmlPart = block.open + line.html
                    partCost = MatrixRendering.jsonLength(plainPart) + MatrixRendering.jsonLength(htmlPart)
                }
                plain += plainPart
                html += htmlPart
                cost += partCost
                started = true
                open = true
            }
            if open {
                html += block.close
                cost += block.close.utf8.count
            }
        }

        mutating func flush() {
            if started { done.append(MatrixText(plain: plain, html: html)) }
            plain = ""
            html = ""
            cost = 0
            started = false
        }

        mutating func finish() -> [MatrixText] {
            flush()
            return done
        }
    }
}
