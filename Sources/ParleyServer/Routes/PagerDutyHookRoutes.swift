import Crypto
import Foundation
import Hummingbird
import Logging
import ParleyCore
import ParleyEngine
import ParleyStore

/// `POST /hooks/pagerduty`: PagerDuty's v3 webhooks coming back. Each request is signed
/// (`X-PagerDuty-Signature: v1=HEX[,v1=HEX…]`, HMAC-SHA256 of the body with a subscription's secret;
/// any one signature matching any configured secret will do, so secrets can be rotated), checked in
/// constant time before the body is read as JSON. `incident.acknowledged` and `incident.resolved`
/// settle the Parley page whose key is the PagerDuty incident's `incident_key` (the `dedup_key`
/// Parley paged with); every event id is handled once.
struct PagerDutyHookRoutes {
    let engine: Engine
    /// Where a PagerDuty incident that Parley did not page for arrives as an alert.
    let center: AlertCenter
    let secrets: [[UInt8]]
    let maxBodyBytes: Int
    let logger: Logger
    /// Bodies are read before their signature can be checked: a bounded number at once, as for the
    /// other signed hooks, so strangers cannot hold the server's memory with large bodies.
    let unauthenticatedReads = UnauthenticatedReads(limit: 8)

    init(engine: Engine, center: AlertCenter, environment: [String: String], logger: Logger) {
        self.engine = engine
        self.center = center
        self.logger = logger
        maxBodyBytes = engine.config.server.maxBodyBytes
        secrets = (engine.config.paging.pagerDuty?.webhookSecrets ?? []).compactMap { source in
            (try? source.resolve(environment: environment).get()).map { Array($0.utf8) }
        }
    }

    func register(on router: Router<ParleyRequestContext>) {
        guard !secrets.isEmpty else { return }
        router.post("hooks/pagerduty") { request, _ -> Response in await handle(request) }
    }

    /// True when one of the header's `v1=` signatures is the body's HMAC under one of the secrets.
    static func verify(_ header: String, body: [UInt8], secrets: [[UInt8]]) -> Bool {
        let given = header.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { $0.hasPrefix("v1=") }.prefix(10)
        var matched = false
        for secret in secrets {
            let expected =
                "v1=" + HexDigest.hex(HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: secret)))
            for signature in given where ConstantTime.equal(signature, expected) { matched = true }
        }
        return matched
    }

    func handle(_ request: Request) async -> Response {
        if let length = request.headers[.contentLength].flatMap(Int.init), length > maxBodyBytes {
            return HookRoutes.answer(.contentTooLarge, ["error": "the body is larger than \(maxBodyBytes) bytes"])
        }
        guard let header = HookRoutes.header(request, "x-pagerduty-signature") else {
            return HookRoutes.answer(.unauthorized, ["error": "missing X-PagerDuty-Signature"])
        }
        guard await unauthenticatedReads.enter() else {
            return HookRoutes.answer(
                .serviceUnavailable, ["error": "too many webhook bodies are being read at once; retry"])
        }
        let body: [UInt8]
        do {
            body = Array(buffer: try await request.body.collect(upTo: maxBodyBytes))
            await unauthenticatedReads.leave()
        } catch {
            await unauthenticatedReads.leave()
            return HookRoutes.answer(.contentTooLarge, ["error": "the body is larger than \(maxBodyBytes) bytes"])
        }
        guard Self.verify(header, body: body, secrets: secrets) else {
            logger.warning("refused a PagerDuty webhook: X-PagerDuty-Signature does not match")
            return HookRoutes.answer(.unauthorized, ["error": "X-PagerDuty-Signature does not match"])
        }
        guard let json = JSON(parsing: body), let event = json["event"].object.map(JSON.object),
            let type = event["event_type"].string, let id = event["id"].string
        else {
            return HookRoutes.answer(
                .badRequest, ["error": "expected a v3 webhook: {\"event\": {\"id\", \"event_type\", \"data\"}}"])
        }
        do {
            guard try await engine.isNewDelivery("pagerduty:\(id)") else {
                return HookRoutes.answer(.ok, ["status": "duplicate"])
            }
            let status: PageStatus
            switch type {
            case "incident.triggered": status = .open
            case "incident.acknowledged": status = .acknowledged
            case "incident.resolved": status = .resolved
            default: return HookRoutes.answer(.ok, ["status": "ignored", "event_type": type])
            }
            let data = event["data"]
            let who = "pagerduty:" + (event["agent"]["summary"].string ?? "someone")
            // An incident Parley paged for settles its page; any other is a PagerDuty alert in Parley,
            // routed like every alert (its own key when it has none from Parley).
            if let key = data["incident_key"].string,
                key.hasPrefix("alert:") || key.hasPrefix("incident:")
                    || key.hasPrefix("manual:")
            {
                guard status != .open else { return HookRoutes.answer(.ok, ["status": "ours"]) }
                let page = try await engine.settlePage(key: key, status: status, by: who, skipping: .pagerDuty)
                return HookRoutes.answer(
                    .ok, ["status": page == nil ? "no open page" : "settled", "page": "\(page?.id ?? 0)"])
            }
            guard let id = data["id"].string, !id.isEmpty else {
                return HookRoutes.answer(.badRequest, ["error": "the incident has no id"])
            }
            let alert = Alert(
                source: "pagerduty", fingerprint: "pagerduty:\(id)", status: status == .resolved ? .resolved : .firing,
                labels: [
                    "alertname": StoredText.clean(String((data["title"].string ?? "PagerDuty incident").prefix(200))),
                    "severity": data["urgency"].string == "high" ? "critical" : "warning",
                    "service": StoredText.clean(String((data["service"]["summary"].string ?? "").prefix(200))),
                ].filter { !$0.value.isEmpty },
                annotations: ["summary": StoredText.clean(String((data["title"].string ?? "").prefix(500)))],
                url: data["html_url"].string)
            _ = try await center.ingest([alert], from: "pagerduty")
            if status == .acknowledged, let record = try await engine.alertRecord(fingerprint: alert.fingerprint),
                record.acknowledgedBy == nil, let number = record.id
            {
                _ = try await engine.acknowledgeAlert(number, by: who)
            }
            return HookRoutes.answer(.ok, ["status": "alert", "fingerprint": alert.fingerprint])
        } catch {
            logger.error("cannot handle a PagerDuty webhook: \(error)")
            return HookRoutes.answer(.serviceUnavailable, ["error": "Parley could not record it; PagerDuty retries"])
        }
    }
}
