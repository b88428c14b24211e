import Crypto
import Foundation

/// The one comparison of secrets (tokens, CSRF tokens, signatures, password hashes) with what was
/// given: by their SHA-256 digests, which swift-crypto compares in time that does not depend on where
/// they differ. Comparing digests also hides the expected secret's length. (Signatures that are
/// MACs are checked with `HMAC.isValidAuthenticationCode`, the library's own check.)
public enum ConstantTime {
    /// True when both byte strings are equal.
    public static func equal(_ given: some DataProtocol, _ expected: some DataProtocol) -> Bool {
        SHA256.hash(data: given) == SHA256.hash(data: expected)
    }

    /// True when both texts are equal as UTF-8.
    public static func equal(_ given: String, _ expected: String) -> Bool {
        equal(Array(given.utf8), Array(expected.utf8))
    }

    /// True when `given` is one of the secrets whose digests are `expected`; every one is compared,
    /// whatever the length of what was given.
    public static func isOne(of expected: [SHA256Digest], _ given: some DataProtocol) -> Bool {
        let digest = SHA256.hash(data: given)
        var found = false
        for candidate in expected where candidate == digest { found = true }
        return found
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
