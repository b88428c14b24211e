import Foundation
import ParleyConformance
import Testing

/// A `parley serve` killed while it runs a command someone asked for on IRC: the next start marks
/// the run interrupted and says so in the channel, so whoever asked learns it did not finish.
@Suite(.requires(.ngircd)) struct ServeInterruptionTests {
    @Test func aRunInterruptedByAKilledServerIsToldInItsChannelAtTheNextStart() async throws {
        let ircPort = try #require(ProcessInfo.processInfo.environment["PARLEY_TEST_IRC_PORT"].flatMap { Int($0) })
        let directory = try scratch()
        let channel = "#interrupt\(Int.random(in: 1000...9999))"
        let person = "p\(Int.random(in: 10000...99999))"
        let bot = "pb\(Int.random(in: 1000...9999))"
        let started = directory.appendingPathComponent("started").path
        let config = directory.appendingPathComponent("parley.yaml").path
        try """
        server: { listen: "127.0.0.1:0", shutdown_grace: 1s }
        data_dir: "\(directory.appendingPathComponent("data").path)"
        adapters:
          irc: { server: "127.0.0.1:\(ircPort)", nick: "\(bot)", channels: ["\(channel)"], flood_control: off }
        users:
          alice: { roles: [ops], identities: ["irc:\(person)"] }
        roles:
          ops: { allow: ["*"] }
        commands:
          slow:
            usage: slow
            action: { exec: ["sh", "-c", "echo started > \(started); sleep 60"] }
        """.write(toFile: config, atomically: true, encoding: .utf8)
        let first = try await ServeProcess.start(
            config: config, log: directory.appendingPathComponent("first.log"),
            errors: directory.appendingPathComponent("first.err"))
        var servers = [first]
        defer {
            for server in servers where !server.reap(wait: false) {
                kill(server.pid, SIGKILL)
                _ = server.reap()
            }
        }
        let watcher = try await IRCWatcher.join(port: ircPort, nick: person, channel: channel)
        defer { watcher.close() }
        // The bot is in the channel once it shows in the names list or joins after us.
        var present = false
        for _ in 0..<300 where !present {
            watcher.send("NAMES \(channel)")
            present = try await watcher.wait(seconds: 0.5) { $0.contains(" 353 ") && $0.contains(bot) } != nil
        }
        #expect(present, "the bot never joined \(channel)")

        watcher.send("PRIVMSG \(channel) :!slow")
        var running = false
        for _ in 0..<300 where !running {
            try await Task.sleep(for: .milliseconds(100))
            running = FileManager.default.fileExists(atPath: started)
        }
        #expect(running, "the command never started")
        kill(first.pid, SIGKILL)
        _ = first.reap()

        let second = try await ServeProcess.start(
            config: config, log: directory.appendingPathComponent("second.log"),
            errors: directory.appendingPathComponent("second.err"))
        servers.append(second)
        let told = try await watcher.wait(seconds: 60) {
            $0.contains("PRIVMSG \(channel) ") && $0.contains("Run #1 (`slow`) was interrupted")
        }
        #expect(
            told != nil, "the restarted server did not tell the channel; saw:\n\(watcher.lines.joined(separator: "\n"))"
        )
        kill(second.pid, SIGTERM)
        #expect(try await second.waitForExit(within: .seconds(20)))
    }
}
