import Foundation
import ParleyConformance
import ParleyCore
import ParleyStore
import Testing

/// Two `parley serve` replicas on one PostgreSQL database with one IRC adapter: exactly one holds
/// the IRC connection, the other stands by (and stays ready for HTTP); when the leader is killed
/// the other takes the connection over.
@Suite(.requires(.postgres, .ngircd)) struct ServeLeadershipTests {
    func writeConfig(_ directory: URL, database: PostgresURL, ircPort: Int) throws -> String {
        let path = directory.appendingPathComponent("parley.yaml").path
        try """
        server: { listen: "127.0.0.1:0", shutdown_grace: 1s }
        storage: { url: "\(database.redacted)", tls: disable, pool: 4 }
        adapters:
          irc: { server: "127.0.0.1:\(ircPort)", nick: "pl\(Int.random(in: 1000...9999))", channels: ["#leader-test"] }
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

/// `GET path` on 127.0.0.1:`port`: the status code and the body.
func httpGet(_ path: String, port: Int) async throws -> (status: Int, body: String) {
    try await httpRequest("GET", path, port: port)
}

/// One HTTP/1.1 request on 127.0.0.1:`port`, read to the end: the status code and the body.
func httpRequest(_ method: String, _ path: String, port: Int, token: String? = nil, json: String? = nil)
    async throws -> (status: Int, body: String)
{
    try await offThread {
        var request = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n"
        if let token { request += "Authorization: Bearer \(token)\r\n" }
        if let json { request += "Content-Type: application/json\r\nContent-Length: \(json.utf8.count)\r\n" }
        request += "\r\n" + (json ?? "")
        let socket = try connectedSocket(port: port)
        defer { close(socket) }
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
