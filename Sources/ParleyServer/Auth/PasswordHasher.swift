import Crypto
import Foundation
import ParleyCore
import _CryptoExtras

/// Hashes passwords with scrypt (N=2^15, r=8, p=1): slow to guess, fast enough to log in.
public enum PasswordHasher {
    /// `scrypt$32768$8$1$<salt>$<hash>`, base64.
    public static func hash(_ password: String) throws -> String {
        var salt = [UInt8](repeating: 0, count: 16)
        var generator = SystemRandomNumberGenerator()
        for index in salt.indices { salt[index] = UInt8.random(in: 0...255, using: &generator) }
        let key = try derive(password, salt: salt, rounds: 32768, blockSize: 8, parallelism: 1)
        return "scrypt$32768$8$1$\(Data(salt).base64EncodedString())$\(key.base64EncodedString())"
    }

    /// True when `password` matches `stored`; compares in constant time.
    public static func verify(_ password: String, against stored: String) -> Bool {
        let parts = stored.split(separator: "$").map(String.init)
        guard parts.count == 6, parts[0] == "scrypt", let rounds = Int(parts[1]), let blockSize = Int(parts[2]),
            let parallelism = Int(parts[3]), let salt = Data(base64Encoded: parts[4]),
            let expected = Data(base64Encoded: parts[5]),
            let actual = try? derive(
                password, salt: Array(salt), rounds: rounds, blockSize: blockSize, parallelism: parallelism)
        else { return false }
        return ConstantTime.equal(actual, expected)
    }

    private static func derive(_ password: String, salt: [UInt8], rounds: Int, blockSize: Int, parallelism: Int) throws
        -> Data
    {
        let key = try KDF.Scrypt.deriveKey(
            from: Array(password.utf8), salt: salt, outputByteCount: 32, rounds: rounds, blockSize: blockSize,
            parallelism: parallelism)
        return key.withUnsafeBytes { Data($0) }
    }

}

/// Random tokens and their hashes.
public enum Tokens {
    /// A URL-safe random token of `bytes` random bytes.
    public static func random(bytes: Int = 32) -> String {
        var generator = SystemRandomNumberGenerator()
        let data = Data((0..<bytes).map { _ in UInt8.random(in: 0...255, using: &generator) })
        return data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(
            of: "/", with: "_"
        )
        .replacingOccurrences(of: "=", with: "")
    }

    /// SHA-256 in hex.
    public static func hash(_ token: String) -> String {
        HexDigest.sha256(token)
    }
}
