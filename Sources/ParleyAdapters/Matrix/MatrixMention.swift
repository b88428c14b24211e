/// Turns the ways Matrix clients write a mention of Parley into the form the engine's addressing
/// reads. A mention pill's plain text is the display name (`Parley Bot: deploy …`) or the user id
/// (`@parley:example.org deploy …`); both become `@parley deploy …` (the first addressing name).
struct MatrixMention: Sendable {
    /// The forms that mean Parley, longest first so `@parley:server` wins over `@parley`.
    let forms: [String]
    /// What a leading mention is rewritten to.
    let replacement: String

    init(userID: String, displayName: String?, addressingName: String) {
        let localpart = String(userID.dropFirst().prefix { $0 != ":" })
        var forms = [userID, localpart, "@" + localpart]
        if let displayName, !displayName.isEmpty { forms += [displayName, "@" + displayName] }
        self.forms = Array(Set(forms)).sorted { $0.count > $1.count }
        replacement = "@" + addressingName
    }

    /// `text` with a leading mention of Parley rewritten; unchanged when it does not start with one.
    func rewrite(_ text: String) -> String {
        let trimmed = text.drop { $0.isWhitespace }
        for form in forms where trimmed.lowercased().hasPrefix(form.lowercased()) {
            let rest = trimmed.dropFirst(form.count)
            guard let next = rest.first else { return replacement }
            // "@parley deploy" and "Parley Bot: deploy" are mentions; "Parley Bot is down" is not.
            let separated = next == ":" || next == "," || (form.hasPrefix("@") && next.isWhitespace)
            guard separated else { continue }
            let command = rest.drop { $0 == ":" || $0 == "," || $0.isWhitespace }
            return replacement + " " + String(command)
        }
        return text
    }

    /// The body without a rich reply's quoted fallback (`> <@bob:server> earlier text` lines).
    static func withoutReplyFallback(_ body: String) -> String {
        guard body.hasPrefix("> ") else { return body }
        let lines = body.split(separator: "\n", omittingEmptySubsequences: false)
        let rest = lines.drop { $0.hasPrefix(">") }.drop { $0.isEmpty }
        return rest.joined(separator: "\n")
    }
}
