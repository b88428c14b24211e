import Foundation
import Hummingbird
import NIOCore
import ParleyCore
import Synchronization

/// A local stand-in for Opsgenie's Alert API v2, as strict as its documentation: `Authorization:
/// GenieKey KEY`, JSON bodies, `message` of 1…130 characters, `alias` of at most 512, a priority
/// P1…P5; acknowledge and close by alias (`identifierType=alias`) of an alert that exists. Requests
/// are processed asynchronously there, so accepted ones get 202 with a request id.
final class FakeOpsgenie: Sendable {
    struct Call: Sendable {
        var path: String
        var status: Int
        var body: JSON
    }

    private let state = Mutex<(calls: [Call], aliases: [String: String], limited: Int)>(([], [:], 0))
    let apiKey: String

    init(apiKey: String) { self.apiKey = apiKey }

    var calls: [Call] { state.withLock { $0.calls } }
    /// Each alert's state by alias: open, acknowledged, closed.
    var alerts: [String: String] { state.withLock { $0.aliases } }
    /// Answers the next `count` requests with 429, as Opsgenie does past its rate limit.
    func rateLimit(_ count: Int) { state.withLock { $0.limited = count } }

    func router() -> Router<BasicRequestContext> {
        let router = Router()
        router.post("/v2/alerts") { request, _ in
            try await self.handle(request, path: "create") { body in
                let message = body["message"].string ?? ""
                guard (1...130).contains(message.count) else { return (422, "message should be 1 to 130 characters") }
                guard let alias = body["alias"].string, !alias.isEmpty, alias.count <= 512 else {
                    return (422, "alias should be 1 to 512 characters")
                }
                if let priority = body["priority"].string, !["P1", "P2", "P3", "P4", "P5"].contains(priority) {
                    return (422, "priority should be one of P1, P2, P3, P4, P5")
                }
                // A second create with an open alert's alias is deduplicated by Opsgenie: one alert.
                self.state.withLock { state in
                    if state.aliases[alias] == nil || state.aliases[alias] == "closed" { state.aliases[alias] = "open" }
                }
                return nil
            }
        }
        for action in ["acknowledge", "close"] {
            router.post("/v2/alerts/{alias}/\(action)") { request, context in
                let alias = context.parameters.get("alias")?.removingPercentEncoding ?? ""
                return try await self.handle(request, path: action) { _ in
                    guard request.uri.queryParameters.get("identifierType") == "alias" else {
                        return (422, "identifierType should be alias for an alias")
                    }
                    return self.state.withLock { state in
                        guard state.aliases[alias] != nil else { return (404, "Alert not found") }
                        state.aliases[alias] = action == "close" ? "closed" : "acknowledged"
                        return nil
                    }
                }
            }
        }
        return router
    }

    private func handle(_ request: Request, path: String, _ check: (JSON) -> (Int, String)?) async throws -> Response {
        let bytes = Array(buffer: try await request.body.collect(upTo: 256 << 10))
        let body = JSON(parsing: bytes) ?? .null
        let problem: (Int, String)?
        let limited = state.withLock { state -> Bool in
            guard state.limited > 0 else { return false }
            state.limited -= 1
            return true
        }
        if limited {
            problem = (429, "You are making too many requests! To avoid errors, we recommend you limit requests.")
        } else if request.headers[.authorization] != "GenieKey \(apiKey)" {
            problem = (401, "Could not authenticate")
        } else if request.headers[.contentType]?.hasPrefix("application/json") != true || body.object == nil {
            problem = (400, "Request body is not processable")
        } else {
            problem = check(body)
        }
        let status = problem?.0 ?? 202
        state.withLock { $0.calls.append(Call(path: path, status: status, body: body)) }
        let answer: JSON =
            problem.map { ["message": .string($0.1), "took": .number(0.001), "requestId": "r-1"] }
            ?? ["result": "Request will be processed", "took": .number(0.002), "requestId": .string(UUID().uuidString)]
        return Response(
            status: .init(code: status), headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(bytes: answer.encoded)))
    }
}
