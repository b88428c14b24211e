import Foundation

/// `parley serve` as a child process of the test. Started with `posix_spawn`, not `Process`, so that
/// nobody reaps it behind the test's back: a server killed with `kill -9` stays a zombie until
/// `reap()`, as it does under a supervisor that has not got round to it yet.
final class ServeProcess {
    let pid: pid_t
    let port: Int
    private(set) var exitStatus: Int32?

    private init(pid: pid_t, port: Int) {
        self.pid = pid
        self.port = port
    }

    /// Starts `parley serve` and waits for the line that names its port.
    static func start(config: String, log: URL, errors: URL) async throws -> ServeProcess {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, log.path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, errors.path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        let arguments = [ParleyBinary.path, "serve", "--config", config, "--log-format", "json"]
        let argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        let environment = ProcessInfo.processInfo.environment.map { "\($0.key)=\($0.value)" }
        let envp: [UnsafeMutablePointer<CChar>?] = environment.map { strdup($0) } + [nil]
        defer { for pointer in envp { free(pointer) } }
        var pid: pid_t = 0
        guard posix_spawn(&pid, ParleyBinary.path, &actions, nil, argv, envp) == 0 else {
            throw POSIXError(.ENOEXEC)
        }
        for _ in 0..<400 {
            let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            if let range = text.range(of: #"listening: open http://127\.0\.0\.1:[0-9]+"#, options: .regularExpression),
                let port = Int(text[range].split(separator: ":").last ?? "")
            {
                return ServeProcess(pid: pid, port: port)
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        let server = ServeProcess(pid: pid, port: 0)
        kill(pid, SIGKILL)
        _ = server.reap()
        let problem = (try? String(contentsOf: errors, encoding: .utf8)) ?? ""
        throw CocoaError(
            .fileReadUnknown, userInfo: [NSLocalizedDescriptionKey: "parley serve did not start: \(problem)"])
    }

    /// Collects the exit status if the process has exited; true when it has.
    func reap(wait: Bool = true) -> Bool {
        if exitStatus != nil { return true }
        var status: Int32 = 0
        guard waitpid(pid, &status, wait ? 0 : WNOHANG) == pid else { return false }
        exitStatus = status
        return true
    }

    /// Waits up to `deadline` for the process to exit; true when it did.
    func waitForExit(within deadline: Duration) async throws -> Bool {
        let end = ContinuousClock.now + deadline
        while !reap(wait: false) && ContinuousClock.now < end { try await Task.sleep(for: .milliseconds(20)) }
        return reap(wait: false)
    }

    /// True when it exited by itself with status 0.
    var exitedCleanly: Bool { exitStatus.map { $0 & 0x7f == 0 && ($0 >> 8) & 0xff == 0 } ?? false }
}

/// Sends `POST /api/v1/messages` on a raw socket and leaves the connection open (a dropped connection
/// would cancel the command). Returns the socket, for the caller to close.
func postMessage(_ text: String, port: Int, token: String) throws -> Int32 {
    let body = #"{"text": "\#(text)"}"#
    let request =
        "POST /api/v1/messages HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nAuthorization: Bearer \(token)\r\n"
        + "Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
    let socket = try connectedSocket(port: port)
    let bytes = Array(request.utf8)
    guard bytes.withUnsafeBytes({ send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) == bytes.count else {
        close(socket)
        throw POSIXError(.EIO)
    }
    return socket
}

/// A TCP socket connected to 127.0.0.1:`port`, for the caller to close.
func connectedSocket(port: Int) throws -> Int32 {
    let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard socket >= 0 else { throw POSIXError(.EIO) }
    let connected = withLoopback(port: port) { connect(socket, $0, $1) }
    guard connected == 0 else {
        close(socket)
        throw POSIXError(.ECONNREFUSED)
    }
    return socket
}

/// True when `port` on 127.0.0.1 can be bound (nobody listens on it any more).
func canBind(port: Int) -> Bool {
    let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard socket >= 0 else { return false }
    defer { close(socket) }
    var one: Int32 = 1
    // As servers do (NIO sets it too): TIME_WAIT from closed connections does not block a new listener.
    setsockopt(socket, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
    let bound = withLoopback(port: port) { bind(socket, $0, $1) }
    return bound == 0 && listen(socket, 1) == 0
}

/// Processes whose command line holds `marker`, with their process groups (zombies left out).
func processes(withMarker marker: String) -> [(pid: Int32, group: Int32)] {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
    return names.compactMap { name -> (Int32, Int32)? in
        guard let pid = Int32(name),
            let line = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline"),
            String(decoding: line, as: UTF8.self).contains(marker),
            let stat = liveStat(pid)
        else { return nil }
        return (pid, stat.group)
    }
}

/// Live processes (not zombies) in any of these process groups.
func liveMembers(ofGroups groups: Set<Int32>) -> [Int32] {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
    return names.compactMap { name in
        guard let pid = Int32(name), let stat = liveStat(pid), groups.contains(stat.group) else { return nil }
        return pid
    }
}

/// A process's group, unless it is a zombie (fields after the last ')': state, ppid, pgrp).
private func liveStat(_ pid: Int32) -> (state: Character, group: Int32)? {
    guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/stat") else { return nil }
    let text = String(decoding: data, as: UTF8.self)
    guard let close = text.lastIndex(of: ")") else { return nil }
    let fields = text[text.index(after: close)...].split(separator: " ")
    guard fields.count > 3, let state = fields[0].first, state != "Z", state != "X", let group = Int32(fields[2])
    else { return nil }
    return (state, group)
}

/// Calls `body` with 127.0.0.1:`port` as a socket address and its length (for connect and bind).
private func withLoopback(port: Int, _ body: (UnsafePointer<sockaddr>, socklen_t) -> Int32) -> Int32 {
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    return withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
}
