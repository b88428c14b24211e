import AsyncHTTPClient
import Foundation
import Logging
import ParleyCore
import ParleyEngine
import Synchronization

/// The Matrix adapter: logs in to a homeserver, long-polls `/sync` from where it last stopped,
/// turns room messages into `Inbound`s and answers with HTML notices, edited live while a command
/// prints; reconnects with backoff.
public struct MatrixAdapter: ChatAdapter {
    public let platform = "matrix"
    let settings: MatrixSettings
    let environment: [String: String]
    let logger: Logger
    let http: HTTPClient
    /// The most events one sync returns per room; a room with more is back-filled from its history.
    let timelineLimit: Int
    /// How long one `/sync` waits for something to happen.
    let syncTimeout: Duration
    let state = ConnectionState()
    let connection = MatrixConnection()
    /// The notices asking for gates still open, to show each one's outcome in place of its commands.
    let gateNotices = GateMessages<MatrixPlacedNotice>()
    /// Commands received and still running (`settle()`).
    let work = InFlightWork()

    /// True while `/sync` succeeds.
    public var isConnected: Bool { state.isConnected }

    /// Creates an adapter.
    public init(
        settings: MatrixSettings, environment: [String: String] = ProcessInfo.processInfo.environment,
        timelineLimit: Int = 50, syncTimeout: Duration = .seconds(30), http: HTTPClient = .shared,
        logger: Logger = Logger(label: "parley.matrix")
    ) {
        self.settings = settings
        self.environment = environment
        self.timelineLimit = timelineLimit
        self.syncTimeout = syncTimeout
        self.http = http
        self.logger = logger
    }

    public func run(engine: any MessageHandler) async throws {
        var backoff = Duration.seconds(1)
        while !Task.isCancelled {
            do {
                let client = try await signIn()
                let session = MatrixSession(
                    client: client.client, userID: client.userID, adapter: self, engine: engine)
                connection.set(session.outbox)
                connection.set(client: client.client)
                connection.set(handler: engine)
                try await session.run()
            } catch is CancellationError {
                break
            } catch let error as MatrixError where error.code == "M_UNKNOWN_TOKEN" {
                connection.forgetToken()
                logger.warning("the homeserver no longer knows Parley's access token: \(error); signing in again")
            } catch {
                if Task.isCancelled { break }
                logger.warning("Matrix sync with \(settings.homeserver) failed: \(error); retrying in \(backoff)")
            }
            // A session that synced before failing starts the backoff over.
            if state.isConnected { backoff = .seconds(1) }
            state.set(false)
            connection.set(nil)
            connection.set(client: nil)
            try? await Task.sleep(for: backoff)
            backoff = min(backoff * 2, .seconds(60))
        }
        state.set(false)
        connection.set(nil)
    }

    public func post(_ reply: Reply, room: String, thread: String?) async throws {
        _ = try await send(reply, room: room, thread: thread)
    }

    public func send(_ reply: Reply, room: String, thread: String?) async throws -> String? {
        guard let outbox = connection.outbox else { throw AdapterError.notConnected(platform) }
        return try await outbox.send(reply, to: room, thread: thread.map { MatrixThread(root: $0) }).first
    }

    public func edit(_ reference: String, room: String, with reply: Reply) async throws -> Bool {
        guard let outbox = connection.outbox else { throw AdapterError.notConnected(platform) }
        guard let text = MatrixRendering.messages(reply).first else { return false }
        try await outbox.edit(reference, in: room, with: text)
        return true
    }

    /// A private room (`createRoom`, preset `private_chat`) with its name and topic, the people
    /// invited; Parley is in it as its creator, so its messages come with the next `/sync`. A replica
    /// without the sync connection signs in for it (with the token, or the password's cached token).
    public func createRoom(name: String, topic: String, inviting: [String], near: String?) async throws -> String? {
        let client: MatrixClient
        if let running = connection.client {
            client = running
        } else {
            client = try await signIn().client
        }
        let people = inviting.filter { $0.hasPrefix("@") && $0.contains(":") }
        let answer = try await client.request(
            .POST, "/_matrix/client/v3/createRoom",
            body: [
                "name": .string(name), "topic": .string(topic), "preset": "private_chat",
                "invite": .array(people.map { .string($0) }),
            ], retryingErrors: false)
        guard let room = answer["room_id"].string else {
            throw MatrixError(status: 200, code: "M_UNKNOWN", message: "the createRoom answer has no room_id")
        }
        return room
    }

    /// A direct room with `user` (`createRoom` with `is_direct`, the person invited), made once and
    /// then reused: its id is kept in the store every replica shares.
    public func directRoom(for user: String) async throws -> String? {
        guard user.hasPrefix("@"), user.contains(":"), let engine = connection.handler else { return nil }
        let key = "matrix:direct:\(user)"
        if let known = try await engine.adapterState(key) { return known }
        let client: MatrixClient
        if let running = connection.client {
            client = running
        } else {
            client = try await signIn().client
        }
        let answer = try await client.request(
            .POST, "/_matrix/client/v3/createRoom",
            body: [
                "preset": "trusted_private_chat", "is_direct": true, "invite": [.string(user)],
                "name": "Parley pages",
            ], retryingErrors: false)
        guard let room = answer["room_id"].string else { return nil }
        try await engine.setAdapterState(key, room)
        return room
    }

    /// An access token from the settings, or one from logging in with the password (kept for the
    /// reconnects that follow, so each one does not add a device).
    private func signIn() async throws -> (client: MatrixClient, userID: String) {
        let anonymous = MatrixClient(homeserver: settings.homeserver, http: http, logger: logger)
        let token: String
        if let configured = settings.accessToken {
            token = try configured.resolve(environment: environment).get()
        } else if let cached = connection.token {
            token = cached
        } else if let password = settings.password {
            let body: JSON = [
                "type": "m.login.password",
                "identifier": ["type": "m.id.user", "user": .string(settings.userID)],
                "password": .string(try password.resolve(environment: environment).get()),
                "initial_device_display_name": "Parley",
            ]
            let answer = try await anonymous.request(.POST, "/_matrix/client/v3/login", body: body)
            guard let issued = answer["access_token"].string else {
                throw MatrixError(status: 200, code: "M_UNKNOWN", message: "the login answer has no access_token")
            }
            token = issued
            connection.remember(token: issued)
        } else {
            throw MatrixError(status: 0, code: "M_MISSING_TOKEN", message: "no access_token or password configured")
        }
        let client = anonymous.signedIn(with: token)
        let whoami = try await client.request(.GET, "/_matrix/client/v3/account/whoami")
        let userID = whoami["user_id"].string ?? settings.userID
        logger.info("signed in to \(settings.homeserver) as \(userID)")
        return (client, userID)
    }
}

/// What the running session shares with `post(_:room:thread:)`: how to send, and a token that
/// logging in with a password issued.
final class MatrixConnection: Sendable {
    private struct State {
        var outbox: MatrixOutbox?
        var token: String?
        var client: MatrixClient?
        var handler: (any MessageHandler)?
    }

    private let state = Mutex(State())

    var outbox: MatrixOutbox? { state.withLock { $0.outbox } }
    var token: String? { state.withLock { $0.token } }
    /// The signed-in client of the running session, for calls beside the sync.
    var client: MatrixClient? { state.withLock { $0.client } }

    func set(client: MatrixClient?) { state.withLock { $0.client = client } }
    /// The engine the adapter runs for, for state kept beside the sync (direct rooms).
    var handler: (any MessageHandler)? { state.withLock { $0.handler } }
    func set(handler: any MessageHandler) { state.withLock { $0.handler = handler } }

    func set(_ outbox: MatrixOutbox?) { state.withLock { $0.outbox = outbox } }
    func remember(token: String) { state.withLock { $0.token = token } }
    func forgetToken() { state.withLock { $0.token = nil } }
}

extension MatrixAdapter {
    /// Waits until every command received so far has finished and been answered.
    public func settle() async {
        await work.settle()
        await gateNotices.settle()
    }
}
