import Foundation
import Hummingbird
import ParleyEngine
import ParleyStore

/// `/healthz` (alive), `/readyz` (store reachable, adapters connected), `/metrics` (Prometheus).
struct OperationsRoutes {
    let engine: Engine
    let store: any ParleyStorage
    let metrics: ServerMetrics

    func register(on router: Router<ParleyRequestContext>) {
        router.get("healthz") { _, _ in JSONBody.response(["status": "alive"]) }
        router.get("readyz") { _, _ in
            do {
                _ = try await store.lastAuditEntry()
                return JSONBody.response(["status": "ready", "store": "ok", "web": "connected"])
            } catch {
                return JSONBody.response(
                    ["status": "not ready", "store": "unreachable"], status: .serviceUnavailable)
            }
        }
        router.get("metrics") { _, _ in
            let text = await metrics.render(engine: engine)
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: text)))
        }
    }
}
