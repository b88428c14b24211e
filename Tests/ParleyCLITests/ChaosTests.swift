import Foundation
import ParleyConformance
import ParleyCore
import ParleyStore
import Synchronization
import Testing

/// Three `parley serve` replicas on one PostgreSQL database, holding a real ngIRCd and a real
/// Synapse between them, while a driver kills a random replica with SIGKILL every few seconds and
/// starts it again. Commands arrive through the JSON API (round-robin, retried on another replica
/// with the same Idempotency-Key when a replica dies under them, as a load balancer's client
/// would), on IRC and on Matrix; some are runbooks that need another person's approval.
///
/// At the end: every command has exactly one run; what ran, ran once (the side-effect file); every
/// run finished or was marked interrupted; nothing was answered twice in any room; every Matrix
/// command was answered (the sync position and the event keys carry across takeovers); no lease is
/// held by a dead replica; the audit chain verifies.
@Suite(.requires(.postgres, .ngircd, .synapse), .serialized)
struct ChaosTests {
    /// The replicas, restarted under new ports as the driver kills them.
    actor Replicas {
        let config: String
        let directory: URL
        private var processes: [ServeProcess?]
        private var starts = 0

        init(config: String, directory: URL, count: Int) {
            self.config = config
            self.directory = directory
            processes = Array(repeating: nil, count: count)
        }

        var count: Int { processes.count }

        private var stopped = false

        func start(_ index: Int) async throws {
            starts += 1
            let name = "serve-\(index)-\(starts)"
            let process = try await ServeProcess.start(
                config: config, log: directory.appendingPathComponent("\(name).log"),
                errors: directory.appendingPathComponent("\(name).err"))
            guard !stopped else {
                // Started while the test was stopping them all.
                Glibc.kill(process.pid, SIGKILL)
                _ = process.reap()
                return
            }
            processes[index] = process
        }

        /// Which replica has process `pid`.
        func index(of pid: Int32) -> Int? { processes.firstIndex { $0?.pid == pid } }

        /// Killed without a word, and reaped (a supervisor would restart it).
        func kill(_ index: Int) {
            guard let process = processes[index] else { return }
            Glibc.kill(process.pid, SIGKILL)
            _ = process.reap()
            processes[index] = nil
        }

        func port(_ index: Int) -> Int? { processes[index % processes.count]?.port }
        var pids: Set<Int32> { Set(processes.compactMap { $0?.pid }) }

        /// Stops them gracefully; true when every one exited by itself within 20 s.
        func stopAll() async -> Bool {
            stopped = true
            let running = processes.compactMap { $0 }
            for process in running { Glibc.kill(process.pid, SIGTERM) }
            for _ in 0..<200 where !running.allSatisfy({ $0.reap(wait: false) }) {
                try? await Task.sleep(for: .milliseconds(100))
            }
            let clean = running.allSatisfy { $0.reap(wait: false) }
            for process in running where !process.reap(wait: false) {
                Glibc.kill(process.pid, SIGKILL)
                _ = process.reap()
            }
            processes = processes.map { _ in nil }
            return clean
        }
    }

    /// What the driver's tasks share.
    final class Progress: Sendable {
        let done = Atomic<Bool>(false)
        let kills = Atomic<Int>(0)
        let leaderKills = Atomic<Int>(0)
        let matrixSaid = Mutex<[Int]>([])
        let said = Atomic<Int>(0)
        let next = Atomic<Int>(0)
    }

    /// What one API command got in the end.
    struct Answer: Sendable {
        var status: Int
        var body: String
        var attempts: Int
        var took: Duration
        var json: [String: Any] {
            (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any] ?? [:]
        }
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Posts until a replica answers for good: another replica when one is down or dies under the
    /// request, the same key again while the run is still running (409) or the database is away (503).
    static func deliver(
        _ path: String, json: String?, key: String, token: String, replicas: Replicas, first: Int
    ) async throws -> Answer {
        let started = ContinuousClock.now
        var attempt = 0
        var last = "nothing"
        while ContinuousClock.now - started < .seconds(150) {
            defer { attempt += 1 }
            guard let port = await replicas.port(first + attempt) else {
                try await Task.sleep(for: .milliseconds(100))
                continue
            }
            guard
                let (status, body) = try? await httpRequest(
                    "POST", path, port: port, token: token, json: json, headers: ["Idempotency-Key": key],
                    timeout: 60)
            else {
                try await Task.sleep(for: .milliseconds(100))
                continue
            }
            let answer = Answer(status: status, body: body, attempts: attempt + 1, took: ContinuousClock.now - started)
            // "Parley could not record this command, so it did not run it": nothing was kept, ask again.
            let unrecorded = status == 200 && answer.json["run_id"] == nil
            let unfinished = status == 409 && (body.contains("still running") || body.contains("taken over"))
            last = "\(status) \(body)"
            if unfinished || status == 503 || unrecorded {
                try await Task.sleep(for: .milliseconds(300))
                continue
            }
            return answer
        }
        throw Failure(description: "\(path) with key \(key) got no answer in 150 s; the last: \(last)")
    }

    func writeConfig(
        _ directory: URL, database: PostgresURL, ircPort: Int, channel: String, ircPerson: String,
        matrix: MatrixTestHomeserver, bot: MatrixPerson, room: String, matrixPerson: MatrixPerson
    ) throws -> String {
        let path = directory.appendingPathComponent("parley.yaml").path
        let side = directory.appendingPathComponent("side.log").path
        try """
        server: { listen: "127.0.0.1:0", shutdown_grace: 1s }
        storage: { url: "\(database.redacted)", tls: disable, pool: 6 }
        adapters:
          irc: { server: "127.0.0.1:\(ircPort)", nick: "chaos\(Int.random(in: 1000...9999))", channels: ["\(channel)"] }
          matrix: { homeserver: "\(matrix.url)", user_id: "\(bot.userID)", access_token: "\(bot.token)", rooms: ["\(room)"] }
        users:
          alice: { roles: [ops], identities: ["local:alice", "irc:\(ircPerson)", "matrix:\(matrixPerson.userID)"] }
          bob: { roles: [approvers], identities: ["local:bob"] }
          carol: { roles: [approvers], identities: ["local:carol"] }
        roles:
          ops: { allow: ["*"] }
          approvers: { allow: [approve, deny] }
        commands:
          mark:
            usage: "mark {n:int}"
            action: { exec: ["sh", "-c", "sleep 0.2; echo \\"$1\\" >> \(side); echo marked $1", "sh", "{{n}}"] }
          release:
            usage: "release {n:int}"
            runbook:
              steps:
                - name: build
                  action: { exec: ["sh", "-c", "sleep 0.3; echo \\"$1-build\\" >> \(side)", "sh", "{{n}}"] }
                - name: ship
                  action: { exec: ["sh", "-c", "sleep 0.3; echo \\"$1-ship\\" >> \(side)", "sh", "{{n}}"] }
            rules:
              - require: { approvals: 1, approvers: [approvers] }
        """.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test(.timeLimit(.minutes(10)))
    func threeReplicasKilledAtRandomLoseNothingRunNothingTwiceAndAnswerOnce() async throws {
        let ircPort = try #require(ProcessInfo.processInfo.environment["PARLEY_TEST_IRC_PORT"].flatMap { Int($0) })
        let matrix = try #require(MatrixTestHomeserver.fromEnvironment())
        let database = try await TestPostgres.freshDatabase()
        let directory = try scratch()
        let channel = "#chaos\(Int.random(in: 1000...9999))"
        let ircNick = "ch\(Int.random(in: 10000...99999))"
        let bot = try await matrix.register("chaosbot")
        let person = try await matrix.register("alice")
        let onlooker = try await matrix.register("carol")
        // Three members: a room, where commands are addressed, not a direct chat.
        let room = try await person.createRoom(invite: [bot, onlooker])
        try await onlooker.join(room)
        let config = try writeConfig(
            directory, database: database, ircPort: ircPort, channel: channel, ircPerson: ircNick, matrix: matrix,
            bot: bot, room: room, matrixPerson: person)
        let alice = try await ParleyBinary.run(["tokens", "create", "--user", "alice", "--config", config]).output
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let bob = try await ParleyBinary.run(["tokens", "create", "--user", "bob", "--scope", "*", "--config", config])
            .output
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let replicas = Replicas(config: config, directory: directory, count: 3)
        try await Self.stoppingOnFailure(replicas) {
            try await chaos(
                replicas, config: config, directory: directory, database: database, tokens: (alice, bob),
                irc: (ircPort, channel, ircNick), matrix: (person, bot, room))
        }
    }

    /// Runs `body`; when it throws, the replicas are stopped before the error goes on.
    static func stoppingOnFailure(_ replicas: Replicas, _ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch {
            _ = await replicas.stopAll()
            throw error
        }
    }

    func chaos(
        _ replicas: Replicas, config: String, directory: URL, database: PostgresURL, tokens: (String, String),
        irc: (port: Int, channel: String, nick: String), matrix: (person: MatrixPerson, bot: MatrixPerson, room: String)
    ) async throws {
        let (alice, bob) = tokens
        let (ircPort, channel, ircNick) = irc
        let (person, bot, room) = matrix
        for index in 0..<3 { try await replicas.start(index) }
        let store = try await PostgresStore.connect(PostgresSettings(url: database, tls: .disable, pool: 2))
        let watcher = try await IRCWatcher.join(port: ircPort, nick: ircNick, channel: channel)
        let matrixWatcher = MatrixWatcher(as: person, watching: bot.userID)
        defer {
            watcher.close()
            matrixWatcher.stop()
        }
        // Someone leads each connection before the chaos starts.
        for _ in 0..<300 {
            let leases = try await store.leases().filter { $0.expiresAt > Date() }.map(\.name)
            if Set(leases).isSuperset(of: ["adapter:irc", "adapter:matrix"]) { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(try await bot.waitUntil(bot.userID, joins: room, seconds: 60))

        // The killer: every 1.5–3.5 s a random replica dies and is started again.
        let progress = Progress()
        // However this ends, the killer stops.
        defer { progress.done.store(true, ordering: .relaxed) }
        let killer = Task { @Sendable in
            while !progress.done.load(ordering: .relaxed) {
                try await Task.sleep(for: .milliseconds(Int.random(in: 1500...3500)))
                if progress.done.load(ordering: .relaxed) { break }
                // Every other kill is the leader of a connection: its takeover is what is tested.
                var victim = Int.random(in: 0..<3)
                if progress.kills.load(ordering: .relaxed) % 2 == 0,
                    let lease = try? await store.leases().filter({ $0.expiresAt > Date() }).randomElement(),
                    let pid = lease.holder.split(separator: "/").dropFirst().first.flatMap({ Int32($0) }),
                    let leader = await replicas.index(of: pid)
                {
                    victim = leader
                    progress.leaderKills.add(1, ordering: .relaxed)
                }
                await replicas.kill(victim)
                progress.kills.add(1, ordering: .relaxed)
                try await replicas.start(victim)
            }
        }
        // People on IRC and Matrix, one command a second each, while the chaos lasts.
        let chatter = Task { @Sendable in
            var k = 0
            while !progress.done.load(ordering: .relaxed) {
                k += 1
                watcher.send("PRIVMSG \(channel) :!mark \(7000 + k)")
                // Only what Synapse took counts as said.
                if (try? await person.say("!mark \(5000 + k)", in: room)) != nil {
                    progress.matrixSaid.withLock { $0.append(k) }
                }
                progress.said.store(k, ordering: .relaxed)
                try await Task.sleep(for: .seconds(1))
            }
        }

        // 300 API commands, four at a time; every tenth is a runbook bob approves.
        let total = 300
        let answers = try await withThrowingTaskGroup(of: [(Int, Answer, Answer?)].self) { group in
            for worker in 0..<4 {
                group.addTask {
                    var mine: [(Int, Answer, Answer?)] = []
                    while true {
                        let n = progress.next.add(1, ordering: .relaxed).oldValue
                        guard n < total else { break }
                        if n % 10 == 9 {
                            let asked = try await Self.deliver(
                                "/api/v1/messages", json: #"{"text": "release \#(n)"}"#, key: "release-\(n)",
                                token: alice, replicas: replicas, first: n + worker)
                            var approval: Answer?
                            if asked.status == 202 {
                                let id = try await Self.approvalID(for: "release \(n)", token: bob, replicas: replicas)
                                approval = try await Self.deliver(
                                    "/api/v1/approvals/\(id)/approve", json: nil, key: "approve-\(n)", token: bob,
                                    replicas: replicas, first: n + worker + 1)
                            }
                            mine.append((n, asked, approval))
                        } else {
                            let answer = try await Self.deliver(
                                "/api/v1/messages", json: #"{"text": "mark \#(n)"}"#, key: "mark-\(n)", token: alice,
                                replicas: replicas, first: n + worker)
                            mine.append((n, answer, nil))
                        }
                    }
                    return mine
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }.sorted { $0.0 < $1.0 }
        }
        progress.done.store(true, ordering: .relaxed)
        try await killer.value
        try await chatter.value
        // The chaos happened: replicas died, leaders among them.
        #expect(progress.kills.load(ordering: .relaxed) >= 4)
        #expect(progress.leaderKills.load(ordering: .relaxed) >= 2)
        // Every replica is up again (the killer always starts its victim again).
        #expect(await replicas.pids.count == 3)

        // Survivors settle what the dead left: nothing stays running or waiting.
        var unsettled: [RunRecord] = []
        for _ in 0..<600 {
            unsettled = try await store.runs(RunQuery(limit: 1000)).filter {
                [.running, .awaitingApproval, .awaitingConfirmation].contains($0.status)
            }
            if unsettled.isEmpty { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(unsettled.isEmpty, "left unsettled: \(unsettled.map { "#\($0.id ?? 0) \($0.text) \($0.status)" })")

        // Every Matrix command is answered once: by its reply, or by the notice that it was interrupted.
        let said = progress.said.load(ordering: .relaxed)
        func matrixAnswers(_ k: Int) -> Int {
            matrixWatcher.messages.filter {
                $0.text.contains("marked \(5000 + k)")
                    || ($0.text.contains("mark \(5000 + k)") && $0.text.contains("interrupted"))
            }.count
        }
        let matrixSaid = progress.matrixSaid.withLock { $0 }
        #expect(matrixSaid.count >= said - 1, "Synapse refused \(said - matrixSaid.count) of \(said) messages")
        for _ in 0..<900 where !matrixSaid.allSatisfy({ matrixAnswers($0) >= 1 }) {
            try await Task.sleep(for: .milliseconds(100))
        }

        // The runs, as the database has them.
        let runs = try await store.runs(RunQuery(limit: 5000))
        let side = (try? String(contentsOf: directory.appendingPathComponent("side.log"), encoding: .utf8)) ?? ""
        var effects: [String: Int] = [:]
        for line in side.split(separator: "\n") { effects[String(line), default: 0] += 1 }
        #expect(effects.values.allSatisfy { $0 == 1 }, "ran twice: \(effects.filter { $0.value > 1 })")

        var succeeded = 0
        var interrupted = 0
        var retried = 0
        var longest = Duration.zero
        for (n, answer, approval) in answers {
            retried += answer.attempts > 1 ? 1 : 0
            longest = max(longest, answer.took, approval?.took ?? .zero)
            let text = n % 10 == 9 ? "release \(n)" : "mark \(n)"
            let own = runs.filter { $0.text == text }
            #expect(own.count == 1, "'\(text)' has \(own.count) runs; answered \(answer.status) \(answer.body)")
            guard let run = own.first else { continue }
            #expect(answer.json["run_id"] as? Int == run.id.map(Int.init), "'\(text)': \(answer.body)")
            switch run.status {
            case .succeeded:
                succeeded += 1
                let expected = n % 10 == 9 ? ["\(n)-build", "\(n)-ship"] : ["\(n)"]
                for effect in expected { #expect(effects[effect] == 1, "'\(text)' succeeded but \(effect) is missing") }
            case .interrupted:
                interrupted += 1
            default:
                Issue.record("'\(text)' ended \(run.status.rawValue): \(run.reason)")
            }
        }
        // Chat: what was answered was answered once; Matrix answered everything.
        let ircLines = watcher.lines.filter { $0.contains("PRIVMSG \(channel) ") }
        var ircAnswered = 0
        for k in 1...max(1, said) {
            let replies = ircLines.filter { $0.contains("marked \(7000 + k)") }.count
            #expect(replies <= 1, "IRC: !mark \(7000 + k) was answered \(replies) times")
            ircAnswered += replies > 0 ? 1 : 0
            if matrixSaid.contains(k) {
                #expect(matrixAnswers(k) == 1, "Matrix: !mark \(5000 + k) was answered \(matrixAnswers(k)) times")
            }
        }
        let matrixOnce = matrixSaid.filter { matrixAnswers($0) == 1 }.count
        // Chat commands ran at most once too, and every one the room heard of has one run.
        for k in 1...max(1, said) {
            for n in [5000 + k, 7000 + k] {
                #expect(runs.filter { $0.text == "mark \(n)" }.count <= 1, "mark \(n) has several runs")
            }
        }

        // No lease is held by a replica that is gone.
        let live = await replicas.pids
        let leases = try await store.leases()
        let takeovers = leases.map { "\($0.name) epoch \($0.epoch)" }.sorted().joined(separator: ", ")
        for lease in leases where lease.expiresAt > Date() {
            let pid = lease.holder.split(separator: "/").dropFirst().first.flatMap { Int32($0) }
            #expect(pid.map(live.contains) == true, "\(lease.name) is held by \(lease.holder), which is gone")
        }
        let verify = try await ParleyBinary.run(["audit", "verify", "--config", config])
        #expect(verify.status == 0, "\(verify.output)\(verify.error)")

        print(
            """
            chaos: \(progress.kills.load(ordering: .relaxed)) kills (\(progress.leaderKills.load(ordering: .relaxed)) of a leader); \(answers.count) API commands: \(succeeded) succeeded, \
            \(interrupted) interrupted, \(retried) retried on another replica; longest wait for an answer \
            \(longest.formatted(.units(allowed: [.seconds], fractionalPart: .show(length: 1)))); \
            IRC: \(ircAnswered) of \(said) answered; Matrix: \(matrixOnce) of \(matrixSaid.count) answered once; \
            side effects: \(effects.count), none twice; leases: \(takeovers)
            """)
        #expect(await replicas.stopAll(), "a replica did not stop on SIGTERM")
        await store.close()
        try await TestPostgres.drop(database)
    }

    /// The id of the pending approval request for `text`, read from any replica that answers.
    static func approvalID(for text: String, token: String, replicas: Replicas) async throws -> String {
        for attempt in 0..<600 {
            if let port = await replicas.port(attempt),
                let (status, body) = try? await httpRequest(
                    "GET", "/api/v1/approvals", port: port, token: token, timeout: 30),
                status == 200,
                let list = try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [[String: Any]],
                let id = list.first(where: { $0["text"] as? String == text })?["id"] as? String
            {
                return id
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw Failure(description: "no pending approval for '\(text)'")
    }
}
