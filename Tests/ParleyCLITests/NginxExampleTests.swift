import Foundation
import ParleyConformance
import ParleyCore
import ParleyStore
import Testing

extension TestService {
    /// Debian's nginx (`scripts/test` installs it without starting its system-wide service).
    static let nginx = TestService.executable(
        "nginx", path: { nginxBinary }, hint: "scripts/test installs Debian's nginx (or set PARLEY_TEST_NGINX)")
}

/// Debian's nginx, or the one `PARLEY_TEST_NGINX` names.
var nginxBinary: String { ProcessInfo.processInfo.environment["PARLEY_TEST_NGINX"] ?? "/usr/sbin/nginx" }

/// The README's load balancer, for real: `examples/nginx/parley.conf` in front of three replicas on
/// one PostgreSQL. Commands, the console's sign-in, its pages and its WebSocket all pass through it;
/// failed sign-ins are counted per client address as nginx forwards it; and with one replica killed
/// the others answer every command, none of them run twice.
@Suite(.requires(.postgres, .nginx)) struct NginxExampleTests {
    func writeConfig(_ directory: URL, _ name: String, database: PostgresURL, key: String, side: String) throws
        -> String
    {
        let path = directory.appendingPathComponent("\(name).yaml").path
        try """
        server: { listen: "127.0.0.1:0", trusted_proxies: [127.0.0.1], shutdown_grace: 1s }
        storage: { url: "\(database.redacted)", tls: disable, pool: 4 }
        data_dir: "\(directory.appendingPathComponent("data-\(name)").path)"
        audit: { signing_key: "file:\(key)" }
        users:
          alice: { roles: [ops], identities: ["local:alice"] }
        roles:
          ops: { allow: ["*"] }
        commands:
          mark:
            usage: "mark {n:int}"
            action: { exec: ["sh", "-c", "echo \\"$1\\" >> \(side); echo marked $1", "sh", "{{n}}"] }
        """.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// The example with the replicas' ports and a loopback listener, inside a minimal nginx.conf.
    func writeNginx(_ directory: URL, port: Int, replicas: [Int]) throws -> String {
        var example = try String(
            contentsOf: ParleyBinary.repository.appendingPathComponent("examples/nginx/parley.conf"), encoding: .utf8)
        for (index, replica) in replicas.enumerated() {
            let placeholder = "server 127.0.0.1:\(8081 + index) "
            try #require(example.contains(placeholder), "the example names \(placeholder)")
            example = example.replacingOccurrences(of: placeholder, with: "server 127.0.0.1:\(replica) ")
        }
        try #require(example.contains("listen 80;"))
        example = example.replacingOccurrences(of: "listen 80;", with: "listen 127.0.0.1:\(port);")
        let root = directory.appendingPathComponent("nginx").path
        let temporary = root + "/tmp"
        try FileManager.default.createDirectory(atPath: temporary, withIntermediateDirectories: true)
        // Workers may run as another user than the master (root here): they write the temporary files.
        try FileManager.default.setAttributes([.posixPermissions: 0o777], ofItemAtPath: temporary)
        try example.write(toFile: root + "/parley.conf", atomically: true, encoding: .utf8)
        let main = """
            daemon off;
            worker_processes 1;
            pid \(root)/nginx.pid;
            error_log \(root)/error.log warn;
            events { worker_connections 256; }
            http {
                access_log \(root)/access.log;
                client_body_temp_path \(temporary)/body;
                proxy_temp_path \(temporary)/proxy;
                fastcgi_temp_path \(temporary)/fastcgi;
                uwsgi_temp_path \(temporary)/uwsgi;
                scgi_temp_path \(temporary)/scgi;
                include \(root)/parley.conf;
            }
            """
        try main.write(toFile: root + "/nginx.conf", atomically: true, encoding: .utf8)
        return root
    }

    @Test(.timeLimit(.minutes(5)))
    func threeReplicasBehindTheExampleServeCommandsTheConsoleAndItsSocketAndOutliveOneOfThem() async throws {
        let database = try await TestPostgres.freshDatabase()
        let directory = try scratch()
        let key = directory.appendingPathComponent("audit.key").path
        let side = directory.appendingPathComponent("side.log").path
        let configs = try (1...3).map { try writeConfig(directory, "r\($0)", database: database, key: key, side: side) }
        let token = try await ParleyBinary.run(["tokens", "create", "--user", "alice", "--config", configs[0]]).output
            .trimmingCharacters(in: .whitespacesAndNewlines)
        try #require(token.hasPrefix("plt_"), "\(token)")
        let password = try await ParleyBinary.run(
            ["users", "set-password", "alice", "--config", configs[0]], stdin: "correct horse battery\n")
        try #require(password.status == 0, "\(password.error)")

        var replicas: [ServeProcess] = []
        defer {
            for replica in replicas {
                kill(replica.pid, SIGKILL)
                _ = replica.reap()
            }
        }
        // One after the other: the first one to start records the signing key's public half.
        for (index, config) in configs.enumerated() {
            replicas.append(
                try await ServeProcess.start(
                    config: config, log: directory.appendingPathComponent("r\(index + 1).log"),
                    errors: directory.appendingPathComponent("r\(index + 1).err")))
        }
        let port = try freeLoopbackPort()
        let root = try writeNginx(directory, port: port, replicas: replicas.map(\.port))
        let nginx = Process()
        nginx.executableURL = URL(fileURLWithPath: nginxBinary)
        nginx.arguments = ["-p", root, "-c", root + "/nginx.conf", "-e", root + "/error.log"]
        nginx.standardOutput = FileHandle.nullDevice
        nginx.standardError = FileHandle.nullDevice
        try nginx.run()
        defer { nginx.terminate() }
        var up = false
        for _ in 0..<100 where !up {
            up = (try? await exchange("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\n", port: port).status) == 200
            if !up { try await Task.sleep(for: .milliseconds(100)) }
        }
        let errors = (try? String(contentsOfFile: root + "/error.log", encoding: .utf8)) ?? ""
        try #require(up, "nginx did not answer: \(errors)")

        // Round-robin over all three: /readyz names the replica that answered.
        var answeredBy = Set<String>()
        for _ in 0..<9 {
            let ready = try await exchange("GET /readyz HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\n", port: port)
            #expect(ready.status == 200, "\(ready.body)")
            if let range = ready.body.range(of: #""replica" *: *"[^"]+""#, options: .regularExpression) {
                answeredBy.insert(String(ready.body[range]))
            }
        }
        #expect(answeredBy.count == 3, "answered by \(answeredBy)")

        // Commands through nginx, each with its Idempotency-Key.
        func command(_ n: Int) async throws -> Reply {
            let json = #"{"text": "mark \#(n)"}"#
            return try await exchange(
                "POST /api/v1/messages HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nAuthorization: Bearer \(token)\r\n"
                    + "Idempotency-Key: nginx-\(n)\r\nContent-Type: application/json\r\n"
                    + "Content-Length: \(json.utf8.count)\r\n",
                body: json, port: port)
        }
        for n in 1...30 {
            let answer = try await command(n)
            #expect(answer.status == 200 && answer.body.contains("marked \(n)"), "\(n): \(answer)")
        }

        // The console through nginx: sign in (the Origin a browser sends matches the Host nginx
        // passes on), a page, and the live view's WebSocket upgrade.
        let origin = "http://127.0.0.1:\(port)"
        let form = try await exchange("GET /login HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\n", port: port)
        let loginCookie = try #require(form.cookie(starting: "parley_login"), "\(form.head)")
        let csrf = try #require(form.formToken, "\(form.body)")
        func signIn(_ password: String, from address: String) async throws -> Reply {
            let body = "csrf=\(csrf)&username=alice&password=\(password)"
            return try await exchange(
                "POST /login HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nOrigin: \(origin)\r\nCookie: \(loginCookie)\r\n"
                    + "X-Forwarded-For: \(address)\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                    + "Content-Length: \(body.utf8.count)\r\n",
                body: body, port: port)
        }
        // A stranger at 203.0.113.7 guesses five times; the sixth is refused — from there only.
        for _ in 1...5 {
            #expect(try await signIn("wrong-password", from: "203.0.113.7").status == 401)
        }
        #expect(try await signIn("wrong-password", from: "203.0.113.7").status == 429)
        let signedIn = try await signIn("correct%20horse%20battery", from: "198.51.100.9")
        #expect(signedIn.status == 303, "\(signedIn.head)")
        let session = try #require(signedIn.cookie(starting: "parley_session"), "\(signedIn.head)")
        let cluster = try await exchange(
            "GET /cluster HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nCookie: \(session)\r\n", port: port)
        #expect(cluster.status == 200 && cluster.body.contains("<h1>Cluster</h1>"), "\(cluster.head)")
        let socket = try await exchange(
            "GET /ws HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nOrigin: \(origin)\r\nCookie: \(session)\r\n"
                + "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                + "Sec-WebSocket-Version: 13\r\n",
            port: port, headOnly: true)
        #expect(socket.status == 101, "\(socket.head)")
        #expect(
            socket.head.lowercased().contains("sec-websocket-accept: s3pplmbitxaq9kygzzhzrbk+xoo="), "\(socket.head)")

        // One replica dies: nginx sends its share to the others, every command is answered.
        kill(replicas[1].pid, SIGKILL)
        _ = replicas[1].reap()
        for n in 31...60 {
            let answer = try await command(n)
            #expect(answer.status == 200 && answer.body.contains("marked \(n)"), "\(n): \(answer)")
        }
        // A retry of an answered command through nginx runs nothing again.
        let retry = try await command(7)
        #expect(retry.status == 200 && retry.head.contains("Idempotent-Replayed: true"), "\(retry.head)")
        let marks = try String(contentsOfFile: side, encoding: .utf8).split(separator: "\n").compactMap { Int($0) }
        #expect(marks.sorted() == Array(1...60), "each command ran once: \(marks.sorted())")
        try? await TestPostgres.drop(database)
    }
}

/// An HTTP/1.1 answer: its status, head and body.
struct Reply: CustomStringConvertible {
    let status: Int
    let head: String
    let body: String

    /// `NAME=VALUE` of the first Set-Cookie whose name starts with `prefix`.
    func cookie(starting prefix: String) -> String? {
        head.split(separator: "\r\n").lazy.compactMap { line -> String? in
            guard line.lowercased().hasPrefix("set-cookie:") else { return nil }
            let value = line.dropFirst("set-cookie:".count).trimmingCharacters(in: .whitespaces)
            guard value.hasPrefix(prefix), let pair = value.split(separator: ";").first else { return nil }
            return String(pair)
        }.first
    }

    /// The sign-in form's hidden CSRF field.
    var formToken: String? {
        guard let range = body.range(of: #"name="csrf" value="[^"]+""#, options: .regularExpression) else { return nil }
        return body[range].split(separator: "\"").last.map(String.init)
    }

    var description: String { "\(status) \(body.prefix(300))" }
}

/// Sends `head` (request line and headers, each ending in CRLF; `Connection: close` is added) and
/// `body` to 127.0.0.1:`port`, and reads the answer to its end — or only its head, for an upgrade.
func exchange(_ head: String, body: String = "", port: Int, headOnly: Bool = false) async throws -> Reply {
    try await offThread {
        let socket = try connectedSocket(port: port)
        defer { close(socket) }
        var limit = timeval(tv_sec: 30, tv_usec: 0)
        setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        let request = Array((head + (headOnly ? "" : "Connection: close\r\n") + "\r\n" + body).utf8)
        guard request.withUnsafeBytes({ send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) == request.count
        else { throw POSIXError(.EIO) }
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            if headOnly, received.count >= 4, String(decoding: received, as: UTF8.self).contains("\r\n\r\n") { break }
            let count = buffer.withUnsafeMutableBytes { recv(socket, $0.baseAddress, $0.count, 0) }
            if count <= 0 { break }
            received += buffer[0..<count]
        }
        let text = String(decoding: received, as: UTF8.self)
        guard let end = text.range(of: "\r\n\r\n"), let status = Int(text.split(separator: " ").dropFirst().first ?? "")
        else { throw POSIXError(.EBADMSG) }
        return Reply(status: status, head: String(text[..<end.lowerBound]), body: String(text[end.upperBound...]))
    }
}

/// A port on 127.0.0.1 that nobody listens on now.
func freeLoopbackPort() throws -> Int {
    let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard socket >= 0 else { throw POSIXError(.EIO) }
    defer { close(socket) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
            bind(socket, pointer, length) == 0 && getsockname(socket, pointer, &length) == 0
        }
    }
    guard bound else { throw POSIXError(.EADDRINUSE) }
    return Int(UInt16(bigEndian: address.sin_port))
}
