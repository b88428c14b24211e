import ArgumentParser
import Foundation
import Logging
import ParleyAdapters
import ParleyCore
import ParleyEngine
import ParleyServer
import ParleyStore

/// `parley serve`: the web console, dashboard, JSON API, health and metrics.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve", abstract: "Run Parley's server: web console, dashboard, JSON API, metrics.")

    @OptionGroup var configOptions: ConfigOptions
    @Option(help: "Listen on HOST:PORT (overrides server.listen; port 0 picks a free one).") var listen: String?
    @Option(help: "text or json.") var logFormat: String = "text"

    func run() async throws {
        guard logFormat == "text" || logFormat == "json" else { throw ValidationError("--log-format is text or json") }
        if logFormat == "json" { LoggingSystem.bootstrap { JSONLogHandler(label: $0) } }
        let logger = Logger(label: "parley")
        let say = Announcer(json: logFormat == "json")
        var config = try configOptions.load()
        if let listen {
            let parts = listen.split(separator: ":")
            guard parts.count == 2, !parts[0].isEmpty, let port = Int(parts[1]), (0...65535).contains(port) else {
                throw ValidationError("--listen is HOST:PORT with a port from 0 to 65535")
            }
            config.server.host = String(parts[0])
            config.server.port = port
        }
        let store: any ParleyStorage
        do {
            store = try await StoreOpener.open(
                config.storage, dataDirectory: config.dataDirectory, environment: ProcessInfo.processInfo.environment)
        } catch {
            say.error("parley: \(error)")
            throw ExitCode(ExitStatus.store)
        }
        let engine = Engine(config: config, store: store, logger: logger)
        let interrupted = try await engine.start(resumeRunbooks: true)
        try await firstAdmin(config: config, store: store, say: say)
        Task { await engine.resumeRunbooks() }
        var adapters: [any ChatAdapter] = []
        if let irc = config.irc { adapters.append(IRCAdapter(settings: irc, logger: logger)) }
        if let matrix = config.matrix { adapters.append(MatrixAdapter(settings: matrix, logger: logger)) }
        if let email = config.email { adapters.append(EmailAdapter(settings: email, logger: logger)) }
        if let slack = config.slack {
            do {
                adapters.append(try SlackAdapter(settings: slack, logger: logger))
            } catch {
                say.error("parley: the Slack adapter cannot start: \(error)")
                throw ExitCode(ExitStatus.config)
            }
        }
        if let mattermost = config.mattermost {
            do {
                adapters.append(try MattermostAdapter(settings: mattermost, logger: logger))
            } catch {
                say.error("parley: the Mattermost adapter cannot start: \(error)")
                throw ExitCode(ExitStatus.config)
            }
        }
        let server = ParleyHTTPServer(engine: engine, store: store, adapters: adapters, logger: logger)
        let shown = config.server
        let dataLocation: String
        if case .postgres = config.storage, let postgres = store as? PostgresStore {
            dataLocation = "data in \(postgres.location)"
        } else {
            dataLocation = "data in \(config.dataDirectory)"
        }
        try await server.run(interruptedAtStart: interrupted) { port in
            let url = shown.publicURL ?? "http://\(shown.host):\(port)"
            say("Parley \(Builtins.version) is listening: open \(url)/ in a browser (\(dataLocation))")
        }
        await store.close()
    }

    /// When no one has a password yet, gives the first user one and prints it once, so that a first
    /// `parley serve` can be signed in to straight away. With JSON logs (collected, shipped, kept)
    /// the password goes to a file only its owner may read, and the log says where.
    private func firstAdmin(config: ParleyConfig, store: any ParleyStorage, say: Announcer) async throws {
        guard try await !store.hasAnyPassword() else { return }
        let policy = Policy(roles: config.roles)
        let directory = Directory(users: config.users, groups: config.groups)
        let admin =
            config.users.first { user in
                let principal = directory.principal(for: user, identity: Identity(platform: "web", id: user.name))
                return principal.roles.contains { policy.roles[$0]?.allow.contains("*") == true }
            } ?? config.users.first
        guard let admin else {
            say("No users are configured, so no one can sign in to the web console; add some under users:")
            return
        }
        let password = Tokens.random(bytes: 12)
        let change = "change it with `parley users set-password \(admin.name)`"
        if say.json {
            let file = URL(fileURLWithPath: config.dataDirectory).appendingPathComponent("first-password")
            guard
                FileManager.default.createFile(
                    atPath: file.path, contents: Data((password + "\n").utf8), attributes: [.posixPermissions: 0o600])
            else {
                say.error("parley: cannot write the first password to \(file.path); no password was set")
                return
            }
            try await store.setPasswordHash(try PasswordHasher.hash(password), userName: admin.name)
            say(
                "First start: sign in as '\(admin.name)' with the password in \(file.path) (\(change), then delete the file)"
            )
            return
        }
        try await store.setPasswordHash(try PasswordHasher.hash(password), userName: admin.name)
        say("First start: sign in as '\(admin.name)' with password \(password) (shown once; \(change))")
    }
}

/// What `parley serve` tells its operator: lines on standard output (errors on standard error),
/// each a JSON object like the logs' when `--log-format json`, so a log collector reads every line.
struct Announcer {
    let json: Bool

    func callAsFunction(_ text: String) {
        if json {
            JSONLogHandler.write(level: .notice, logger: "parley", message: text, to: .standardOutput)
        } else {
            print(text)
            fflush(nil)
        }
    }

    func error(_ text: String) {
        if json { JSONLogHandler.write(level: .error, logger: "parley", message: text) } else { printError(text) }
    }
}
