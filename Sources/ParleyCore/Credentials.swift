/// Comparison of secrets (tokens, signatures, MACs) in time that does not depend on where they differ.
public enum ConstantTime {
    /// True when both byte strings are equal; takes the same time wherever they differ.
    public static func equal(_ left: some Collection<UInt8>, _ right: some Collection<UInt8>) -> Bool {
        guard left.count == right.count else { return false }
        var difference: UInt8 = 0
        for (a, b) in zip(left, right) { difference |= a ^ b }
        return difference == 0
    }

    /// True when both texts are equal as UTF-8; takes the same time wherever they differ.
    public static func equal(_ left: String, _ right: String) -> Bool {
        equal(Array(left.utf8), Array(right.utf8))
    }
}

/// An HTTP `Authorization` header, read as RFC 9110 says: a scheme, compared without regard to case
/// (`Bearer`, `bearer`, `BEARER`), then its credentials.
public struct AuthorizationHeader: Sendable, Equatable {
    /// The scheme in lower case: `bearer`, `basic`.
    public var scheme: String
    /// What follows the scheme, without the blanks around it.
    public var credentials: String

    /// Reads a header value; nil when it has no scheme and credentials.
    public init?(_ value: String) {
        let trimmed = value.drop { $0 == " " || $0 == "\t" }
        guard let blank = trimmed.firstIndex(where: { $0 == " " || $0 == "\t" }) else { return nil }
        let scheme = trimmed[..<blank]
        let rest = trimmed[blank...].drop { $0 == " " || $0 == "\t" }
        var credentials = Substring(rest)
        while let last = credentials.last, last == " " || last == "\t" { credentials = credentials.dropLast() }
        guard !scheme.isEmpty, !credentials.isEmpty else { return nil }
        self.scheme = scheme.lowercased()
        self.credentials = String(credentials)
    }

    /// The token of a `Bearer` header, nil for any other scheme.
    public static func bearer(_ value: String?) -> String? {
        guard let value, let header = AuthorizationHeader(value), header.scheme == "bearer" else { return nil }
        return header.credentials
    }
}
