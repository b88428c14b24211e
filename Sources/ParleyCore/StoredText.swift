/// Text as the database keeps it. SQLite's C API, as GRDB calls it, ends a string at its first NUL,
/// so a NUL from outside (chat text, a program's output) would silently cut what is stored short,
/// and an audit entry would no longer match the hash of what it said. A NUL is kept as U+2400 (␀).
public enum StoredText {
    /// `text` with each NUL as U+2400; the same string when it has none (the usual case, one scan).
    public static func clean(_ text: String) -> String {
        guard text.utf8.contains(0) else { return text }
        return text.replacingOccurrences(of: "\u{0}", with: "\u{2400}")
    }
}
