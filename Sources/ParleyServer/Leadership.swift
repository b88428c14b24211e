import Logging
import ParleyAdapters
import ParleyEngine
import ParleyStore
import ServiceLifecycle
import Synchronization

/// Which exclusive connections this replica leads, for `/readyz` and `/metrics`.
public final class LeadershipBoard: Sendable {
    /// An adapter's standing on this replica.
    public enum Standing: Sendable, Equatable {
        /// Every replica runs it (it only receives by HTTP).
        case shared
        /// This replica holds its connection, under the lease's epoch.
        case leading(epoch: Int64)
        /// Another replica holds its connection; this one takes over when that one is gone.
        case standingBy
    }

    private let standings = Mutex<[String: Standing]>([:])

    public init() {}

    func set(_ platform: String, _ standing: Standing) { standings.withLock { $0[platform] = standing } }

    /// The adapter's standing (`shared` for an adapter that needs no leader).
    public func standing(_ platform: String) -> Standing { standings.withLock { $0[platform] } ?? .shared }
}

/// How long a leader's lease lasts, how often it renews it, and how often the others ask for it.
/// A leader that cannot renew steps down `renewEvery` before the lease would expire, so two replicas
/// never hold the connection at once; a dead leader is replaced within `ttl + pollEvery`.
///
/// A replica's own heartbeat (its row in the store, which keeps its runs alive) lasts
/// `replicaTTL` and is sent every `heartbeatEvery`; survivors settle the runs of a replica whose
/// heartbeat ran out at their next sweep.
public struct LeaseTiming: Sendable {
    public var ttl: Duration
    public var renewEvery: Duration
    public var pollEvery: Duration
    public var replicaTTL: Duration
    public var heartbeatEvery: Duration

    public init(
        ttl: Duration = .seconds(10), renewEvery: Duration = .seconds(3), pollEvery: Duration = .seconds(2),
        replicaTTL: Duration = .seconds(15), heartbeatEvery: Duration = .seconds(3)
    ) {
        self.ttl = ttl
        self.renewEvery = renewEvery
        self.pollEvery = pollEvery
        self.replicaTTL = replicaTTL
        self.heartbeatEvery = heartbeatEvery
    }
}

/// Sends this replica's heartbeat until the stop is complete (it is stopped after the drain, so
/// that runs finishing during the grace stay alive), and stops here the runs a survivor took over.
struct HeartbeatService: Service {
    let engine: Engine
    let timing: LeaseTiming
    let metrics: ServerMetrics
    let logger: Logger

    func run() async throws {
        var failing = false
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                let lost = try await engine.heartbeat(ttl: timing.replicaTTL)
                if !lost.isEmpty { metrics.runsTakenOver.increment(by: Int64(lost.count)) }
                if failing { logger.info("this replica's heartbeat reaches the store again") }
                failing = false
            } catch {
                if !failing { logger.warning("cannot send this replica's heartbeat: \(error)") }
                failing = true
            }
            await sleepUntilStopping(for: timing.heartbeatEvery)
        }
    }
}

/// The lease of one exclusive job (a chat connection that delivers every event to every client),
/// held by this process (`ProcessOwner.current`), as River elects its leader.
struct Leadership {
    let name: String
    let store: any LeaseStore
    let timing: LeaseTiming
    let logger: Logger
    let holder = ProcessOwner.current

    /// Waits until this replica holds the lease. A holder that is a dead process on this host (a
    /// crash before a restart) is not waited out.
    func acquire() async throws -> LeaseRecord {
        var told = false
        while true {
            try Task.checkCancellation()
            do {
                if let lease = try await store.acquireLease(
                    name: name, holder: holder, ttl: timing.ttl, isDead: { !ProcessOwner.isAlive($0) })
                {
                    return lease
                }
                if !told {
                    logger.info("another replica leads \(name); this one stands by to take over")
                    told = true
                }
            } catch {
                logger.warning("cannot ask for the lease of \(name): \(error)")
            }
            try await Task.sleep(for: timing.pollEvery)
        }
    }

    /// Renews the lease until it is lost, then returns: taken by another replica, or not renewed in
    /// time (the database unreachable or slow), in which case this replica steps down before the
    /// lease can expire. Renewals are timed from when they were asked for, so the estimate of the
    /// expiry is never later than the store's.
    func keepRenewing(_ lease: LeaseRecord) async {
        let validUntil = SharedValue(ContinuousClock.now + timing.ttl)
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                while !Task.isCancelled {
                    try? await Task.sleep(for: timing.renewEvery)
                    guard !Task.isCancelled else { return }
                    let asked = ContinuousClock.now
                    do {
                        guard
                            let renewed = try await store.acquireLease(
                                name: name, holder: holder, ttl: timing.ttl, isDead: { _ in false }),
                            renewed.epoch == lease.epoch
                        else {
                            logger.warning("another replica took the lease of \(name); stepping down")
                            return
                        }
                        validUntil.set(asked + timing.ttl)
                    } catch {
                        logger.warning("cannot renew the lease of \(name): \(error)")
                    }
                }
            }
            group.addTask {
                while !Task.isCancelled {
                    let stepDown = validUntil.current - timing.renewEvery
                    if ContinuousClock.now >= stepDown {
                        logger.warning("stepping down from \(name): its lease could not be renewed in time")
                        return
                    }
                    try? await Task.sleep(until: stepDown, clock: .continuous)
                }
            }
            await group.next()
            group.cancelAll()
        }
    }

    /// Gives the lease up (on a stop), so that another replica takes over at once.
    func release() async {
        do {
            try await store.releaseLease(name: name, holder: holder)
        } catch {
            logger.warning("cannot release the lease of \(name): \(error)")
        }
    }
}
