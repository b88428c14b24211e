/// A word of chat text: its value with quotes removed, and where it stood in the text.
public struct Token: Sendable, Equatable {
    /// The word, quotes removed and escapes applied.
    public var value: String
    /// True when any part of the word was quoted; a quoted `--x` is never an option.
    public var quoted: Bool
    /// True when the word opened a quote that the text never closes.
    public var unterminated = false
    /// Where the word stood in the original text, quotes included.
    public var range: Range<String.Index>
}

/// Splits chat text into words, honouring straight and typographic quotes.
public enum Tokenizer {
    /// The longest text Parley will parse; chat platforms allow less, and anything longer is refused.
    public static let maximumLength = 16_384

    /// Splits `text` into tokens, or says why it cannot.
    ///
    /// A quote opens only at the start of a word or after `=`, so apostrophes (`it's`) stay text. A quote
    /// that is never closed runs to the end of the line and marks its token `unterminated`: fine for a
    /// `text` argument, which takes the line verbatim, and an error anywhere else.
    public static func tokenize(_ text: String) throws(ParseFailure) -> [Token] {
        guard text.utf8.count <= maximumLength else {
            throw .tooLong(limit: maximumLength)
        }
        // argv is C strings: a NUL would silently cut an argument short, so it is refused outright,
        // along with the other C0 controls except tab and line breaks.
        if text.unicodeScalars.contains(where: {
            $0.value < 0x20 && !["\t", "\n", "\r"].contains($0) || $0.value == 0x7F
        }) {
            throw .controlCharacter
        }
        var tokens: [Token] = []
        var index = text.startIndex
        while index < text.endIndex {
            let character = text[index]
            if character.isWhitespace {
                index = text.index(after: index)
                continue
            }
            let start = index
            var value = ""
            var quoted = false
            var unterminated = false
            while index < text.endIndex, !text[index].isWhitespace {
                let current = text[index]
                let opensQuote = index == start || value.hasSuffix("=")
                if opensQuote, let closing = closingQuote(for: current) {
                    quoted = true
                    index = text.index(after: index)
                    var closed = false
                    while index < text.endIndex {
                        let inner = text[index]
                        if inner == closing || (closing == "\u{201D}" && inner == "\"") {
                            closed = true
                            index = text.index(after: index)
                            break
                        }
                        if inner == "\\", current == "\"", text.index(after: index) < text.endIndex {
                            let next = text[text.index(after: index)]
                            if next == "\"" || next == "\\" {
                                value.append(next)
                                index = text.index(index, offsetBy: 2)
                                continue
                            }
                        }
                        value.append(inner)
                        index = text.index(after: index)
                    }
                    if !closed { unterminated = true }
                } else {
                    value.append(current)
                    index = text.index(after: index)
                }
            }
            tokens.append(Token(value: value, quoted: quoted, unterminated: unterminated, range: start..<index))
        }
        return tokens
    }

    private static func closingQuote(for character: Character) -> Character? {
        switch character {
        case "\"": return "\""
        case "'": return "'"
        case "\u{201C}": return "\u{201D}"
        case "\u{2018}": return "\u{2019}"
        default: return nil
        }
    }
}
