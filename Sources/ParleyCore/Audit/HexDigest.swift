import Crypto
import Foundation

/// SHA-256 as lowercase hex: audit hashes, command hashes, token and plan hashes all use it.
public enum HexDigest {
    private static let digits = Array("0123456789abcdef".utf8)

    /// The SHA-256 of `text` in hex.
    public static func sha256(_ text: String) -> String {
        hex(SHA256.hash(data: Data(text.utf8)))
    }

    /// Bytes as lowercase hex, without a formatter per byte (this runs for every audit entry).
    public static func hex(_ bytes: some Sequence<UInt8>) -> String {
        var characters: [UInt8] = []
        characters.reserveCapacity(64)
        for byte in bytes {
            characters.append(digits[Int(byte >> 4)])
            characters.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: characters, as: UTF8.self)
    }

    /// True when `hex` is exactly the lowercase hex of `bytes`, compared without building a string.
    public static func matches(_ bytes: some Sequence<UInt8>, hex: UnsafeRawBufferPointer) -> Bool {
        var index = 0
        for byte in bytes {
            guard index + 1 < hex.count, hex[index] == digits[Int(byte >> 4)],
                hex[index + 1] == digits[Int(byte & 0x0F)]
            else { return false }
            index += 2
        }
        return index == hex.count
    }
}
