import Foundation
import Logging
import NIOSSL
import ParleyCore
import PostgresNIO

/// The shared store for several replicas: one PostgreSQL database, reached through a pool of
/// connections (PostgresNIO's `PostgresClient`). It keeps the same promises as `SQLiteStore` and
/// passes the same conformance suite: an event key is taken once across every replica, the audit
/// chain stays one line (appends wait on one transaction lock), claims and locks have one winner.
/// Every commit is synchronous (PostgreSQL's `synchronous_commit` default), except the process-group
/// note, as on SQLite.
public final class PostgresStore: ParleyStorage {
    let client: PostgresClient
    let logger: Logger
    /// How long an operation may take before its caller is told the database did not answer.
    let deadline: PostgresDeadline
    private let running: Task<Void, Never>
    /// Where the database is, without its password (for messages).
    public let location: String

    /// Connects to the database `settings` names, applies pending migrations and returns the store;
    /// throws `StoreError.cannotOpen` with PostgreSQL's reason when it cannot.
    public static func connect(_ settings: PostgresSettings, logger: Logger = Logger(label: "parley.postgres"))
        async throws -> PostgresStore
    {
        let tls = try Self.tls(settings)
        // One plain connection first, for the migrations: a wrong host, password or database fails
        // at once with the server's reason (the pool would retry behind a circuit breaker for a minute).
        do {
            let url = settings.url
            var probeTLS = PostgresConnection.Configuration.TLS.disable
            if let tls {
                let context = try NIOSSLContext(configuration: tls.configuration)
                probeTLS = tls.require ? .require(context) : .prefer(context)
            }
            var configuration = PostgresConnection.Configuration(
                host: url.host, port: url.port, username: url.user, password: url.password, database: url.database,
                tls: probeTLS)
            configuration.options.connectTimeout = TimeAmount.seconds(10)
            let connection = try await PostgresConnection.connect(configuration: configuration, id: 0, logger: logger)
            do {
                try await PostgresMigrations.migrate(on: connection, logger: logger)
            } catch {
                try? await connection.close()
                throw error
            }
            try await connection.close()
        } catch {
            throw StoreError.cannotOpen(
                path: settings.url.redacted, reason: PostgresStore.describe(error) + Self.tlsHint(error, settings))
        }
        let (started, starting) = AsyncStream<Void>.makeStream()
        let store = PostgresStore(settings, tls: tls, logger: logger, started: starting)
        // The pool's run loop is entered before the first lease (PostgresNIO warns otherwise).
        for await _ in started {}
        return store
    }

    private init(
        _ settings: PostgresSettings, tls: ClientTLS?, logger: Logger, started: AsyncStream<Void>.Continuation
    ) {
        let url = settings.url
        var configuration = PostgresClient.Configuration(
            host: url.host, port: url.port, username: url.user, password: url.password, database: url.database,
            tls: tls.map { $0.require ? .require($0.configuration) : .prefer($0.configuration) } ?? .disable)
        configuration.options.maximumConnections = settings.pool
        configuration.options.minimumConnections = 1
        configuration.options.connectTimeout = .seconds(10)
        configuration.options.additionalStartupParameters = [("application_name", "parley")]
        client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        self.logger = logger
        deadline = PostgresDeadline(timeout: .seconds(settings.timeout), logger: logger)
        location = url.redacted
        running = Task { [client] in
            started.finish()
            await client.run()
        }
    }

    /// How connections are encrypted: `require` refuses a server without TLS.
    private struct ClientTLS {
        var configuration: TLSConfiguration
        var require: Bool
    }

    /// nil when TLS is off.
    private static func tls(_ settings: PostgresSettings) throws -> ClientTLS? {
        var tls = TLSConfiguration.makeClientConfiguration()
        switch settings.tls {
        case .disable:
            return nil
        case .prefer, .require:
            // libpq's meaning of the words: encrypted, the certificate not checked.
            tls.certificateVerification = .none
            return ClientTLS(configuration: tls, require: settings.tls == .require)
        case .verifyFull:
            tls.certificateVerification = .fullVerification
            if let ca = settings.caFile {
                do {
                    tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(ca))
                } catch {
                    throw StoreError.cannotOpen(
                        path: settings.url.redacted, reason: "cannot read the CA certificates in \(ca): \(error)")
                }
            }
            return ClientTLS(configuration: tls, require: true)
        }
    }

    /// Closes every connection. The store cannot be used afterwards.
    public func close() async {
        running.cancel()
        await running.value
    }

    deinit { running.cancel() }

    public var stuckOperations: Int { deadline.stuckOperations }
    public var timedOutOperations: Int { deadline.timedOutOperations }
    public var isNotAnswering: Bool { deadline.isNotAnswering }

    // MARK: Running statements

    /// Runs one statement and collects its rows.
    func rows(_ query: PostgresQuery) async throws -> [PostgresRandomAccessRow] {
        try await retryingLostConnections(autocommit: true) { [logger] client in
            try await client.withConnection { connection in try await Self.rows(query, on: connection, logger: logger) }
        }
    }

    /// Runs `work`, again on another connection when the first one was lost before the statement or
    /// transaction could finish (a restart of PostgreSQL, a failover, `pg_terminate_backend`): the
    /// server rolled it back, so nothing is done twice. A COMMIT whose answer was lost is not tried
    /// again (it may have committed); neither is a single statement (`autocommit`) whose connection
    /// broke without the server saying it did not run it; neither is any other error.
    func retryingLostConnections<Result: Sendable>(
        autocommit: Bool = false, _ work: @escaping @Sendable (PostgresClient) async throws -> Result
    ) async throws -> Result {
        try await deadline.run { [client, logger] in
            var attempt = 0
            while true {
                do {
                    return try await work(client)
                } catch  where attempt < 3 && Self.lostBeforeCommit(error, autocommit: autocommit) {
                    attempt += 1
                    logger.warning(
                        "the database connection was lost (\(Self.describe(error))); trying again on another (\(attempt) of 3)"
                    )
                    try await Task.sleep(for: .milliseconds(100 * attempt))
                }
            }
        }
    }

    /// True for an error that means the connection was gone before anything could be committed.
    static func lostBeforeCommit(_ error: any Error, autocommit: Bool = false) -> Bool {
        if error is ConnectionLost { return true }
        if let error = error as? PostgresTransactionError {
            guard error.commitError == nil else { return false }
            return (error.beginError ?? error.closureError).map { lostBeforeCommit($0) } ?? false
        }
        guard let error = error as? PSQLError else { return false }
        switch error.code {
        case .serverClosedConnection, .clientClosedConnection, .connectionError, .uncleanShutdown: return !autocommit
        case .server:
            // admin_shutdown, crash_shutdown, cannot_connect_now; connection_exception (08…).
            let state = error.serverInfo?[.sqlState] ?? ""
            return state.hasPrefix("57P") || state.hasPrefix("08")
        default: return false
        }
    }

    /// Runs one statement on `connection` and collects its rows.
    static func rows(_ query: PostgresQuery, on connection: PostgresConnection, logger: Logger) async throws
        -> [PostgresRandomAccessRow]
    {
        // A statement sent on a connection the server has closed (a restart, a failover,
        // `pg_terminate_backend`) can wait for ever for its answer: fail it now, to be tried again.
        guard !connection.isClosed else { throw ConnectionLost() }
        var rows: [PostgresRandomAccessRow] = []
        for try await row in try await connection.query(query, logger: logger) { rows.append(row.makeRandomAccess()) }
        return rows
    }

    /// Runs statements in one transaction on one connection.
    func transaction<Result: Sendable>(_ body: @escaping @Sendable (Transaction) async throws -> Result)
        async throws -> Result
    {
        try await retryingLostConnections { [logger] client in
            try await client.withConnection { connection in
                try await Self.transaction(on: connection, logger: logger, body)
            }
        }
    }

    /// Runs statements in one transaction on `connection`.
    static func transaction<Result: Sendable>(
        on connection: PostgresConnection, logger: Logger, isolation: isolated (any Actor)? = #isolation,
        _ body: (Transaction) async throws -> Result
    ) async throws -> Result {
        do {
            return try await connection.withTransaction(logger: logger) { connection in
                try await body(Transaction(connection: connection, logger: logger))
            }
        } catch let error as PostgresTransactionError {
            // The caller's own error (an unknown run, for example) comes out as itself. A lost COMMIT
            // stays wrapped, and is so told from a statement lost before it.
            if let closure = error.closureError { throw closure }
            throw error
        }
    }

    /// One transaction's connection.
    struct Transaction: Sendable {
        let connection: PostgresConnection
        let logger: Logger

        func rows(_ query: PostgresQuery) async throws -> [PostgresRandomAccessRow] {
            try await PostgresStore.rows(query, on: connection, logger: logger)
        }

        func execute(_ query: PostgresQuery) async throws {
            _ = try await rows(query)
        }
    }

    /// What PostgreSQL said, for a person: its message, detail and SQLSTATE, never the statement's values.
    /// What to change when a connection failed over TLS, for the error people read.
    static func tlsHint(_ error: any Error, _ settings: PostgresSettings) -> String {
        let text = String(reflecting: error)
        if text.contains("CERTIFICATE_VERIFY_FAILED") {
            let trusted = settings.caFile.map { "the CA in \($0)" } ?? "the system's certificate authorities"
            return
                "; the server's certificate is not signed by \(trusted) or not issued for \(settings.url.host) "
                + "(tls: verify-full): set `ca:` to the CA that signed it and connect by a name or address in it"
        }
        if let error = error as? PSQLError, error.code == .sslUnsupported {
            return "; the server does not offer TLS: turn `ssl` on in its postgresql.conf, or set `tls: prefer`"
        }
        return ""
    }

    static func describe(_ error: any Error) -> String {
        if let error = error as? PostgresTransactionError {
            return describe(error.closureError ?? error.beginError ?? error.commitError ?? error.rollbackError ?? error)
        }
        guard let error = error as? PSQLError else { return "\(error)" }
        if let info = error.serverInfo {
            var text = info[.message] ?? "the server refused"
            if let detail = info[.detail] { text += " (\(detail))" }
            if let code = info[.sqlState] { text += " [SQLSTATE \(code)]" }
            return text
        }
        if let underlying = error.underlying { return "\(error.code): \(underlying)" }
        return "\(error.code)"
    }

    // MARK: Runs

    public func insertRun(_ run: RunRecord) async throws -> RunRecord {
        try await transaction { try await PostgresRuns.insert(run, $0) }
    }

    public func updateRun(_ run: RunRecord) async throws {
        guard run.id != nil else { throw StoreError.unknownRun(nil) }
        try await transaction { try await PostgresRuns.update(run, $0) }
    }

    public func run(id: Int64) async throws -> RunRecord? {
        try await rows("SELECT \(unescaped: PostgresRuns.columns) FROM run WHERE id = \(id)").first.map(
            PostgresRuns.record)
    }

    public func runs(_ query: RunQuery) async throws -> [RunRecord] {
        var select = FilteredSelect("SELECT \(PostgresRuns.columns) FROM run WHERE true")
        if let user = query.userName { select.sql += " AND user_name = \(select.bind(user))" }
        if let command = query.commandID { select.sql += " AND command_id = \(select.bind(command))" }
        if let status = query.status { select.sql += " AND status = \(select.bind(status.rawValue))" }
        if !query.excludingCommands.isEmpty {
            let excluded = select.bind(Array(query.excludingCommands))
            select.sql += " AND (command_id IS NULL OR NOT command_id = ANY(\(excluded)))"
        }
        select.sql += " ORDER BY id DESC LIMIT \(select.bind(max(0, query.limit)))"
        return try await rows(select.query).map(PostgresRuns.record)
    }

    public func interruptUnfinishedRuns(reason: String, isAbandoned: @escaping @Sendable (RunRecord) -> Bool)
        async throws
        -> [RunRecord]
    {
        try await transaction { transaction in
            // Rows locked as they are read: two replicas starting at once interrupt each run once.
            let running = try await transaction.rows(
                "SELECT \(unescaped: PostgresRuns.columns) FROM run WHERE status = 'running' ORDER BY id FOR UPDATE"
            ).map(PostgresRuns.record)
            var interrupted: [RunRecord] = []
            for var run in running where isAbandoned(run) {
                run.status = .interrupted
                run.finishedAt = Date()
                run.reason = reason
                try await PostgresRuns.update(run, transaction, takingOver: true)
                run.epoch += 1
                interrupted.append(run)
            }
            return interrupted
        }
    }

    public func setProcessGroup(runID: Int64, processGroup: Int32, startTime: Int64?) async throws {
        // Not waited for on disk, as on SQLite: the note matters only while the program runs, and a
        // power cut that loses it stops the program too.
        try await transaction { transaction in
            try await transaction.execute("SET LOCAL synchronous_commit = off")
            try await transaction.execute(
                "UPDATE run SET process_group = \(processGroup), process_start_time = \(startTime) WHERE id = \(runID)")
        }
    }

    public func abandonedRuns(isAlive: @Sendable (String) -> Bool) async throws -> [RunRecord] {
        try await rows("SELECT \(unescaped: PostgresRuns.columns) FROM run WHERE status = 'running' ORDER BY id")
            .map(PostgresRuns.record).filter { !($0.owner.map(isAlive) ?? false) }
    }

    public func firstSighting(of key: String) async throws -> Bool {
        try await !rows(
            """
            INSERT INTO seen_event (key, seen_at) VALUES (\(StoredText.clean(key)), \(Date())) \
            ON CONFLICT DO NOTHING RETURNING key
            """
        ).isEmpty
    }

    public func sighting(of key: String) async throws -> EventSighting? {
        try await rows("SELECT seen_at, run_id FROM seen_event WHERE key = \(StoredText.clean(key))").first.map {
            EventSighting(seenAt: try $0.value("seen_at"), runID: try $0.value("run_id"))
        }
    }
}

extension PostgresRandomAccessRow {
    /// The value of column `name`; a NULL reads as nil where `Value` is optional.
    func value<Value: PostgresDecodable>(_ name: String, as type: Value.Type = Value.self) throws -> Value {
        try self[name].decode(Value.self, context: .default)
    }
}

/// Runs as rows of the `run` table.
enum PostgresRuns {
    static let columns = """
        id, created_at, finished_at, user_name, identity, room, thread, text, command_id, arguments, decision, \
        reason, status, exit_code, duration_ms, output, output_truncated, owner, process_group, process_start_time, \
        epoch
        """

    static func record(_ row: PostgresRandomAccessRow) throws -> RunRecord {
        let arguments: String = try row.value("arguments")
        var record = RunRecord(
            id: try row.value("id"), createdAt: try row.value("created_at"), finishedAt: try row.value("finished_at"),
            userName: try row.value("user_name"), identity: try row.value("identity"), room: try row.value("room"),
            thread: try row.value("thread"), text: try row.value("text"), commandID: try row.value("command_id"),
            arguments: JSONMaps.map(arguments),
            decision: RunDecision(rawValue: try row.value("decision")) ?? .invalid, reason: try row.value("reason"),
            status: RunStatus(rawValue: try row.value("status")) ?? .interrupted,
            exitCode: try row.value("exit_code", as: Int?.self),
            durationMilliseconds: try row.value("duration_ms", as: Int?.self), output: try row.value("output"),
            outputTruncated: try row.value("output_truncated"), owner: try row.value("owner"))
        record.processGroup = try row.value("process_group")
        record.processStartTime = try row.value("process_start_time")
        record.epoch = try row.value("epoch")
        return record
    }

    /// Records a new run and returns it with its id.
    static func insert(_ run: RunRecord, _ transaction: PostgresStore.Transaction) async throws -> RunRecord {
        let row = RunRow(run)
        let rows = try await transaction.rows(
            """
            INSERT INTO run (created_at, finished_at, user_name, identity, room, thread, text, command_id, arguments, \
            decision, reason, status, exit_code, duration_ms, output, output_truncated, owner, process_group, \
            process_start_time, epoch) VALUES (\(row.createdAt), \(row.finishedAt), \(row.userName), \
            \(row.identity), \(row.room), \(row.thread), \(row.text), \(row.commandID), \
            \(JSONText.object(row.arguments)), \(row.decision), \(row.reason), \(row.status), \(row.exitCode), \
            \(row.durationMilliseconds), \(row.output), \(row.outputTruncated), \(row.owner), \(row.processGroup), \
            \(row.processStartTime), \(row.epoch)) RETURNING id
            """)
        var inserted = run
        inserted.id = try rows.first?.value("id", as: Int64.self)
        return inserted
    }

    /// Replaces a recorded run's state while its stored epoch is still the record's; throws when
    /// there is no such run, or when another process took it over (`StoreError.runTakenOver`).
    /// `takingOver` moves the epoch on, so the run's old owner can no longer change it.
    static func update(_ run: RunRecord, _ transaction: PostgresStore.Transaction, takingOver: Bool = false)
        async throws
    {
        guard let id = run.id else { throw StoreError.unknownRun(nil) }
        let row = RunRow(run)
        let next = run.epoch + (takingOver ? 1 : 0)
        let rows = try await transaction.rows(
            """
            UPDATE run SET created_at = \(row.createdAt), finished_at = \(row.finishedAt), user_name = \(row.userName), \
            identity = \(row.identity), room = \(row.room), thread = \(row.thread), text = \(row.text), \
            command_id = \(row.commandID), arguments = \(JSONText.object(row.arguments)), decision = \(row.decision), \
            reason = \(row.reason), status = \(row.status), exit_code = \(row.exitCode), \
            duration_ms = \(row.durationMilliseconds), output = \(row.output), \
            output_truncated = \(row.outputTruncated), owner = \(row.owner), process_group = \(row.processGroup), \
            process_start_time = \(row.processStartTime), epoch = \(next) WHERE id = \(id) \
            AND epoch = \(run.epoch) RETURNING id
            """)
        guard rows.isEmpty else { return }
        try await checkEpoch(of: run, transaction)
        throw StoreError.unknownRun(id)
    }

    /// Throws unless the run is recorded with the record's epoch; the row stays locked until the
    /// transaction ends, so nothing can take the run over between this look and the update.
    static func checkEpoch(of run: RunRecord, _ transaction: PostgresStore.Transaction) async throws {
        guard let id = run.id else { throw StoreError.unknownRun(nil) }
        let rows = try await transaction.rows("SELECT epoch FROM run WHERE id = \(id) FOR UPDATE")
        guard let epoch = try rows.first?.value("epoch", as: Int64.self) else { throw StoreError.unknownRun(id) }
        guard epoch == run.epoch else { throw StoreError.runTakenOver(id) }
    }
}

/// String maps kept as JSON text (labels, arguments, a step's outputs).
enum JSONMaps {
    static func map(_ text: String) -> [String: String] {
        (try? JSONDecoder().decode([String: String].self, from: Data(text.utf8))) ?? [:]
    }

    static func list(_ text: String) -> [String] {
        (try? JSONDecoder().decode([String].self, from: Data(text.utf8))) ?? []
    }

    static func text(_ list: [String]) -> String {
        (try? String(decoding: JSONEncoder().encode(list), as: UTF8.self)) ?? "[]"
    }
}

/// A SELECT whose filters are added one by one, each value bound as a parameter (never spliced in).
struct FilteredSelect {
    var sql: String
    private var binds = PostgresBindings()

    init(_ sql: String) { self.sql = sql }

    /// Binds `value` and returns its placeholder (`$1`, `$2`, …).
    mutating func bind(_ value: some PostgresDynamicTypeEncodable) -> String {
        binds.append(value)
        return "$\(binds.count)"
    }

    /// Binds `value` or NULL and returns its placeholder.
    mutating func bind<Value: PostgresDynamicTypeEncodable>(optional value: Value?) -> String {
        binds.append(value)
        return "$\(binds.count)"
    }

    var query: PostgresQuery { PostgresQuery(unsafeSQL: sql, binds: binds) }
}

/// A connection found closed before a statement was sent on it.
struct ConnectionLost: Error, CustomStringConvertible {
    var description: String { "the connection to the database was closed" }
}
