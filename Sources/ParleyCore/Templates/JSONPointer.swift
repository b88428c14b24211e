import Foundation

/// RFC 6901 JSON pointers (`/data/result/0/value/1`) over values from `JSONSerialization`.
public enum JSONPointer {
    /// Whether `pointer` is well formed: empty (the whole document) or `/`-separated tokens.
    public static func isValid(_ pointer: String) -> Bool {
        pointer.isEmpty || pointer.hasPrefix("/")
    }

    /// The value at `pointer`, or nil when the path does not exist.
    public static func resolve(_ pointer: String, in document: Any) -> Any? {
        guard isValid(pointer) else { return nil }
        var current: Any = document
        for raw in pointer.split(separator: "/", omittingEmptySubsequences: false).dropFirst() {
            let token = raw.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
            if let object = current as? [String: Any], let next = object[token] {
                current = next
            } else if let array = current as? [Any], let index = Int(token), array.indices.contains(index) {
                current = array[index]
            } else {
                return nil
            }
        }
        return current
    }

    /// A value as text for replies and templates: strings as they are, everything else as compact JSON.
    public static func text(_ value: Any) -> String {
        switch value {
        case let string as String: return string
        case let flag as Bool where type(of: value) == Bool.self: return flag ? "true" : "false"
        case let number as NSNumber:
            // JSON booleans arrive as Bool on Linux and as a boolean NSNumber on Darwin.
            if String(describing: type(of: number)).contains("Bool") { return number.boolValue ? "true" : "false" }
            return number.stringValue
        case is NSNull: return "null"
        default:
            guard JSONSerialization.isValidJSONObject(value),
                let data = try? JSONSerialization.data(
                    withJSONObject: value, options: [.sortedKeys, .withoutEscapingSlashes])
            else { return "\(value)" }
            return String(decoding: data, as: UTF8.self)
        }
    }
}
