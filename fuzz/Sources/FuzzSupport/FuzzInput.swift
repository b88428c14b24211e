/// The bytes libFuzzer hands a target, with the views the harnesses need.
public struct FuzzInput: Sendable {
    /// The raw bytes.
    public let bytes: [UInt8]

    /// Copies the buffer libFuzzer passed in.
    public init(_ data: UnsafePointer<UInt8>?, _ size: Int) {
        bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    }

    /// The bytes as text, invalid UTF-8 replaced, as a server would read a body.
    public var text: String { String(decoding: bytes, as: UTF8.self) }

    /// The first line (without its line break) and the bytes after it; all bytes when there is no line break.
    public var firstLine: (line: String, rest: [UInt8]) {
        guard let newline = bytes.firstIndex(of: UInt8(ascii: "\n")) else { return ("", bytes) }
        return (String(decoding: bytes[..<newline], as: UTF8.self), Array(bytes[(newline + 1)...]))
    }
}

/// Stops the run with a message when an invariant does not hold: libFuzzer records the input as a crash.
public func require(
    _ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String, file: StaticString = #fileID,
    line: UInt = #line
) {
    guard !condition() else { return }
    fatalError("invariant broken: \(message())", file: file, line: line)
}
