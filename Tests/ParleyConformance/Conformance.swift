import Foundation
import ParleyCore
import ParleyEngine
import ParleyStore
import Testing

/// One message a test person saw from Parley on a platform.
public struct ObservedMessage: Sendable, CustomStringConvertible {
    /// Where it was posted: `room` for the shared room, `direct` for the direct conversation.
    public var room: String
    /// The thread it belongs to, where the platform has threads.
    public var thread: String?
    /// Its text as a person reads it (plain text, or the fallback text of a rich message).
    public var text: String
    /// True when the platform shows buttons with it.
    public var hasButtons: Bool
    /// How many bytes it took on the wire, for the platform's size limit.
    public var size: Int

    /// Creates an observation.
    public init(room: String, thread: String? = nil, text: String, hasButtons: Bool = false, size: Int? = nil) {
        self.room = room
        self.thread = thread
        self.text = text
        self.hasButtons = hasButtons
        self.size = size ?? text.utf8.count
    }

    public var description: String { "[\(room)\(thread.map { " thread \($0)" } ?? "")] \(text)" }
}

/// Where a test person speaks.
public enum Venue: Sendable, Equatable {
    /// The shared room the adapter is in.
    case room
    /// A direct conversation with Parley.
    case direct
}

/// The two people of the suite: `alice` may run everything; `mallory` is not mapped to anyone.
public enum Person: String, Sendable, CaseIterable {
    case alice, mallory
}

/// What the conformance suite needs from one platform: a way to speak as a person and see what
/// Parley posts. Each adapter's tests implement it against a real server or a strict fake.
public protocol ConformanceDriver: Sendable {
    /// The platform name (`irc`, `slack` …).
    var platform: String { get }
    /// The `adapters:` section for this platform (YAML, indented by two spaces under `adapters:`),
    /// empty when the adapter is not configured through the file.
    var adapterYAML: String { get }
    /// The identity (`platform:id`) alice speaks with.
    var aliceIdentity: String { get }
    /// More `users:` entries (YAML, indented by two spaces), for platforms where only users can speak.
    var extraUsersYAML: String { get }
    /// The most bytes one message may take on this platform.
    var messageLimit: Int { get }
    /// Whether the platform shows buttons (approvals then come with Approve/Deny).
    var hasButtons: Bool { get }
    /// Whether the platform has threads that replies should stay in.
    var hasThreads: Bool { get }
    /// Whether the platform has shared rooms (the terminal has only a direct conversation).
    var hasRooms: Bool { get }
    /// How a person mentions Parley on this platform, followed by `text`.
    func mention(_ text: String) -> String
    /// Starts what the configuration must point at (a fake platform's port), before `adapterYAML` is read.
    func prepare() async throws
    /// Starts the adapter over `engine` and whatever the test people need; returns once people can speak.
    func start(engine: Engine) async throws
    /// Says `text` as `person`; in a thread when `thread` is given and the platform has threads.
    func say(_ text: String, as person: Person, in venue: Venue, thread: String?) async throws
    /// What Parley posted that `person` can see, in order, since the driver started.
    func seen(by person: Person) async -> [ObservedMessage]
    /// The thread id the last message `person` said started, for platforms with threads.
    func lastThread(of person: Person) async -> String?
    /// Delivers the last message `person` said once more, as the platform does when it retries;
    /// false when the platform never redelivers.
    /// Delivers the person's last message again, as the platform's retry would; returns once Parley
    /// has finished with the redelivery. False when the platform never redelivers.
    func redeliverLast(of person: Person) async throws -> Bool
    /// Breaks the adapter's connection to the platform the way a server restart does; false when the
    /// adapter holds no connection.
    func dropConnection() async throws -> Bool
    /// Stops everything the driver started.
    func stop() async
}

extension ConformanceDriver {
    public var hasRooms: Bool { true }
    public var extraUsersYAML: String { "" }

    public func prepare() async throws {}

    public func say(_ text: String, as person: Person, in venue: Venue = .room) async throws {
        try await say(text, as: person, in: venue, thread: nil)
    }
}

/// A conformance check that did not hold.
public struct ConformanceFailure: Error, CustomStringConvertible {
    public var description: String

    /// Creates a failure.
    public init(description: String) {
        self.description = description
    }
}

/// A check the driver turned out unable to run (found only once it started).
struct ConformanceCheckNotRun: Error {
    var reason: String
}

/// One check of the conformance suite, named for what it proves.
public enum ConformanceCheck: String, CaseIterable, Sendable, CustomStringConvertible, CustomTestStringConvertible {
    case addressedMessageIsAnsweredInTheSameRoom = "an addressed message is answered in the same room"
    case chatterIsIgnored = "chatter is ignored"
    case directMessagesNeedNoPrefix = "direct messages need no prefix"
    case mentionsAddressParley = "mentions address Parley"
    case identitiesMapToUsers = "identities map to users"
    case longRepliesStayWithinTheLimit = "long replies stay within the limit"
    case richRepliesHaveAFallback = "rich replies have a fallback"
    case approvalsOfferButtonsOrCommands = "approvals offer buttons or commands"
    case threadsAreKept = "threads are kept"
    case platformRetriesRunOnce = "platform retries run once"
    case reconnectsAfterTheConnectionDrops = "the adapter reconnects"

    public var description: String { rawValue }
    public var testDescription: String { rawValue }
}

/// The suite every adapter passes: the same configuration, the same people, the same checks.
public struct ConformanceSuite: Sendable {
    public let driver: any ConformanceDriver
    /// How long to wait for a reply.
    public var timeout: Duration = .seconds(20)

    /// Creates a suite for a driver.
    public init(driver: any ConformanceDriver) {
        self.driver = driver
    }

    /// The configuration every platform is tested with.
    public func yaml() -> String {
        let adapters = driver.adapterYAML.isEmpty ? "" : "adapters:\n\(driver.adapterYAML)\n"
        return adapters + """
            server: { listen: "127.0.0.1:0" }
            users:
              alice: { roles: [ops], identities: ["\(driver.aliceIdentity)"] }
              bob: { roles: [lead], identities: ["local:bob-approver"] }
            \(driver.extraUsersYAML)
            roles:
              ops: { allow: ["*"] }
              lead: { allow: [help, approve, deny] }
            commands:
              deploy:
                usage: "deploy {app} to {env:choice(staging,prod)}"
                help: Deploy an application
                action: { exec: ["printf", "deployed %s to %s\\\\n", "{{app}}", "{{env}}"] }
                rules:
                  - when: env == "prod"
                    require: { approvals: 1, approvers: [lead] }
              counter:
                usage: counter
                help: Counts each run in a file
                action: { exec: ["sh", "-c", "echo run >> counted; wc -l < counted"] }
              long:
                usage: long
                help: Prints many long lines
                action: { exec: ["sh", "-c", "for i in $(seq 1 120); do echo \\"line $i: $(printf 'é%.0s' $(seq 1 60))\\"; done"] }
            limits: { reply_lines: 400, reply_chars: 40000 }
            """
    }

    /// An engine over a fresh data folder with the suite's configuration.
    public func makeEngine(in directory: String = NSTemporaryDirectory() + "parley-conformance-" + UUID().uuidString)
        throws -> Engine
    {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let config = try ConfigLoader(builtins: Builtins.declarations).load(
            yaml: yaml(), file: "conformance.yaml", baseDirectory: directory)
        return Engine(config: config, store: try SQLiteStore(dataDirectory: config.dataDirectory))
    }

    /// Runs `check` over a fresh engine and a started driver. A check the driver cannot run (the
    /// platform has no threads, never redelivers …) cancels the test case with the check's name and
    /// the reason, so it shows as skipped, never as passed.
    public func run(_ check: ConformanceCheck) async throws {
        let driver = self.driver
        if let reason = reasonNotToRun(check) { try Test.cancel(Comment(rawValue: skip(check, reason))) }
        try await Self.within(.seconds(60), name: "\(driver.platform): prepare") { try await driver.prepare() }
        let engine = try makeEngine()
        try await Self.within(.seconds(60), name: "\(driver.platform): start") {
            try await driver.start(engine: engine)
        }
        do {
            try await Self.within(.seconds(120), name: "\(driver.platform): \(check)") { try await perform(check) }
        } catch let notRun as ConformanceCheckNotRun {
            await driver.stop()
            try Test.cancel(Comment(rawValue: skip(check, notRun.reason)))
        } catch {
            await driver.stop()
            throw error
        }
        await driver.stop()
    }

    /// Runs every check, in order, over one engine and one started driver; stops at the first
    /// failure. Checks the driver cannot run cancel the test at the end, each named with its reason.
    /// Prefer a test over `ConformanceCheck.allCases` with `run(_:)`: it shows each check alone.
    public func run() async throws {
        let driver = self.driver
        try await Self.within(.seconds(60), name: "\(driver.platform): prepare") { try await driver.prepare() }
        let engine = try makeEngine()
        try await Self.within(.seconds(60), name: "\(driver.platform): start") {
            try await driver.start(engine: engine)
        }
        var skipped: [String] = []
        do {
            for check in ConformanceCheck.allCases {
                if let reason = reasonNotToRun(check) {
                    skipped.append(skip(check, reason))
                    continue
                }
                do {
                    try await Self.within(.seconds(120), name: "\(driver.platform): \(check)") {
                        try await perform(check)
                    }
                } catch let notRun as ConformanceCheckNotRun {
                    skipped.append(skip(check, notRun.reason))
                }
            }
        } catch {
            await driver.stop()
            throw error
        }
        await driver.stop()
        if !skipped.isEmpty { try Test.cancel(Comment(rawValue: skipped.joined(separator: "; "))) }
    }

    private func skip(_ check: ConformanceCheck, _ reason: String) -> String {
        "\(driver.platform) cannot run “\(check)”: \(reason)"
    }

    /// Why the driver cannot run `check`, when its declared capabilities say so before it starts.
    func reasonNotToRun(_ check: ConformanceCheck) -> String? {
        switch check {
        case .chatterIsIgnored where !driver.hasRooms: "it has no shared rooms"
        case .threadsAreKept where !driver.hasThreads: "it has no threads"
        default: nil
        }
    }

    private func perform(_ check: ConformanceCheck) async throws {
        switch check {
        case .addressedMessageIsAnsweredInTheSameRoom: try await addressedMessageIsAnsweredInTheSameRoom()
        case .chatterIsIgnored: try await chatterIsIgnored()
        case .directMessagesNeedNoPrefix: try await directMessagesNeedNoPrefix()
        case .mentionsAddressParley: try await mentionsAddressParley()
        case .identitiesMapToUsers: try await identitiesMapToUsersAndStrangersAreRefusedWithTheReason()
        case .longRepliesStayWithinTheLimit: try await longRepliesStayWithinThePlatformsLimit()
        case .richRepliesHaveAFallback: try await richRepliesHaveAReadableFallback()
        case .approvalsOfferButtonsOrCommands: try await approvalsOfferButtonsOrCommands()
        case .threadsAreKept: try await threadsAreKept()
        case .platformRetriesRunOnce: try await platformRetriesRunOnce()
        case .reconnectsAfterTheConnectionDrops: try await reconnectsAfterTheConnectionDrops()
        }
    }

    // MARK: the checks

    func addressedMessageIsAnsweredInTheSameRoom() async throws {
        let mark = await driver.seen(by: .alice).count
        try await driver.say("!deploy api to staging", as: .alice)
        let reply = try await next(for: .alice, after: mark) { $0.text.contains("deployed api to staging") }
        try expect(reply.room == roomName(.room), "the reply went to \(reply.room), not the room: \(reply)")
    }

    func chatterIsIgnored() async throws {
        try await driver.say("deploying by hand today, no bot needed", as: .alice)
        let mark = await driver.seen(by: .alice).count
        try await driver.say("!ping", as: .alice)
        let first = try await next(for: .alice, after: mark) { _ in true }
        try expect(first.text.lowercased().contains("pong"), "chatter got an answer before ping did: \(first)")
    }

    func directMessagesNeedNoPrefix() async throws {
        let mark = await driver.seen(by: .alice).count
        try await driver.say("deploy web to staging", as: .alice, in: .direct)
        let reply = try await next(for: .alice, after: mark) { $0.text.contains("deployed web to staging") }
        try expect(reply.room == roomName(.direct), "a direct message was answered in \(reply.room)")
    }

    func mentionsAddressParley() async throws {
        let mark = await driver.seen(by: .alice).count
        try await driver.say(driver.mention("deploy db to staging"), as: .alice)
        _ = try await next(for: .alice, after: mark) { $0.text.contains("deployed db to staging") }
    }

    func identitiesMapToUsersAndStrangersAreRefusedWithTheReason() async throws {
        var mark = await driver.seen(by: .alice).count
        try await driver.say("!whoami", as: .alice)
        let who = try await next(for: .alice, after: mark) { $0.text.contains("alice") }
        try expect(who.text.contains("ops"), "whoami does not show alice's role: \(who)")
        mark = await driver.seen(by: .mallory).count
        try await driver.say("!deploy api to staging", as: .mallory)
        let refusal = try await next(for: .mallory, after: mark) { $0.text.contains("denied") }
        try expect(refusal.text.contains("needs role ops"), "the refusal does not say why: \(refusal)")
    }

    func longRepliesStayWithinThePlatformsLimit() async throws {
        let mark = await driver.seen(by: .alice).count
        try await driver.say("!long", as: .alice)
        let last = try await next(for: .alice, after: mark) { $0.text.contains("line 120") || $0.text.contains("run ") }
        let parts = await driver.seen(by: .alice).dropFirst(mark)
        for part in parts {
            try expect(
                part.size <= driver.messageLimit,
                "a message of \(part.size) bytes is over the \(driver.messageLimit) limit")
            try expect(!part.text.contains("\u{FFFD}"), "a message was cut inside a character: \(part)")
        }
        let all = parts.map(\.text).joined(separator: "\n")
        // The end of the output is where an error usually is: it always arrives; the start may be left
        // to `run N`'s pages.
        try expect(
            all.contains("line 120") && (all.contains("line 1:") || last.text.contains("run ")),
            "a long reply neither arrived whole nor ended with its last lines and a pointer to `run N`")
    }

    func richRepliesHaveAReadableFallback() async throws {
        var mark = await driver.seen(by: .alice).count
        try await driver.say("!help", as: .alice)
        let table = try await next(for: .alice, after: mark) { $0.text.contains("deploy") }
        try expect(table.text.contains("Deploy an application"), "help's table lost a cell: \(table)")
        mark = await driver.seen(by: .alice).count
        try await driver.say("!whoami", as: .alice)
        let fields = try await next(for: .alice, after: mark) { $0.text.contains("alice") }
        try expect(fields.text.contains("ops"), "whoami's fields lost a value: \(fields)")
    }

    func approvalsOfferButtonsOrCommands() async throws {
        let mark = await driver.seen(by: .alice).count
        try await driver.say("!deploy api to prod", as: .alice)
        let request = try await next(for: .alice, after: mark) { $0.text.lowercased().contains("approv") }
        if driver.hasButtons {
            try expect(request.hasButtons, "the approval request has no buttons: \(request)")
        } else {
            try expect(
                request.text.contains("approve "), "the approval request does not say how to approve: \(request)")
        }
    }

    func threadsAreKept() async throws {
        try await driver.say("starting an incident thread", as: .alice)
        guard let thread = await driver.lastThread(of: .alice) else {
            throw ConformanceFailure(description: "the driver has threads but gave no thread id")
        }
        let mark = await driver.seen(by: .alice).count
        try await driver.say("!deploy api to staging", as: .alice, in: .room, thread: thread)
        let reply = try await next(for: .alice, after: mark) { $0.text.contains("deployed api to staging") }
        try expect(reply.thread == thread, "a reply in thread \(thread) went to \(reply.thread ?? "the room")")
    }

    func platformRetriesRunOnce() async throws {
        var mark = await driver.seen(by: .alice).count
        try await driver.say("!counter", as: .alice)
        let first = try await next(for: .alice, after: mark) { Self.count(in: $0) != nil }
        guard try await driver.redeliverLast(of: .alice) else {
            throw ConformanceCheckNotRun(reason: "the platform never redelivers an event")
        }
        mark = await driver.seen(by: .alice).count
        try await driver.say("!counter", as: .alice)
        let second = try await next(for: .alice, after: mark) { Self.count(in: $0) != nil }
        let before = Self.count(in: first) ?? 0
        let after = Self.count(in: second) ?? 0
        try expect(after == before + 1, "a redelivered event ran again: counter went \(before) → \(after)")
    }

    func reconnectsAfterTheConnectionDrops() async throws {
        guard try await driver.dropConnection() else {
            throw ConformanceCheckNotRun(reason: "the adapter holds no connection to drop")
        }
        let mark = await driver.seen(by: .alice).count
        let deadline = ContinuousClock.now + .seconds(60)
        // Messages said while Parley is away may be lost on platforms without history (IRC);
        // once it is back, a command is answered.
        while ContinuousClock.now < deadline {
            try await driver.say("!ping", as: .alice)
            if (try? await next(for: .alice, after: mark, within: .seconds(3)) { $0.text.lowercased().contains("pong") })
                != nil
            {
                return
            }
        }
        throw ConformanceFailure(description: "no answer within a minute of the connection dropping")
    }

    // MARK: helpers

    /// Runs a check, failing it (instead of hanging the suite) when it takes longer than `limit`.
    static func within(_ limit: Duration, name: String, _ check: @escaping @Sendable () async throws -> Void)
        async throws
    {
        try await withThrowingTaskGroup(of: Bool.self) { group in
            group.addTask {
                try await check()
                return true
            }
            group.addTask {
                try await Task.sleep(for: limit)
                return false
            }
            let finished = try await group.next() ?? false
            group.cancelAll()
            if !finished { throw ConformanceFailure(description: "\(name) did not finish within \(limit)") }
        }
    }

    /// The number `counter` printed: the reply's first line that is a number.
    static func count(in message: ObservedMessage) -> Int? {
        message.text.split(separator: "\n").lazy.compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }.first
    }

    func roomName(_ venue: Venue) -> String { venue == .room && driver.hasRooms ? "room" : "direct" }

    /// The first message after `mark` that `matches`, waiting up to the timeout.
    public func next(
        for person: Person, after mark: Int, within: Duration? = nil,
        matching matches: (ObservedMessage) -> Bool
    ) async throws -> ObservedMessage {
        let deadline = ContinuousClock.now + (within ?? timeout)
        while ContinuousClock.now < deadline {
            if let found = await driver.seen(by: person).dropFirst(mark).first(where: matches) { return found }
            try await Task.sleep(for: .milliseconds(50))
        }
        let all = await driver.seen(by: person)
        if let found = all.dropFirst(mark).first(where: matches) { return found }
        let seen = all.dropFirst(mark).map(\.description).joined(separator: "\n")
        let before = all.prefix(mark).suffix(3).map(\.description).joined(separator: "\n")
        throw ConformanceFailure(
            description:
                "\(driver.platform): \(person) saw no expected message; saw:\n\(seen.isEmpty ? "nothing" : seen)"
                + "\nafter:\n\(before)")
    }

    func expect(_ condition: Bool, _ message: @autoclosure () -> String) throws {
        if !condition { throw ConformanceFailure(description: "\(driver.platform): \(message())") }
    }
}
