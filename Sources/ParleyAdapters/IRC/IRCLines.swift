import ParleyCore

/// Turns reply text into IRC lines that arrive whole: a server relays `PRIVMSG` with the sender's
/// `:nick!user@host` in front, and the whole line must stay within 512 bytes.
public enum IRCLines {
    /// The most bytes of one line on the wire, CR LF included (RFC 1459).
    public static let lineLimit = 512
    /// The longest user and host parts a server may put in front of a relayed line, when Parley has
    /// not yet seen its own `nick!user@host`.
    static let assumedUserLength = 10
    static let assumedHostLength = 63

    /// Splits text into lines of at most `limit` bytes each, cut on character (so UTF-8) boundaries;
    /// empty lines become a single space, which IRC can carry.
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

    /// How many bytes of text one `PRIVMSG` to `target` may carry once the server has put
    /// `:source PRIVMSG target :` in front and CR LF after. `source` is Parley's own
    /// `nick!user@host` when known, else just its nick (and the longest user and host are assumed).
    public static func budget(source: String, target: String) -> Int {
        var sourceLength = source.utf8.count
        if !source.contains("@") { sourceLength += 1 + assumedUserLength + 1 + assumedHostLength }
        let overhead = 1 + sourceLength + " PRIVMSG ".utf8.count + target.utf8.count + " :".utf8.count + 2
        return max(lineLimit - overhead, 32)
    }

    /// A reply as IRC lines of at most `limit` bytes. Label and value pairs share one line when they
    /// fit, since every line is a message of its own on IRC. A code block longer than `maxOutputLines`
    /// keeps its **last** lines, where an error usually is, and says where the rest is (`run ID
    /// --page 1`, the web console's run page); a page of `run N` already says so itself.
    public static func lines(
        of reply: Reply, limit: Int = 400, maxOutputLines: Int = 15, runID: Int64? = nil, runPageURL: String? = nil
    ) -> [String] {
        let isPage = reply.blocks.contains { block in
            if case .text(let text) = block { return text.hasPrefix("output page ") }
            return false
        }
        var lines: [String] = []
        for block in reply.blocks {
            var text = block.plainText
            if case .fields(let fields) = block {
                let line = fields.map { "\($0.label): \($0.value)" }.joined(separator: " · ")
                if line.utf8.count <= limit && !line.contains("\n") { text = line }
            }
            var part = split(text, limit: limit)
            if case .code = block, part.count > maxOutputLines {
                let cut = part.count - maxOutputLines + 1
                var note = "… \(cut) earlier line\(cut == 1 ? "" : "s") not shown on IRC"
                if !isPage, let runID {
                    note += "; `run \(runID) --page 1` pages through them"
                    if let runPageURL { note += ", \(runPageURL)\(runID) shows all" }
                }
                part = [note] + part.suffix(maxOutputLines - 1)
            }
            lines += part
        }
        return lines
    }
}
