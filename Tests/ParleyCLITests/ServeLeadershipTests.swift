import Foundation
import ParleyConformance
import ParleyCore
import ParleyStore
import Testing

/// Two `parley serve` replicas on one PostgreSQL database with one IRC adapter: exactly one holds
/// the IRC connection, the other stands by (and stays ready for HTTP); when the leader is killed
/// the other takes the connection over.
@Suite(.requires(.postgres, .ngircd)) struct ServeLeadershipTests {
    func writeConfig(
        _ directory: URL, database: PostgresURL, ircPort: Int, channel: String = "#leader-test", alertToken: String = ""
    ) throws -> String {
        let path = directory.appendingPathComponent("parley.yaml").path
        try """
        server: { listen: "127.0.0.1:0", shutdown_grace: 1s }
        storage: { url: "\(database.redacted)", tls: disable, pool: 4 }
        adapters:
          irc: { server: "127.0.0.1:\(ircPort)", nick: "pl\(Int.random(in: 1000...9999))", channels: ["\(channel)"] }
        alerts:
          sources:
            alertmanager: { token: "\(alertToken.isEmpty ? "unused-\(UUID().uuidString)" : alertToken)" }
          default_rooms: ["irc:\(channel)"]
        users:
          alice: { roles: [ops], identities: ["local:alice"] }
        roles:
          ops: { allow: ["*"] }
        """.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// The replica's `/readyz`: its HTTP status and what it says of IRC.
    func readiness(_ replica: ServeProcess) async throws -> (status: Int, irc: String?) {
        let (status, body) = try await httpGet("/readyz", port: replica.port)
        let object = try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]
        return (status, object?["irc"] as? String)
    }

    @Test func oneReplicaHoldsTheConnectionAndAnotherTakesOverWhenItDies() async throws {
        let ircPort = try #require(ProcessInfo.processInfo.environment["PARLEY_TEST_IRC_PORT"].flatMap { Int($0) })
        let database = try await TestPostgres.freshDatabase()
        let directory = try scratch()
        let config = try writeConfig(directory, database: database, ircPort: ircPort)
        var replicas: [ServeProcess] = []
        for name in ["a", "b"] {
            replicas.append(
                try await ServeProcess.start(
                    config: config, log: directory.appendingPathComponent("serve-\(name).log"),
                    errors: directory.appendingPathComponent("serve-\(name).err")))
        }
        defer {
            for replica in replicas where !replica.reap(wait: false) {
                kill(replica.pid, SIGKILL)
                _ = replica.reap()
            }
        }
        // One leads and is connected; the other stands by, and both are ready for HTTP.
        var states: [(status: Int, irc: String?)] = []
        for _ in 0..<200 {
            states = []
            for replica in replicas { states.append(try await readiness(replica)) }
            if Set(states.compactMap(\.irc)) == ["connected", "standing by"] { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(Set(states.compactMap(\.irc)) == ["connected", "standing by"], "\(states)")
        #expect(states.map(\.status) == [200, 200], "\(states)")
        let leaderIndex = try #require(states.firstIndex { $0.irc == "connected" })
        let leader = replicas[leaderIndex]
        let survivor = replicas[1 - leaderIndex]
        let store = try await PostgresStore.connect(PostgresSettings(url: database, tls: .disable, pool: 1))
        let before = try #require(try await store.leases().first { $0.name == "adapter:irc" })
        #expect(before.holder.split(separator: "/").dropFirst().first == "\(leader.pid)")

        // The leader dies without a word; the survivor takes the lease and the connection.
        kill(leader.pid, SIGKILL)
        _ = leader.reap()
        var took = false
        for _ in 0..<300 where !took {
            try await Task.sleep(for: .milliseconds(100))
            took = try await readiness(survivor).irc == "connected"
        }
        #expect(took, "the surviving replica did not take the IRC connection over")
        let after = try #require(try await store.leases().first { $0.name == "adapter:irc" })
        #expect(after.holder.split(separator: "/").dropFirst().first == "\(survivor.pid)")
        #expect(after.epoch == before.epoch + 1)
        let cluster = try await ParleyBinary.run(["cluster", "--config", config])
        #expect(cluster.status == 0, "\(cluster.error)")
        #expect(
            cluster.output.contains("adapter:irc  held by \(after.holder)  epoch \(after.epoch)  expires in"),
            "\(cluster.output)")
        let metrics = try await httpGet("/metrics", port: survivor.port).body
        #expect(metrics.contains(#"parley_adapter_leader_epoch_number{adapter="irc"} \#(after.epoch)"#), "\(metrics)")

        // A graceful stop gives the lease up at once.
        kill(survivor.pid, SIGTERM)
        #expect(try await survivor.waitForExit(within: .seconds(20)))
        let released = try #require(try await store.leases().first { $0.name == "adapter:irc" })
        #expect(released.expiresAt <= Date())
        await store.close()
        try await TestPostgres.drop(database)
    }
}

extension ServeLeadershipTests {
    /// Both replicas started and settled: the leader of IRC first, then the one standing by.
    func leaderAndFollower(_ replicas: [ServeProcess]) async throws -> (ServeProcess, ServeProcess) {
        var states: [(status: Int, irc: String?)] = []
        for _ in 0..<200 {
            states = []
            for replica in replicas { states.append(try await readiness(replica)) }
            if Set(states.compactMap(\.irc)) == ["connected", "standing by"] { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        let leader = try #require(states.firstIndex { $0.irc == "connected" }, "\(states)")
        return (replicas[leader], replicas[1 - leader])
    }

    /// An Alertmanager webhook with one firing alert named `name`.
    static func alert(_ name: String) -> String {
        """
        {"version":"4","status":"firing","receiver":"parley","groupLabels":{},"commonLabels":{},
         "commonAnnotations":{},"externalURL":"http://am","alerts":[{"status":"firing",
         "labels":{"alertname":"\(name)","severity":"critical"},"annotations":{"summary":"\(name) fired"},
         "startsAt":"2026-12-03T09:00:00Z","endsAt":"0001-01-01T00:00:00Z","generatorURL":""}]}
        """
    }

    /// The value of a metric without labels in `/metrics`, 0 when it is absent.
    func metric(_ name: String, _ replica: ServeProcess) async throws -> Double {
        let body = try await httpGet("/metrics", port: replica.port).body
        let line = body.split(separator: "\n").first { $0.hasPrefix(name + " ") }
        return line.flatMap { Double($0.split(separator: " ").last ?? "") } ?? 0
    }

    /// An alert that reaches the replica standing by (a load balancer may send a webhook anywhere)
    /// is posted on IRC by the leader, through the outbox; one that reaches it while the leader is
    /// dead waits in the outbox and is posted when it has taken the connection over.
    @Test func alertsReachingTheFollowerArePostedByTheLeaderEvenAcrossATakeover() async throws {
        let ircPort = try #require(ProcessInfo.processInfo.environment["PARLEY_TEST_IRC_PORT"].flatMap { Int($0) })
        let database = try await TestPostgres.freshDatabase()
        let directory = try scratch()
        let channel = "#outbox\(Int.random(in: 1000...9999))"
        let token = "alert-\(UUID().uuidString)"
        let config = try writeConfig(
            directory, database: database, ircPort: ircPort, channel: channel, alertToken: token)
        var replicas: [ServeProcess] = []
        for name in ["a", "b"] {
            replicas.append(
                try await ServeProcess.start(
                    config: config, log: directory.appendingPathComponent("serve-\(name).log"),
                    errors: directory.appendingPathComponent("serve-\(name).err")))
        }
        defer {
            for replica in replicas where !replica.reap(wait: false) {
                kill(replica.pid, SIGKILL)
                _ = replica.reap()
            }
        }
        let (leader, follower) = try await leaderAndFollower(replicas)
        let watcher = try await IRCWatcher.join(
            port: ircPort, nick: "w\(Int.random(in: 10000...99999))", channel: channel)
        defer { watcher.close() }

        let first = try await httpRequest(
            "POST", "/hooks/alertmanager", port: follower.port, token: token, json: Self.alert("OutboxFirst"))
        #expect(first.status == 200, "\(first.body)")
        let posted = try await watcher.wait(seconds: 30) {
            $0.contains("PRIVMSG \(channel) ") && $0.contains("OutboxFirst")
        }
        #expect(
            posted != nil,
            "the leader did not post the follower's alert; saw:\n\(watcher.lines.joined(separator: "\n"))")
        #expect(try await metric("parley_outbox_queued_total", follower) == 1)
        #expect(try await metric("parley_outbox_delivered_total", leader) == 1)
        #expect(try await metric("parley_outbox_queued_total", leader) == 0, "the leader posts its own directly")

        // The leader dies; an alert reaching the survivor before it took over waits in the outbox.
        kill(leader.pid, SIGKILL)
        _ = leader.reap()
        let second = try await httpRequest(
            "POST", "/hooks/alertmanager", port: follower.port, token: token, json: Self.alert("OutboxSecond"))
        #expect(second.status == 200, "\(second.body)")
        let late = try await watcher.wait(seconds: 60) {
            $0.contains("PRIVMSG \(channel) ") && $0.contains("OutboxSecond")
        }
        #expect(
            late != nil, "the alert queued before the takeover was lost; saw:\n\(watcher.lines.joined(separator: "\n"))"
        )
        #expect(try await readiness(follower).irc == "connected")
        #expect(watcher.lines.filter { $0.contains("OutboxSecond") }.count == 1, "posted once")
        let store = try await PostgresStore.connect(PostgresSettings(url: database, tls: .disable, pool: 1))
        let left = try await store.claimOutbound(platform: "irc", holder: "test", ttl: .seconds(1), limit: 10)
        #expect(left.isEmpty, "nothing is left queued")
        await store.close()
        kill(follower.pid, SIGTERM)
        #expect(try await follower.waitForExit(within: .seconds(20)))
        try await TestPostgres.drop(database)
    }
}

/// `GET path` on 127.0.0.1:`port`: the status code and the body.
func httpGet(_ path: String, port: Int) async throws -> (status: Int, body: String) {
    try await httpRequest("GET", path, port: port)
}

/// One HTTP/1.1 request on 127.0.0.1:`port`, read to the end: the status code and the body.
/// Gives up on an answer that does not come within `timeout` (a paused server).
func httpRequest(
    _ method: String, _ path: String, port: Int, token: String? = nil, json: String? = nil,
    headers: [String: String] = [:], timeout: Int = 0
) async throws -> (status: Int, body: String) {
    try await offThread {
        var request = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n"
        if let token { request += "Authorization: Bearer \(token)\r\n" }
        for (name, value) in headers { request += "\(name): \(value)\r\n" }
        if let json { request += "Content-Type: application/json\r\nContent-Length: \(json.utf8.count)\r\n" }
        request += "\r\n" + (json ?? "")
        let socket = try connectedSocket(port: port)
        defer { close(socket) }
        if timeout > 0 {
            var limit = timeval(tv_sec: timeout, tv_usec: 0)
            setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        }
        let bytes = Array(request.utf8)
        guard bytes.withUnsafeBytes({ send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) == bytes.count
        else { throw POSIXError(.EIO) }
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(socket, $0.baseAddress, $0.count, 0) }
            if count <= 0 { break }
            received += buffer[0..<count]
        }
        let text = String(decoding: received, as: UTF8.self)
        guard let head = text.range(of: "\r\n\r\n"),
            let status = Int(text.split(separator: " ").dropFirst().first ?? "")
        else { throw POSIXError(.EBADMSG) }
        return (status, String(text[head.upperBound...]))
    }
}
