/// `application/x-www-form-urlencoded`, both ways: the bodies platforms send (slash commands,
/// Slack's interactivity payload, Mattermost's outgoing webhooks) and the ones Parley sends (Slack's
/// read methods).
public enum FormBody {
    /// Why a form could not be read.
    public enum Failure: Error, Sendable, Equatable, CustomStringConvertible {
        /// A `%` not followed by two hex digits, in the field named (as sent, cut to 40 characters).
        case badEscape(field: String, escape: String)
        /// Escapes that decode to bytes that are not UTF-8.
        case notUTF8(field: String)

        public var description: String {
            switch self {
            case .badEscape(let field, let escape):
                return
                    "the form field '\(field)' has a bad escape '\(escape)': % must be followed by two hex digits (%25 is a % sign)"
            case .notUTF8(let field): return "the form field '\(field)' does not decode to UTF-8 text"
            }
        }
    }

    /// The fields of a form; a repeated name keeps its last value, `+` is a space. Throws `Failure`
    /// for a bad `%` escape (`%zz`, a `%` at the end) or escapes that are not UTF-8, rather than
    /// guessing what was meant.
    public static func decode(_ text: String) throws(Failure) -> [String: String] {
        var fields: [String: String] = [:]
        for pair in text.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let field = String(parts[0].prefix(40))
            let name = try unescape(parts[0], field: field)
            fields[name] = parts.count > 1 ? try unescape(parts[1], field: field) : ""
        }
        return fields
    }

    /// A form body from fields, in name order, every byte but the unreserved ones (`A-Z a-z 0-9 - . _ ~`)
    /// percent-encoded.
    public static func encode(_ fields: [String: String]) -> String {
        fields.sorted { $0.key < $1.key }.map { "\(escape($0.key))=\(escape($0.value))" }.joined(separator: "&")
    }

    /// Percent-encodes one name or value.
    public static func escape(_ text: String) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            if isUnreserved(byte) {
                bytes.append(byte)
            } else {
                bytes.append(UInt8(ascii: "%"))
                bytes.append(hexDigits[Int(byte >> 4)])
                bytes.append(hexDigits[Int(byte & 0x0F)])
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func unescape(_ text: Substring, field: String) throws(Failure) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        var rest = text.utf8[...]
        while let byte = rest.popFirst() {
            switch byte {
            case UInt8(ascii: "+"):
                bytes.append(UInt8(ascii: " "))
            case UInt8(ascii: "%"):
                let pair = rest.prefix(2)
                guard pair.count == 2, let high = hexValue(pair.first!), let low = hexValue(pair.last!) else {
                    throw .badEscape(field: field, escape: "%" + String(decoding: pair, as: UTF8.self))
                }
                bytes.append(high << 4 | low)
                rest = rest.dropFirst(2)
            default:
                bytes.append(byte)
            }
        }
        guard let decoded = String(validating: bytes, as: UTF8.self) else { throw .notUTF8(field: field) }
        return decoded
    }

    private static let hexDigits = Array("0123456789ABCDEF".utf8)

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    private static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
            UInt8(ascii: "~"):
            return true
        default: return false
        }
    }
}
