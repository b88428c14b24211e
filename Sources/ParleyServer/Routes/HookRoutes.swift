import Crypto
import Foundation
import Hummingbird
import Logging
import NIOCore
import ParleyAdapters
import ParleyCore
import ParleyEngine

/// `/hooks/…`: monitoring and CI/CD webhooks. Every request is authenticated (bearer token, basic
/// auth or HMAC signature) before its body is read as alerts; a valid payload is stored before the
/// response is sent. Token and basic credentials are checked on the headers, before any of the body is
/// read; a signature needs the body, so those reads are capped by `server.max_body` and only a few at
/// once run before they are authenticated.
struct HookRoutes {
    let engine: Engine
    let center: AlertCenter
    let environment: [String: String]
    let logger: Logger
    let refusals: WebhookRefusals
    /// The largest body read (`server.max_body`).
    let maxBodyBytes: Int
    let unauthenticatedReads = UnauthenticatedReads(limit: 8)

    init(
        engine: Engine, center: AlertCenter, environment: [String: String], logger: Logger,
        metrics: ServerMetrics? = nil, refusals: WebhookRefusals? = nil
    ) {
        self.engine = engine
        self.center = center
        self.environment = environment
        self.logger = logger
        self.maxBodyBytes = engine.config.server.maxBodyBytes
        self.refusals = refusals ?? WebhookRefusals(audit: engine.audit, metrics: metrics, logger: logger)
    }
    /// How far a generic source's `X-Parley-Timestamp` may be from now.
    static let window: TimeInterval = 300

    /// A source's credentials, read once.
    struct Credentials: Sendable {
        var token: [UInt8]?
        var basic: [UInt8]?
        var secret: [UInt8]?
    }

    func register(on router: Router<ParleyRequestContext>) {
        for source in engine.config.alerts.sources {
            let credentials = Credentials(
                token: (try? source.token?.resolve(environment: environment).get()).map { Array($0.utf8) },
                basic: source.basicUser.flatMap { user in
                    (try? source.basicPassword?.resolve(environment: environment).get()).map {
                        Array("Basic \(Data("\(user):\($0)".utf8).base64EncodedString())".utf8)
                    }
                },
                secret: (try? source.secret?.resolve(environment: environment).get()).map { Array($0.utf8) })
            router.post(RouterPath(source.path)) { request, _ -> Response in
                await handle(request, source: source, credentials: credentials)
            }
        }
    }

    func handle(_ request: Request, source: AlertSource, credentials: Credentials) async -> Response {
        let signed = credentials.secret != nil
        if !signed, let refusal = authenticate(request, body: [], source: source, credentials: credentials) {
            return await refuse(source, refusal)
        }
        if let length = request.headers[.contentLength].flatMap(Int.init), length > maxBodyBytes {
            return Self.answer(
                .contentTooLarge, ["error": "the body is larger than \(maxBodyBytes) bytes (server.max_body)"])
        }
        if signed {
            guard await unauthenticatedReads.enter() else {
                return Self.answer(
                    .serviceUnavailable, ["error": "too many webhook bodies are being read at once; retry"])
            }
        }
        let body: [UInt8]
        do {
            body = Array(buffer: try await request.body.collect(upTo: maxBodyBytes))
            if signed { await unauthenticatedReads.leave() }
        } catch {
            if signed { await unauthenticatedReads.leave() }
            return Self.answer(
                .contentTooLarge, ["error": "the body is larger than \(maxBodyBytes) bytes (server.max_body)"])
        }
        if signed, let refusal = authenticate(request, body: body, source: source, credentials: credentials) {
            return await refuse(source, refusal)
        }
        let alerts: [Alert]
        do {
            switch source.kind {
            case .alertmanager: alerts = try AlertPayloads.alertmanager(body)
            case .grafana: alerts = try AlertPayloads.alertmanager(body, source: "grafana")
            case .generic:
                guard let mapping = source.mapping else { return Self.answer(.internalServerError, [:]) }
                alerts = [try AlertPayloads.generic(body, mapping: mapping)]
            case .github:
                let event = Self.header(request, "x-github-event") ?? ""
                if event == "ping" { return Self.answer(.ok, ["status": "pong"]) }
                if let delivery = Self.header(request, "x-github-delivery"),
                    (try? await engine.isNewDelivery("github:\(delivery)")) == false
                {
                    return Self.answer(.ok, ["status": "already received", "stored": "0"])
                }
                alerts = try AlertPayloads.github(event: event, body).map { [$0] } ?? []
                if alerts.isEmpty { return Self.answer(.ok, ["status": "ignored: not a finished CI/CD result"]) }
            }
        } catch {
            return Self.answer(.badRequest, ["error": error.reason])
        }
        do {
            let result = try await center.ingest(alerts, from: source.name)
            return Self.answer(
                .ok, ["status": "stored", "stored": "\(result.stored)", "firing": "\(result.firing)"])
        } catch {
            logger.error("cannot store alerts from \(source.name): \(error)")
            return Self.answer(.serviceUnavailable, ["error": "cannot store the alerts right now; retry"])
        }
    }

    /// Answers 401, counted in the metrics and summarised in the audit log (not one entry per request).
    func refuse(_ source: AlertSource, _ refusal: String) async -> Response {
        logger.warning("refused a webhook to \(source.path): \(refusal)")
        await refusals.refused(source: source, reason: refusal)
        return Self.answer(.unauthorized, ["error": refusal])
    }

    /// Nil when the request carries the source's credentials, else why not.
    func authenticate(_ request: Request, body: [UInt8], source: AlertSource, credentials: Credentials) -> String? {
        let authorization = request.headers[.authorization].flatMap(AuthorizationHeader.init)
        if let token = credentials.token, let given = authorization, given.scheme == "bearer",
            ConstantTime.equal(Array(given.credentials.utf8), token)
        {
            return nil
        }
        if let basic = credentials.basic, let given = authorization, given.scheme == "basic",
            ConstantTime.equal(Array("Basic \(given.credentials)".utf8), basic)
        {
            return nil
        }
        if let secret = credentials.secret {
            let key = SymmetricKey(data: secret)
            if source.kind == .github {
                guard let signature = Self.header(request, "x-hub-signature-256") else {
                    return "missing X-Hub-Signature-256"
                }
                let expected = "sha256=" + HexDigest.hex(HMAC<SHA256>.authenticationCode(for: body, using: key))
                return ConstantTime.equal(signature, expected)
                    ? nil : "X-Hub-Signature-256 does not match"
            }
            guard let signature = Self.header(request, "x-parley-signature"),
                let stamp = Self.header(request, "x-parley-timestamp")
            else {
                return credentials.token == nil && credentials.basic == nil
                    ? "missing X-Parley-Signature or X-Parley-Timestamp" : "missing or wrong credentials"
            }
            guard let seconds = Double(stamp), abs(Date().timeIntervalSince1970 - seconds) <= Self.window else {
                return "X-Parley-Timestamp is not within 5 minutes of now"
            }
            let mac = HMAC<SHA256>.authenticationCode(for: Array("\(stamp).".utf8) + body, using: key)
            return ConstantTime.equal(signature, "sha256=" + HexDigest.hex(mac))
                ? nil : "X-Parley-Signature does not match"
        }
        return request.headers[.authorization] == nil ? "missing Authorization" : "wrong credentials"
    }

    /// A header's value by its lower-case name.
    static func header(_ request: Request, _ name: String) -> String? {
        request.headers.first { $0.name.canonicalName == name }?.value
    }

    static func answer(_ status: HTTPResponse.Status, _ fields: [String: String]) -> Response {
        JSONBody.response(fields, status: status)
    }
}
