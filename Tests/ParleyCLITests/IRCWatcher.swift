import Foundation
import Glibc
import Synchronization

/// A person on IRC for tests of whole `parley serve` processes: registers, joins a channel and
/// records every line it receives. Its socket is read on a thread of its own, never on one of Swift
/// concurrency's few threads.
final class IRCWatcher: Sendable {
    let nick: String
    private let socket: Int32
    private let received = Mutex<[String]>([])

    private init(nick: String, socket: Int32) {
        self.nick = nick
        self.socket = socket
        let thread = Thread { [self] in readLines() }
        thread.start()
    }

    /// Connects to the IRC server on 127.0.0.1:`port` as `nick` and joins `channel`.
    static func join(port: Int, nick: String, channel: String) async throws -> IRCWatcher {
        let watcher = IRCWatcher(nick: nick, socket: try connectedSocket(port: port))
        watcher.send("NICK \(nick)")
        watcher.send("USER \(nick) 0 * :Parley test")
        guard try await watcher.wait(seconds: 30, for: { $0.contains(" 001 ") }) != nil else {
            watcher.close()
            throw POSIXError(.ETIMEDOUT)
        }
        watcher.send("JOIN \(channel)")
        guard try await watcher.wait(seconds: 30, for: { $0.contains(" 366 ") }) != nil else {
            watcher.close()
            throw POSIXError(.ETIMEDOUT)
        }
        return watcher
    }

    func send(_ line: String) {
        let bytes = Array((line + "\r\n").utf8)
        _ = bytes.withUnsafeBytes { Glibc.send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    /// Every line received so far.
    var lines: [String] { received.withLock { $0 } }

    /// Waits up to `seconds` for a line that `matches`.
    func wait(seconds: Double, for matches: (String) -> Bool) async throws -> String? {
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        while ContinuousClock.now < deadline {
            if let line = lines.first(where: matches) { return line }
            try await Task.sleep(for: .milliseconds(50))
        }
        return lines.first(where: matches)
    }

    func close() {
        send("QUIT :done")
        shutdown(socket, Int32(SHUT_RDWR))
    }

    private func readLines() {
        var pending: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(socket, $0.baseAddress, $0.count, 0) }
            if count <= 0 { break }
            pending += buffer[0..<count]
            while let end = pending.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: pending[..<end], as: UTF8.self)
                    .trimmingCharacters(in: CharacterSet(charactersIn: "\r"))
                pending.removeSubrange(...end)
                if line.hasPrefix("PING ") { send("PONG " + line.dropFirst(5)) }
                received.withLock { $0.append(line) }
            }
        }
        Glibc.close(socket)
    }
}
