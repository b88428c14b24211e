import ParleyCore

/// A run's output cut into pages that each fit one reply (`limits.reply_lines` lines and
/// `limits.reply_chars` characters), so `run N --page K` can show all of it on any platform, a
/// line-based one included. A line longer than a page is cut into pieces between characters.
struct OutputPages {
    /// The pages, first to last; one empty page for no output.
    let pages: [[Substring]]
    /// The number of the first line on each page (1-based), for "lines 41–80 of 3000".
    let firstLines: [Int]
    /// How many lines the output has.
    let lineCount: Int

    init(_ output: String, limits: ReplyLimits) {
        let maxLines = max(1, limits.maxLines)
        let maxCharacters = max(1, limits.maxCharacters)
        var lines = output.split(separator: "\n", omittingEmptySubsequences: false)
        if lines.last == "" { lines.removeLast() }
        lineCount = lines.count
        var pages: [[Substring]] = []
        var firstLines: [Int] = []
        var page: [Substring] = []
        var characters = 0
        var pageFirst = 1
        func close(next: Int) {
            pages.append(page)
            firstLines.append(pageFirst)
            page = []
            characters = 0
            pageFirst = next
        }
        for (index, line) in lines.enumerated() {
            var rest = line
            repeat {
                let piece = rest.prefix(maxCharacters)
                rest = rest.dropFirst(piece.count)
                if !page.isEmpty, page.count >= maxLines || characters + piece.count + 1 > maxCharacters {
                    close(next: index + 1)
                }
                page.append(piece)
                characters += piece.count + 1
            } while !rest.isEmpty
        }
        if !page.isEmpty || pages.isEmpty { close(next: lineCount + 1) }
        self.pages = pages
        self.firstLines = firstLines
    }

    /// How many pages there are.
    var count: Int { pages.count }

    /// Page `number` (1-based) as text.
    func text(ofPage number: Int) -> String { pages[number - 1].joined(separator: "\n") }

    /// "lines 41–80 of 3000" for page `number`.
    func span(ofPage number: Int) -> String {
        let first = firstLines[number - 1]
        let last = number < count ? max(first, firstLines[number] - 1) : lineCount
        return first == last ? "line \(first) of \(lineCount)" : "lines \(first)–\(last) of \(lineCount)"
    }
}
