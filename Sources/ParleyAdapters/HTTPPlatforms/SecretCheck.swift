import Crypto
import Foundation

/// The check of MACs platforms send (request signatures, button MACs) with swift-crypto's own
/// constant-time comparison; tokens are compared with `ConstantTime` like everywhere else.
enum SecretCheck {
    /// True when `hex` is, in lowercase hex, the HMAC-SHA256 of `message` under `key`.
    static func isValidMAC(hex: some StringProtocol, of message: some DataProtocol, key: SymmetricKey) -> Bool {
        guard let code = bytes(hex: hex), code.count == SHA256.byteCount else { return false }
        return HMAC<SHA256>.isValidAuthenticationCode(code, authenticating: message, using: key)
    }

    /// Lowercase hex as bytes; nil for anything else (odd length, other characters).
    static func bytes(hex: some StringProtocol) -> [UInt8]? {
        let digits = Array(hex.utf8)
        guard digits.count.isMultiple(of: 2) else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(digits.count / 2)
        var index = 0
        while index < digits.count {
            guard let high = value(digits[index]), let low = value(digits[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes
    }

    private static func value(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return digit - UInt8(ascii: "a") + 10
        default: return nil
        }
    }
}
