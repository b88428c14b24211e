import Foundation
import Hummingbird
import ParleyAdapters
import ParleyEngine
import ParleyStore

/// `/healthz` (alive), `/readyz` (store reachable, adapters connected), `/metrics` (Prometheus).
struct OperationsRoutes {
    let engine: Engine
    let store: any ParleyStorage
    let metrics: ServerMetrics
    let adapters: [any ChatAdapter]
    let leadership: LeadershipBoard

    func register(on router: Router<ParleyRequestContext>) {
        router.get("healthz") { _, _ in JSONBody.response(["status": "alive"]) }
        router.get("readyz") { _, _ in
            var report = ["web": "connected", "replica": ProcessOwner.current]
            var leases: [String] = []
            for adapter in adapters {
                let standing = leadership.standing(adapter.platform)
                if case .leading(let epoch) = standing { leases.append("adapter:\(adapter.platform) (epoch \(epoch))") }
                switch standing {
                // Another replica holds the connection: this one is ready all the same (the load
                // balancer keeps sending it HTTP), and takes the connection over when needed.
                case .standingBy: report[adapter.platform] = "standing by"
                case .shared, .leading:
                    report[adapter.platform] = adapter.isConnected ? "connected" : "disconnected"
                }
            }
            let stuck = store.stuckOperations
            if store.isNotAnswering {
                // Answered at once: asking the database again would wait as long as it does.
                report["store"] = "stuck (\(stuck) operation\(stuck == 1 ? "" : "s") past the deadline)"
            } else {
                do {
                    _ = try await store.lastAuditEntry()
                    report["store"] = "ok"
                } catch {
                    report["store"] = "unreachable"
                }
            }
            if stuck > 0 && !store.isNotAnswering {
                // Answered since: ready, but say so (each holds a pooled connection until it ends).
                report["stuck_operations"] = "\(stuck)"
            }
            report["leases"] = leases.isEmpty ? "none" : leases.joined(separator: ", ")
            let ready = report["store"] == "ok" && !report.values.contains("disconnected")
            report["status"] = ready ? "ready" : "not ready"
            return JSONBody.response(report, status: ready ? .ok : .serviceUnavailable)
        }
        router.get("metrics") { _, _ in
            let text = await metrics.render(engine: engine, adapters: adapters, leadership: leadership, store: store)
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: text)))
        }
    }
}
