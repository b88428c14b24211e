import Foundation
import ParleyAdapters
import ParleyEngine
import ParleyStore
import Prometheus
import Synchronization

/// Parley's metrics in Prometheus text format, kept in a registry of the server's own (no global state),
/// followed by the HTTP requests' metrics (`HTTPMetrics`), which swift-metrics keeps for the process.
public final class ServerMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    private let latency: DurationHistogram
    private let inFlight: Gauge
    private let auditAppends: Counter
    private let consoleConnections: Gauge
    private let adapterUp: Gauge
    private let reportedAppends = Mutex(0)
    private let storeTimeouts: Counter
    private let reportedTimeouts = Mutex(0)
    private let storeStuck: Gauge
    private let commandsByOutcome: [String: Counter]
    /// Runs this replica was executing that a survivor took over (it was paused or cut off past its heartbeat).
    let runsTakenOver: Counter
    /// Leases of exclusive connections this replica lost while leading (taken, or not renewed in time).
    let leasesLost: Counter
    /// Times this replica became the leader of an exclusive connection.
    let leadershipsTaken: Counter
    /// Messages this replica queued for a connection another replica holds, and what became of the
    /// ones it posted for others.
    let outboxQueued: Counter
    let outboxDelivered: Counter
    let outboxFailed: Counter

    /// Creates the metrics.
    public init() {
        // Hummingbird's `MetricsMiddleware` reports through swift-metrics, which needs its backend first.
        HTTPMetrics.bootstrap()
        latency = registry.makeDurationHistogram(
            descriptor: MetricNameDescriptor(
                namespace: "parley", metricName: "command_duration", unitName: "seconds",
                helpText: "Time from receiving a command to answering it."),
            buckets: [
                .milliseconds(5), .milliseconds(25), .milliseconds(100), .milliseconds(500), .seconds(2), .seconds(10),
                .seconds(60),
            ])
        inFlight = registry.makeGauge(
            descriptor: MetricNameDescriptor(
                namespace: "parley", metricName: "runs_in_flight", unitName: "count", helpText: "Actions running now."))
        auditAppends = registry.makeCounter(
            descriptor: MetricNameDescriptor(
                namespace: "parley", metricName: "audit_appends", unitName: "total",
                helpText: "Entries appended to the audit chain by this process."))
        consoleConnections = registry.makeGauge(
            descriptor: MetricNameDescriptor(
                namespace: "parley", metricName: "console_connections", unitName: "count",
                helpText: "Open web console connections."))
        adapterUp = registry.makeGauge(
            descriptor: MetricNameDescriptor(
                namespace: "parley", metricName: "adapter_connected", unitName: "state",
                helpText: "1 when the adapter is connected to its platform."),
            labels: [("adapter", "web")])
        adapterUp.set(1.0)
        // One counter per outcome, made once: counting a command is then a single increment.
        var counters: [String: Counter] = [:]
        for outcome in EngineResponse.Outcome.allCases {
            counters[outcome.rawValue] = registry.makeCounter(
                descriptor: MetricNameDescriptor(
                    namespace: "parley", metricName: "commands", unitName: "total",
                    helpText: "Commands handled, by outcome."),
                labels: [("outcome", outcome.rawValue)])
        }
        commandsByOutcome = counters
        runsTakenOver = registry.makeCounter(
            descriptor: MetricNameDescriptor(
                namespace: "parley", metricName: "runs_taken_over", unitName: "total",
                helpText: "Runs this replica was executing that another replica took over; they were stopped here."))
        leasesLost = registry.makeCounter(
            descriptor: MetricNameDescriptor(
                namespace: "parley", metricName: "adapter_leases_lost", unitName: "total",
                helpText: "Times this replica lost the lease of a connection it led (taken, or not renewed in time)."))
        leadershipsTaken = registry.makeCounter(
            descriptor: MetricNameDescriptor(
                namespace: "parley", metricName: "adapter_leaderships", unitName: "total",
                helpText: "Times this replica became the leader of an exclusive connection."))
        storeTimeouts = registry.makeCounter(
            descriptor: MetricNameDescriptor(
                namespace: "parley", metricName: "store_timeouts", unitName: "total",
                helpText: "Database operations whose caller was told the database did not answer in time."))
        storeStuck = registry.makeGauge(
            descriptor: MetricNameDescriptor(
                namespace: "parley", metricName: "store_stuck_operations", unitName: "number",
                helpText: "Database operations past their deadline that have not ended yet (the replica is not ready).")
        )
        outboxQueued = registry.makeCounter(
            descriptor: MetricNameDescriptor(
                namespace: "parley", metricName: "outbox_queued", unitName: "total",
                helpText: "Messages this replica queued for a connection another replica holds (or none holds now)."))
        outboxDelivered = registry.makeCounter(
            descriptor: MetricNameDescriptor(
                namespace: "parley", metricName: "outbox_delivered", unitName: "total",
                helpText: "Queued messages this replica posted on the connection it holds."))
        outboxFailed = registry.makeCounter(
            descriptor: MetricNameDescriptor(
                namespace: "parley", metricName: "outbox_failed", unitName: "total",
                helpText: "Queued messages this replica gave up on (refused by the platform, or too old)."))
    }

    /// Counts a handled command by outcome, and its latency.
    func command(outcome: String, took duration: Duration) {
        commandsByOutcome[outcome]?.increment()
        latency.record(duration)
    }

    /// Counts a webhook request refused for its credentials, by source.
    func webhookRefused(source: String) {
        registry.makeCounter(
            descriptor: MetricNameDescriptor(
                namespace: "parley", metricName: "webhook_refusals", unitName: "total",
                helpText: "Webhook requests refused for missing or wrong credentials, by source."),
            labels: [("source", source)]
        ).increment()
    }

    func consoleOpened() { consoleConnections.increment(by: 1) }
    func consoleClosed() { consoleConnections.decrement(by: 1) }

    /// The exposition text, with gauges read from the engine now.
    func render(
        engine: Engine, adapters: [any ChatAdapter] = [], leadership: LeadershipBoard? = nil,
        store: (any ParleyStorage)? = nil
    ) async -> String {
        if let store {
            storeStuck.set(Double(store.stuckOperations))
            let timedOut = store.timedOutOperations
            let newTimeouts = reportedTimeouts.withLock { reported in
                defer { reported = max(reported, timedOut) }
                return timedOut - reported
            }
            if newTimeouts > 0 { storeTimeouts.increment(by: Int64(newTimeouts)) }
        }
        for adapter in adapters where adapter.needsLeader {
            var epoch = 0.0
            if case .leading(let leading) = leadership?.standing(adapter.platform) { epoch = Double(leading) }
            registry.makeGauge(
                descriptor: MetricNameDescriptor(
                    namespace: "parley", metricName: "adapter_leader_epoch", unitName: "number",
                    helpText:
                        "The epoch of the lease under which this replica holds the adapter's connection; 0 when another replica holds it."
                ),
                labels: [("adapter", adapter.platform)]
            ).set(epoch)
        }
        for adapter in adapters {
            registry.makeGauge(
                descriptor: MetricNameDescriptor(
                    namespace: "parley", metricName: "adapter_connected", unitName: "state",
                    helpText: "1 when the adapter is connected to its platform."),
                labels: [("adapter", adapter.platform)]
            ).set(adapter.isConnected ? 1.0 : 0.0)
        }
        inFlight.set(Double(await engine.runsInFlight))
        let appended = await engine.audit.appendedCount
        let delta = reportedAppends.withLock { reported in
            defer { reported = appended }
            return appended - reported
        }
        if delta > 0 { auditAppends.increment(by: Int64(delta)) }
        return registry.emitToString() + HTTPMetrics.registry.emitToString()
    }
}
