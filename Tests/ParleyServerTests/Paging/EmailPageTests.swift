import Foundation
import ParleyAdapters
import ParleyConformance
import ParleyCore
import ParleyEngine
import ParleyServer
import ParleyStore
import Testing

/// Pages e-mailed through a real SMTP server: Python's standard-library `smtpd` (Python 3.11, as
/// Debian ships it), which records each message it accepts.
@Suite struct EmailPageTests {
    static let hasSMTPD: Bool = {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-W", "ignore", "-c", "import smtpd, asyncore"]
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        guard (try? process.run()) != nil else { return false }
        process.waitUntilExit()
        return process.terminationStatus == 0
    }()

    static let server = """
        import smtpd, asyncore, sys, json, os, threading
        # Gone when the test is: its stdin closes with the test process, whatever started it.
        threading.Thread(target=lambda: (sys.stdin.read(), os._exit(0)), daemon=True).start()
        class Recorder(smtpd.SMTPServer):
            def process_message(self, peer, mailfrom, rcpttos, data, **kw):
                with open(sys.argv[2], "a") as f:
                    f.write(json.dumps({"from": mailfrom, "to": rcpttos, "data": data.decode("utf-8")}) + "\\n")
        server = Recorder(("127.0.0.1", 0), None, decode_data=False)
        print(server.socket.getsockname()[1], flush=True)
        asyncore.loop()
        """

    @Test(.enabled(if: hasSMTPD || ProcessInfo.processInfo.environment["CI"] != nil, "python3 with smtpd (3.11)"))
    func aPageIsEmailedToThePersonPagedWithHeadersSafeFromInjection() async throws {
        let directory = temporaryDirectory()
        let mailbox = directory + "/mailbox.jsonl"
        let smtpd = Process()
        smtpd.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        // The server binds a free port itself and says which: no other test can take it meanwhile.
        smtpd.arguments = ["python3", "-W", "ignore", "-c", Self.server, "0", mailbox]
        let output = Pipe()
        let input = Pipe()
        smtpd.standardOutput = output
        smtpd.standardInput = input
        try smtpd.run()
        defer {
            try? input.fileHandleForWriting.close()
            smtpd.terminate()
        }
        let announced = try await offThread { output.fileHandleForReading.availableData }
        let port = try #require(
            Int(String(decoding: announced, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(try await Self.connect(port))

        let config = try ConfigLoader(builtins: Builtins.declarations).load(
            yaml: """
                adapters:
                  email: { smtp: "127.0.0.1:\(port)", from: "parley@example.org" }
                users:
                  alice: { roles: [sre], identities: ["local:alice", "email:alice@example.org"] }
                roles:
                  sre: { allow: ["*"] }
                """, file: "test.yaml", baseDirectory: directory)
        let store = try SQLiteStore(dataDirectory: config.dataDirectory)
        let engine = Engine(config: config, store: store)
        _ = ParleyHTTPServer(
            engine: engine, store: store, adapters: [EmailAdapter(settings: try #require(config.email))])
        let answer = try #require(
            await engine.handle(
                Inbound(
                    sender: Identity(platform: "local", id: "alice"), room: "terminal",
                    text: "oncall page alice disk full on db1\r\nBcc: evil@example.net ✓", isDirect: true)))
        #expect(answer.reply.plainText.hasPrefix("📟 paged alice (page 1)"))
        let deadline = ContinuousClock.now + .seconds(15)
        var lines: [String] = []
        while lines.isEmpty, ContinuousClock.now < deadline {
            lines = ((try? String(contentsOfFile: mailbox, encoding: .utf8)) ?? "").split(separator: "\n").map(
                String.init)
            if lines.isEmpty { try await Task.sleep(for: .milliseconds(100)) }
        }
        let mail = try #require(lines.first.flatMap { JSON(parsing: Array($0.utf8)) })
        #expect(mail["from"].string == "parley@example.org")
        #expect(mail["to"].array?.compactMap(\.string) == ["alice@example.org"])
        let data = try #require(mail["data"].string)
        let (head, body) = try #require(Self.split(data))
        #expect(head.contains("To: alice@example.org"))
        #expect(head.contains("Subject: =?UTF-8?B?"), "a subject that is not ASCII is encoded")
        #expect(!head.contains("Bcc:"), "no header was injected: \(head)")
        let text = String(
            decoding: Data(base64Encoded: body.filter { !$0.isWhitespace && !$0.isNewline }) ?? Data(), as: UTF8.self)
        #expect(text.hasPrefix("📟 Page #1, level 1 of user:alice: alice: disk full on db1"))
    }

    static func split(_ data: String) -> (String, String)? {
        guard let range = data.range(of: "\r\n\r\n") ?? data.range(of: "\n\n") else { return nil }
        return (String(data[..<range.lowerBound]), String(data[range.upperBound...]))
    }

    static func connect(_ port: Int) async throws -> Bool {
        let socket = Foundation.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Foundation.connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        return result == 0
    }
}
