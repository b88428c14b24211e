import Crypto
import Foundation

/// How the server compares a secret it was given (a token, a CSRF token, a signature, a password
/// hash) with the one it expects: by their SHA-256 digests, which swift-crypto compares in time that
/// does not depend on where they differ. Comparing digests also hides the expected secret's length.
enum SecretComparison {
    /// True when both byte strings are equal.
    static func equal(_ given: some DataProtocol, _ expected: some DataProtocol) -> Bool {
        SHA256.hash(data: given) == SHA256.hash(data: expected)
    }

    /// True when both texts are equal as UTF-8.
    static func equal(_ given: String, _ expected: String) -> Bool {
        equal(Array(given.utf8), Array(expected.utf8))
    }
}
