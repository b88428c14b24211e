import Foundation
import Hummingbird
import HummingbirdWebSocket
import Logging
import ParleyAdapters
import ParleyCore
import ParleyEngine
import ParleyStore
import ServiceLifecycle
import UnixSignals

/// `parley serve`: the web console, the dashboard, the JSON API, health and metrics, in one process.
/// It holds many parts because it is where the HTTP side is put together (engine, store, adapters' routes,
/// metrics, templates); each route group is its own type.
public struct ParleyHTTPServer: Sendable {
    let engine: Engine
    let store: any ParleyStorage
    let settings: ServerSettings
    let logger: Logger
    let adapters: [any ChatAdapter]
    /// The server's metrics.
    public let metrics = ServerMetrics()
    /// Alerts from the webhooks, routed to the adapters' rooms.
    public let alerts: AlertCenter
    /// The configured schedules, posting through the adapters.
    public let scheduler: Scheduler
    /// Posts to rooms: directly, or through the outbox to the replica holding the connection.
    let messenger: AdapterMessenger
    /// Failed sign-ins, counted in the store.
    let loginThrottle: LoginThrottle
    let environment: [String: String]
    /// Alertmanager's API, when configured: one client for every page view.
    let alertmanager: AlertmanagerClient?
    /// The HTML pages' templates, parsed once.
    let pages: PageTemplates
    /// Which exclusive connections this replica leads.
    public let leadershipBoard = LeadershipBoard()
    /// The leases of exclusive connections.
    let leaseTiming: LeaseTiming

    /// Creates a server over an engine and its store.
    public init(
        engine: Engine, store: any ParleyStorage, adapters: [any ChatAdapter] = [],
        environment: [String: String] = ProcessInfo.processInfo.environment,
        leaseTiming: LeaseTiming = LeaseTiming(), logger: Logger = Logger(label: "parley.server")
    ) {
        self.leaseTiming = leaseTiming
        self.engine = engine
        self.adapters = adapters
        self.store = store
        self.settings = engine.config.server
        self.environment = environment
        self.logger = logger
        do {
            pages = try PageTemplates(bundle: .module)
        } catch {
            // The templates ship inside the binary: one that is missing or does not parse is a broken build.
            preconditionFailure("\(error)")
        }
        alertmanager = engine.config.alerts.alertmanagerURL.map { url in
            AlertmanagerClient(
                baseURL: url,
                token: try? engine.config.alerts.alertmanagerToken?.resolve(environment: environment).get())
        }
        let messenger = AdapterMessenger(
            adapters: adapters, board: leadershipBoard, outbox: store, metrics: metrics, logger: logger)
        self.messenger = messenger
        engine.attach(messenger: messenger)
        loginThrottle = LoginThrottle(store: store)
        alerts = AlertCenter(engine: engine, messenger: messenger, logger: logger)
        scheduler = Scheduler(engine: engine, messenger: messenger, logger: logger)
    }

    /// The HTTP router: pages, API, operations.
    public func router() -> Router<ParleyRequestContext> {
        let router = Router(context: ParleyRequestContext.self)
        // Errors become JSON answers outside the metrics, so the metrics see (and count) them.
        router.middlewares.add(JSONErrorMiddleware())
        router.middlewares.add(MetricsMiddleware())
        let platformPaths = adapters.compactMap { $0 as? any HTTPReceivingAdapter }.flatMap { $0.routes.map(\.path) }
        router.middlewares.add(AuthenticationMiddleware(store: store, selfAuthenticating: ["/hooks/"] + platformPaths))
        OperationsRoutes(
            engine: engine, store: store, metrics: metrics, adapters: adapters, leadership: leadershipBoard
        ).register(on: router)
        APIRoutes(engine: engine, store: store, metrics: metrics, config: engine.config).register(on: router)
        LoginRoutes(engine: engine, store: store, settings: settings, pages: pages, throttle: loginThrottle)
            .register(on: router)
        DashboardRoutes(engine: engine, store: store, settings: settings, pages: pages).register(on: router)
        AlertsPage(engine: engine, store: store, settings: settings, pages: pages, alertmanager: alertmanager).register(
            on: router)
        IncidentsPage(engine: engine, store: store, pages: pages).register(on: router)
        OnCallPages(engine: engine, store: store, settings: settings, pages: pages).register(on: router)
        PagerDutyHookRoutes(engine: engine, center: alerts, environment: environment, logger: logger).register(
            on: router)
        Assets.register(on: router)
        AdapterRoutes(engine: engine, adapters: adapters, maxBodyBytes: settings.maxBodyBytes).register(on: router)
        HookRoutes(engine: engine, center: alerts, environment: environment, logger: logger, metrics: metrics)
            .register(on: router)
        return router
    }

    /// The WebSocket router: the console's `/ws`.
    public func webSocketRouter() -> Router<BasicWebSocketRequestContext> {
        let router = Router(context: BasicWebSocketRequestContext.self)
        ConsoleSocket(engine: engine, store: store, metrics: metrics).register(on: router)
        return router
    }

    /// The application, listening where the configuration says (port 0 picks a free one).
    public func application(onRunning: @escaping @Sendable (Int) async -> Void = { _ in })
        -> some ApplicationProtocol
    {
        Application(
            router: router(),
            server: .http1WebSocketUpgrade(webSocketRouter: webSocketRouter()),
            configuration: .init(address: .hostname(settings.host, port: settings.port), serverName: "Parley"),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? settings.port) },
            logger: logger)
    }

    /// Runs until SIGTERM or SIGINT. On a stop, running commands get `shutdown_grace` to finish and are
    /// then stopped and recorded as interrupted, and the audit chain's head is signed. Every
    /// `recoveryInterval` the runs of processes that died meanwhile are settled.
    ///
    /// `interruptedAtStart` are the runs `Engine.start` marked interrupted; they are told of in their
    /// rooms once the adapters run (through the outbox where another replica holds the connection).
    public func run(
        gracefulShutdownSignals: [UnixSignal] = [.sigterm, .sigint], recoveryInterval: Duration = .seconds(5),
        interruptedAtStart: [RunRecord] = [], onRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) async throws {
        let app = application(onRunning: onRunning)
        let adapterServices = adapters.map { adapter in
            let leadership =
                adapter.needsLeader
                ? Leadership(name: "adapter:\(adapter.platform)", store: store, timing: leaseTiming, logger: logger)
                : nil
            return ServiceGroupConfiguration.ServiceConfiguration(
                service: AdapterService(
                    adapter: adapter, engine: engine, logger: logger, leadership: leadership, board: leadershipBoard,
                    metrics: metrics,
                    delivery: OutboxDelivery(adapter: adapter, outbox: store, metrics: metrics, logger: logger)),
                successTerminationBehavior: .ignore, failureTerminationBehavior: .ignore)
        }
        let drain = DrainService(engine: engine, grace: .seconds(settings.shutdownGraceSeconds), logger: logger)
        let sweeper = ApprovalSweeper(engine: engine, logger: logger)
        let recovery = RecoveryService(
            engine: engine, interval: recoveryInterval, messenger: messenger, atStart: interruptedAtStart,
            logger: logger)
        let background = BackgroundService(alerts: alerts, scheduler: scheduler, audit: engine.audit)
        let heartbeat = HeartbeatService(engine: engine, timing: leaseTiming, metrics: metrics, logger: logger)
        // Services stop in reverse order: the drain runs first, while requests can still finish, and
        // the heartbeat last, so that no survivor takes over a run still finishing within the grace.
        let group = ServiceGroup(
            configuration: .init(
                services: [
                    .init(service: heartbeat), .init(service: app), .init(service: sweeper), .init(service: recovery),
                    .init(service: background),
                ] + adapterServices
                    + [.init(service: drain)],
                gracefulShutdownSignals: gracefulShutdownSignals, logger: logger))
        try await group.run()
        await engine.shutdown()
        await engine.leaveCluster()
    }
}

/// On a graceful stop, lets running commands finish within the grace, then stops the rest.
struct DrainService: Service {
    let engine: Engine
    let grace: Duration
    let logger: Logger

    func run() async throws {
        try? await gracefulShutdown()
        logger.info("stopping: waiting up to \(grace) for running commands")
        await engine.shutdown(grace: grace)
    }
}

/// The alert notifier's edit loop, the scheduler and the audit checkpoint timer, until a stop.
struct BackgroundService: Service {
    let alerts: AlertCenter
    let scheduler: Scheduler
    /// Signs the audit chain's head when its schedule says so, even when nothing is appended.
    let audit: AuditLog

    func run() async throws {
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await alerts.run() }
                group.addTask { await scheduler.run() }
                group.addTask { await audit.runTimer() }
                await group.waitForAll()
            }
        }
    }
}

/// Runs a chat adapter until a stop. An adapter that fails or ends is started again with backoff;
/// it never stops the other adapters, the server or the engine. An adapter whose connection must be
/// held once across replicas runs only while this replica holds its lease (`leadership`); the
/// others stand by and take over when the leader is gone.
struct AdapterService: Service {
    let adapter: any ChatAdapter
    let engine: Engine
    let logger: Logger
    let leadership: Leadership?
    let board: LeadershipBoard
    let metrics: ServerMetrics
    /// Posts what other replicas queued for this adapter, while this one leads it.
    let delivery: OutboxDelivery

    func run() async throws {
        try? await cancelWhenGracefulShutdown {
            guard let leadership else {
                await runAdapter()
                return
            }
            board.set(adapter.platform, .standingBy)
            while !Task.isCancelled {
                let lease = try await leadership.acquire()
                logger.info("this replica now leads \(leadership.name) (epoch \(lease.epoch))")
                board.set(adapter.platform, .leading(epoch: lease.epoch))
                metrics.leadershipsTaken.increment()
                await withTaskGroup(of: Void.self) { group in
                    group.addTask { await runAdapter() }
                    group.addTask { await leadership.keepRenewing(lease) }
                    // Ends only when cancelled, with the others.
                    group.addTask { await delivery.run() }
                    await group.next()
                    group.cancelAll()
                }
                board.set(adapter.platform, .standingBy)
                // Not a stop: the lease was taken, or could not be renewed in time.
                if !Task.isCancelled { metrics.leasesLost.increment() }
            }
        }
        await leadership?.release()
    }

    /// Runs the adapter, starting it again when it ends, until cancelled.
    private func runAdapter() async {
        var backoff = Duration.seconds(1)
        while !Task.isCancelled {
            let started = ContinuousClock.now
            do {
                try await adapter.run(engine: engine)
                guard !Task.isCancelled else { return }
                logger.warning("the \(adapter.platform) adapter stopped; starting it again in \(backoff)")
            } catch is CancellationError {
                return
            } catch {
                guard !Task.isCancelled else { return }
                logger.error("the \(adapter.platform) adapter failed: \(error); starting it again in \(backoff)")
            }
            // An adapter that ran for a while before it ended starts again quickly.
            if ContinuousClock.now - started > .seconds(60) { backoff = .seconds(1) }
            do { try await Task.sleep(for: backoff) } catch { return }
            backoff = min(backoff * 2, .seconds(60))
        }
    }
}

/// Settles expired approval requests every few seconds, so they do not wait to be touched, and
/// reminds open incidents whose status update is due, and posts on-call handoffs.
struct ApprovalSweeper: Service {
    let engine: Engine
    let logger: Logger

    func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                try await engine.expireDueApprovals()
            } catch {
                logger.error("cannot expire approval requests: \(error)")
            }
            do {
                try await engine.remindIncidents()
            } catch {
                logger.error("cannot remind incidents of their status updates: \(error)")
            }
            do {
                try await engine.escalatePages()
            } catch {
                logger.error("cannot escalate pages: \(error)")
            }
            do {
                try await engine.announceHandoffs()
            } catch {
                logger.error("cannot announce on-call handoffs: \(error)")
            }
            await sleepUntilStopping(for: .seconds(5))
        }
    }
}

/// Every few seconds, settles the runs of processes that died since the last look: their programs
/// are stopped and their runs recorded as interrupted (start-up does this too, but a process can die
/// while this one runs, or still be dying when this one starts).
///
/// Each run marked interrupted is told of in its room, when this replica has an adapter for it:
/// whoever asked learns that it did not finish. Where one replica holds the room's connection (IRC,
/// Matrix) the notice goes through the outbox at once, so it is posted by whoever holds it, even if
/// this replica dies a moment later.
struct RecoveryService: Service {
    let engine: Engine
    let interval: Duration
    let messenger: AdapterMessenger
    /// Runs interrupted at start: queued at once where the outbox carries them, the others told of
    /// after the first interval (the adapters run by then).
    let atStart: [RunRecord]
    let logger: Logger

    func run() async throws {
        var untold: [RunRecord] = []
        for run in atStart where !(await tell(run, durablyOnly: true)) { untold.append(run) }
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            await sleepUntilStopping(for: interval)
            guard !Task.isCancelled && !Task.isShuttingDownGracefully else { return }
            for run in untold { await tell(run) }
            untold = []
            do {
                for run in try await engine.recoverAbandonedRuns() { await tell(run) }
            } catch {
                logger.error("cannot settle abandoned runs: \(error)")
            }
        }
    }

    /// Tells the run's room it was interrupted: through the outbox where its connection is held by
    /// one replica, else directly unless `durablyOnly`. True when told or queued (or there is no
    /// adapter for the room, so nobody can be told).
    @discardableResult
    private func tell(_ run: RunRecord, durablyOnly: Bool = false) async -> Bool {
        guard let platform = run.identity.split(separator: ":").first.map(String.init),
            messenger.adapters[platform] != nil
        else { return true }
        let text = engine.vault.masker.mask(
            "⚠️ Run #\(run.id ?? 0) (`\(run.text)`) was interrupted: the Parley process running it stopped before it finished. Check what it did before running it again."
        )
        let room = "\(platform):\(run.room)"
        do {
            if try await messenger.queueDurably(.text(text), to: room, thread: run.thread) { return true }
            guard !durablyOnly else { return false }
            _ = try await messenger.send(.text(text), to: room, thread: run.thread)
        } catch {
            logger.warning("cannot tell \(room) that run #\(run.id ?? 0) was interrupted: \(error)")
        }
        return true
    }
}

/// Sleeps for `duration`, or less when a graceful stop begins: a service waiting for its next
/// round must not hold the stop up (nor the port, for a restart straight after).
func sleepUntilStopping(for duration: Duration) async {
    try? await cancelWhenGracefulShutdown { try await Task.sleep(for: duration) }
}
