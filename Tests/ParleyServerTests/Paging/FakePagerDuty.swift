import Foundation
import Hummingbird
import NIOCore
import ParleyCore
import Synchronization

/// A local stand-in for PagerDuty's Events API v2 (`POST /v2/enqueue`), as strict as the documented
/// one: JSON only, a 32-character routing key, `event_action` trigger/acknowledge/resolve, a
/// `dedup_key` of at most 255 characters (required to acknowledge or resolve), and for a trigger a
/// payload with `summary` (1…1024), `source` and a known `severity`. Invalid events get 400 with
/// the errors, a rate limit 429; accepted ones 202 with their dedup key. Every request is recorded.
final class FakePagerDuty: Sendable {
    struct Request: Sendable {
        var status: Int
        var body: JSON
    }

    private let state = Mutex<(requests: [Request], limited: Int)>(([], 0))
    let routingKey: String

    init(routingKey: String) { self.routingKey = routingKey }

    var requests: [Request] { state.withLock { $0.requests } }
    /// The events PagerDuty accepted, in order.
    var accepted: [JSON] { requests.filter { $0.status == 202 }.map(\.body) }
    /// Answers the next `count` requests with 429.
    func rateLimit(_ count: Int) { state.withLock { $0.limited = count } }

    func router() -> Router<BasicRequestContext> {
        let router = Router()
        router.post("/v2/enqueue") { request, _ in
            let bytes = Array(buffer: try await request.body.collect(upTo: 512 << 10))
            let body = JSON(parsing: bytes) ?? .null
            let (status, answer) = self.answer(request, body)
            self.state.withLock { $0.requests.append(Request(status: status, body: body)) }
            return Response(
                status: .init(code: status), headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(bytes: answer.encoded)))
        }
        return router
    }

    private func answer(_ request: Hummingbird.Request, _ body: JSON) -> (Int, JSON) {
        let limited = state.withLock { state -> Bool in
            guard state.limited > 0 else { return false }
            state.limited -= 1
            return true
        }
        if limited {
            return (
                429, ["status": "throttle event", "message": "Requests for this service are arriving too quickly."]
            )
        }
        guard request.headers[.contentType]?.hasPrefix("application/json") == true, body.object != nil else {
            return (400, ["status": "invalid event", "message": "Event object is invalid", "errors": ["invalid JSON"]])
        }
        var errors: [String] = []
        if body["routing_key"].string?.count != 32 { errors.append("'routing_key' is invalid") }
        let action = body["event_action"].string ?? ""
        if !["trigger", "acknowledge", "resolve"].contains(action) { errors.append("'event_action' is invalid") }
        if let key = body["dedup_key"].string, key.count > 255 { errors.append("'dedup_key' is too long") }
        if action != "trigger", (body["dedup_key"].string ?? "").isEmpty {
            errors.append("'dedup_key' is required for \(action)")
        }
        if action == "trigger" {
            let payload = body["payload"]
            let summary = payload["summary"].string ?? ""
            if summary.isEmpty || summary.count > 1024 { errors.append("'payload.summary' is invalid") }
            if (payload["source"].string ?? "").isEmpty { errors.append("'payload.source' is missing") }
            if !["critical", "error", "warning", "info"].contains(payload["severity"].string ?? "") {
                errors.append("'payload.severity' is invalid")
            }
        }
        guard errors.isEmpty else {
            return (
                400,
                [
                    "status": "invalid event", "message": "Event object is invalid",
                    "errors": .array(errors.map { .string($0) }),
                ]
            )
        }
        guard body["routing_key"].string == routingKey else {
            return (
                400,
                ["status": "invalid event", "message": "Event object is invalid", "errors": ["unknown routing_key"]]
            )
        }
        let key = body["dedup_key"].string ?? UUID().uuidString
        return (202, ["status": "success", "message": "Event processed", "dedup_key": .string(key)])
    }
}
