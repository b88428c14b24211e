import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import ParleyCore

/// Alertmanager's API v2, for silences.
public struct AlertmanagerClient: Sendable {
    let baseURL: String
    let token: String?
    let client: PlatformClient
    /// A person waits on these calls (`silence`, `silences`): a few quick tries, not minutes.
    static let policy = RetryPolicy(
        maxAttempts: 3, maxWait: .seconds(5), maxTotalWait: .seconds(10), firstBackoff: .milliseconds(500))

    /// A client for Alertmanager at `baseURL` (`http://127.0.0.1:9093`).
    public init(
        baseURL: String, token: String? = nil, http: HTTPClient = .shared,
        logger: Logger = Logger(label: "parley.alertmanager")
    ) {
        self.baseURL = baseURL
        self.token = token
        client = PlatformClient(name: "Alertmanager", http: http, policy: Self.policy, logger: logger)
    }

    /// A silence as Alertmanager lists it.
    public struct Silence: Sendable, Equatable {
        public var id: String
        public var matchers: [String]
        public var startsAt: Date?
        public var endsAt: Date?
        public var createdBy: String
        public var comment: String
        public var state: String
    }

    /// Creates a silence; returns its id.
    public func createSilence(matchers: [LabelMatcher], until end: Date, by author: String, comment: String)
        async throws -> String
    {
        let body: [String: Any] = [
            "matchers": matchers.map {
                ["name": $0.name, "value": $0.value, "isRegex": $0.isRegex, "isEqual": $0.isEqual] as [String: Any]
            },
            "startsAt": AuditClock.format(Date()), "endsAt": AuditClock.format(end), "createdBy": author,
            "comment": comment,
        ]
        let answer = try await call(.POST, "/api/v2/silences", body: try JSONSerialization.data(withJSONObject: body))
        guard let object = answer as? [String: Any], let id = object["silenceID"] as? String else {
            throw AlertmanagerError(reason: "Alertmanager did not return a silence id")
        }
        return id
    }

    /// Every silence Alertmanager knows, active first.
    public func silences() async throws -> [Silence] {
        let answer = try await call(.GET, "/api/v2/silences", body: nil)
        guard let list = answer as? [[String: Any]] else {
            throw AlertmanagerError(reason: "Alertmanager's silences are not a list")
        }
        let silences = list.map { item -> Silence in
            let matchers = (item["matchers"] as? [[String: Any]] ?? []).map { matcher -> String in
                let name = matcher["name"] as? String ?? ""
                let value = matcher["value"] as? String ?? ""
                let equal = matcher["isEqual"] as? Bool ?? true
                let regex = matcher["isRegex"] as? Bool ?? false
                return name + (equal ? "" : "!") + (regex ? "=~" : "=") + value
            }
            return Silence(
                id: item["id"] as? String ?? "", matchers: matchers,
                startsAt: (item["startsAt"] as? String).flatMap(AlertPayloads.date),
                endsAt: (item["endsAt"] as? String).flatMap(AlertPayloads.date),
                createdBy: item["createdBy"] as? String ?? "", comment: item["comment"] as? String ?? "",
                state: (item["status"] as? [String: Any])?["state"] as? String ?? "")
        }
        return silences.sorted { left, right in
            let leftRank = left.state == "active" ? 0 : 1
            let rightRank = right.state == "active" ? 0 : 1
            if leftRank != rightRank { return leftRank < rightRank }
            return (left.endsAt ?? .distantPast) < (right.endsAt ?? .distantPast)
        }
    }

    /// Expires a silence.
    public func expireSilence(id: String) async throws {
        let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-"))
        guard !id.isEmpty, id.unicodeScalars.allSatisfy(allowed.contains) else {
            throw AlertmanagerError(reason: "'\(id)' is not a silence id")
        }
        _ = try await call(.DELETE, "/api/v2/silence/\(id)", body: nil)
    }

    private func call(_ method: HTTPMethod, _ path: String, body: Data?) async throws -> Any? {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = method
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        let response: PlatformClient.Response
        do {
            response = try await client.send(request, timeout: .seconds(10))
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            throw AlertmanagerError(reason: "cannot reach Alertmanager at \(baseURL): \(error)")
        }
        let text = String(decoding: response.body, as: UTF8.self)
        guard (200..<300).contains(response.status) else {
            throw AlertmanagerError(
                reason:
                    "Alertmanager answered \(response.status): \(text.trimmingCharacters(in: .whitespacesAndNewlines).prefix(300))"
            )
        }
        guard !text.isEmpty else { return nil }
        return try? JSONSerialization.jsonObject(with: Data(text.utf8))
    }
}

/// Alertmanager could not do what was asked.
public struct AlertmanagerError: Error, Sendable, CustomStringConvertible {
    public var reason: String
    public var description: String { reason }
}
