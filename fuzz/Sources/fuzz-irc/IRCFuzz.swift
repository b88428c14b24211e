import FuzzSupport

@testable import ParleyAdapterParsers

// One line from an IRC server (CR LF already split off by the framing), and chat text Parley sends
// back in a PRIVMSG. Parsing never crashes; a parsed line written back parses to the same message;
// and on the wire, where servers split on the byte 0x20, text Parley sends stays one parameter.

/// How a server reads a line: the grammar of RFC 1459 over bytes, spaces being the byte 0x20.
func wireParameters(_ line: String) -> (command: String, params: [String])? {
    var rest = Substring(line).utf8[...]
    func word() -> Substring.UTF8View.SubSequence {
        let end = rest.firstIndex(of: 0x20) ?? rest.endIndex
        defer { rest = rest[end...].drop { $0 == 0x20 } }
        return rest[..<end]
    }
    if rest.first == UInt8(ascii: "@") { _ = word() }
    if rest.first == UInt8(ascii: ":") { _ = word() }
    let command = String(decoding: word(), as: UTF8.self)
    var params: [String] = []
    while !rest.isEmpty {
        if rest.first == UInt8(ascii: ":") {
            params.append(String(decoding: rest.dropFirst(), as: UTF8.self))
            break
        }
        params.append(String(decoding: word(), as: UTF8.self))
    }
    return command.isEmpty ? nil : (command, params)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzIRC(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let text = FuzzInput(data, size).text
    if !text.unicodeScalars.contains(where: { $0 == "\r" || $0 == "\n" || $0 == "\u{0}" }),
        let message = IRCMessage(line: text)
    {
        _ = message.nick
        let line = message.line
        require(IRCMessage(line: line) == message, "'\(text)' written back as '\(line)' parses differently")
        // Parley must read the parameters a server reads: the trailing one is what a PRIVMSG says.
        let wire = wireParameters(text)
        require(wire?.params == message.params, "'\(text)': Parley reads \(message.params), the wire \(wire as Any)")
    }
    // Text from a reply, sent to a channel: one line, one PRIVMSG, two parameters, the text intact.
    let sent = IRCMessage("PRIVMSG", ["#ops", text]).line
    require(!sent.utf8.contains(where: { $0 == 0x0D || $0 == 0x0A || $0 == 0 }), "'\(sent)' is not one line")
    var expectedScalars = String.UnicodeScalarView()
    for scalar in text.unicodeScalars where scalar != "\u{0}" {
        expectedScalars.append(scalar == "\r" || scalar == "\n" ? " " : scalar)
    }
    let expected = String(expectedScalars)
    guard let wire = wireParameters(sent) else {
        require(false, "'\(sent)' has no command on the wire")
        return 0
    }
    require(wire.command == "PRIVMSG" && wire.params.count == 2, "'\(sent)' reads as \(wire) on the wire")
    require(wire.params == ["#ops", expected], "'\(sent)' carries \(wire.params), not the text sent")
    return 0
}
