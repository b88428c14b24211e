import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import ParleyCore
import ParleyStore

/// Makes HTTP requests: rendered URL, headers and body; a timeout per attempt; retries with doubling
/// backoff on connection errors and 5xx, never on 4xx; fields of a JSON response extracted.
public struct HTTPExecutor: ActionExecutor {
    private let client: HTTPClient
    /// The most response body kept.
    static let maxBody = 1 << 20

    /// Creates an executor over an HTTP client (the shared one by default).
    public init(client: HTTPClient = .shared) {
        self.client = client
    }

    public func canRun(_ action: ActionSpec) -> Bool {
        if case .http = action { return true }
        return false
    }

    public func execute(_ action: ActionSpec, _ request: ActionRequest) async -> ActionResult {
        guard case .http(let spec) = action else {
            return ActionResult(status: .failed, message: "the http executor cannot run \(action)")
        }
        let prepared: HTTPClientRequest
        do {
            prepared = try Self.prepare(spec, context: request.templateContext)
        } catch {
            return ActionResult(status: .failed, message: "\(error)")
        }
        let attempts = spec.retries + 1
        var lastProblem = ""
        for attempt in 1...attempts {
            if attempt > 1 {
                try? await Task.sleep(for: DurationText.backoff(spec.backoffSeconds, attempt: attempt))
                if Task.isCancelled { break }
            }
            do {
                let response = try await client.execute(prepared, timeout: .seconds(Int64(spec.timeoutSeconds)))
                let body = try await response.body.collect(upTo: Self.maxBody)
                let status = Int(response.status.code)
                if status >= 500 && attempt < attempts {
                    lastProblem = "HTTP \(status)"
                    continue
                }
                return Self.result(spec, status: status, body: String(buffer: body), attempts: attempt)
            } catch {
                lastProblem = "\(error)"
            }
        }
        return ActionResult(
            status: .failed,
            message:
                "\(prepared.method.rawValue) \(Self.redactedURL(prepared.url)) failed after \(attempts) attempt\(attempts == 1 ? "" : "s"): \(lastProblem)"
        )
    }

    struct RequestProblem: Error, CustomStringConvertible {
        let description: String
    }

    /// The request with every template rendered.
    static func prepare(_ spec: HTTPSpec, context: [String: Any]) throws -> HTTPClientRequest {
        // Values are percent-encoded into the URL: an argument is one path segment or query value,
        // never `../`, `?admin=1` or another host.
        let url = spec.url.render(context.mapValues(percentEncoded))
        guard let parsed = URL(string: url), let scheme = parsed.scheme, ["http", "https"].contains(scheme),
            parsed.host != nil
        else { throw RequestProblem(description: "the url rendered to '\(url)', which is not an http(s) URL") }
        var request = HTTPClientRequest(url: url)
        request.method = HTTPMethod(rawValue: spec.method)
        for (name, template) in spec.headers.sorted(by: { $0.key < $1.key }) {
            let value = template.render(context)
            // Scalars, not Characters: "\r\n" is one Character and would slip past a Character test.
            guard !value.unicodeScalars.contains(where: { $0 == "\r" || $0 == "\n" || $0 == "\u{0}" }) else {
                throw RequestProblem(description: "header \(name) would contain a line break; refusing to send it")
            }
            request.headers.add(name: name, value: value)
        }
        switch spec.body {
        case .json(let template):
            let data = try JSONSerialization.data(withJSONObject: template.render(context), options: [.sortedKeys])
            if !request.headers.contains(name: "Content-Type") {
                request.headers.add(name: "Content-Type", value: "application/json")
            }
            request.body = .bytes(ByteBuffer(bytes: data))
        case .form(let fields):
            var allowed = CharacterSet.alphanumerics
            allowed.insert(charactersIn: "-._~")
            let text = fields.map { name, template in
                let value = template.render(context).addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
                return (name.addingPercentEncoding(withAllowedCharacters: allowed) ?? name) + "=" + value
            }.joined(separator: "&")
            if !request.headers.contains(name: "Content-Type") {
                request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
            }
            request.body = .bytes(ByteBuffer(string: text))
        case .text(let template):
            request.body = .bytes(ByteBuffer(string: template.render(context)))
        case nil:
            break
        }
        return request
    }

    static let unreserved: CharacterSet = {
        var set = CharacterSet.alphanumerics.intersection(
            CharacterSet(charactersIn: Unicode.Scalar(0)..<Unicode.Scalar(128)))
        set.insert(charactersIn: "-._~")
        return set
    }()

    /// Every text value of a template context, percent-encoded (RFC 3986 unreserved characters kept).
    static func percentEncoded(_ value: Any) -> Any {
        switch value {
        case let text as String: return text.addingPercentEncoding(withAllowedCharacters: unreserved) ?? ""
        case let dictionary as [String: Any]: return dictionary.mapValues(percentEncoded)
        case let dictionary as [String: String]: return dictionary.mapValues(percentEncoded)
        case let array as [Any]: return array.map(percentEncoded)
        default: return value
        }
    }

    static func result(_ spec: HTTPSpec, status: Int, body: String, attempts: Int) -> ActionResult {
        let ok = spec.expect?.contains(status) ?? (200..<300).contains(status)
        let document = try? JSONSerialization.jsonObject(with: Data(body.utf8), options: [.fragmentsAllowed])
        var outputs = ["status": String(status)]
        var missing: [String] = []
        for (name, pointer) in spec.extract {
            if let document, let value = JSONPointer.resolve(pointer, in: document) {
                outputs[name] = JSONPointer.text(value)
            } else {
                missing.append("\(name) (\(pointer))")
            }
        }
        var result = ActionResult(
            status: ok ? .succeeded : .failed, output: body,
            message: ok
                ? nil
                : "HTTP \(status) (expected \(spec.expect.map { $0.map(String.init).joined(separator: ", ") } ?? "2xx"))"
        )
        if ok, !missing.isEmpty {
            result.status = .failed
            result.message = "the response has no " + missing.sorted().joined(separator: ", ")
        }
        result.outputs = outputs
        if let table = spec.table, let document, let rows = JSONPointer.resolve(table.rows, in: document) as? [Any] {
            result.table = (
                table.columns.map(\.name),
                rows.map { row in
                    table.columns.map { JSONPointer.resolve($0.pointer, in: row).map(JSONPointer.text) ?? "" }
                }
            )
        }
        return result
    }

    /// The URL without its query string, which may carry credentials.
    static func redactedURL(_ url: String) -> String {
        url.split(separator: "?", maxSplits: 1).first.map(String.init) ?? url
    }
}
