/// A person's handle on one platform, written `platform:id` (`slack:U024BE7LH`, `irc:alice`, `local:root`).
public struct Identity: Hashable, Sendable, Codable, CustomStringConvertible {
    /// The platform the handle belongs to (`local`, `web`, `slack`, `matrix`, `irc`, `mattermost`).
    public let platform: String
    /// The platform's own id for the person.
    public let id: String

    /// Creates an identity from its two parts.
    public init(platform: String, id: String) {
        self.platform = platform
        self.id = id
    }

    /// Parses `platform:id`; returns nil when either part is missing.
    public init?(_ text: String) {
        guard let colon = text.firstIndex(of: ":") else { return nil }
        let platform = String(text[..<colon])
        let id = String(text[text.index(after: colon)...])
        guard !platform.isEmpty, !id.isEmpty,
            platform.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" })
        else { return nil }
        self.init(platform: platform.lowercased(), id: id)
    }

    /// The identity written as `platform:id`.
    public var description: String { "\(platform):\(id)" }
}
