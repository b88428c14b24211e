import Foundation

/// An HTTP request a platform sent to one of an adapter's routes, exactly as it arrived: signatures
/// are computed over the raw body, so nothing here is decoded yet.
public struct PlatformRequest: Sendable {
    /// `GET`, `POST` …
    public var method: String
    /// The path, without the query.
    public var path: String
    /// The query string, without the `?`.
    public var query: String
    /// Header names in lower case; a repeated header keeps its last value.
    public var headers: [String: String]
    /// The raw body.
    public var body: [UInt8]
    /// When the server received it.
    public var receivedAt: Date

    /// Creates a request.
    public init(
        method: String, path: String, query: String = "", headers: [String: String], body: [UInt8],
        receivedAt: Date = Date()
    ) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = Dictionary(headers.map { ($0.key.lowercased(), $0.value) }) { _, last in last }
        self.body = body
        self.receivedAt = receivedAt
    }

    /// A header's value, by name in any case.
    public func header(_ name: String) -> String? { headers[name.lowercased()] }

    /// The body as UTF-8 text.
    public var text: String { String(decoding: body, as: UTF8.self) }
}

/// What an adapter answers a platform's request with.
public struct PlatformResponse: Sendable, Equatable {
    public var status: Int
    public var contentType: String
    public var body: [UInt8]

    /// Creates a response.
    public init(status: Int, contentType: String = "text/plain; charset=utf-8", body: [UInt8] = []) {
        self.status = status
        self.contentType = contentType
        self.body = body
    }

    /// An empty 200.
    public static let ok = PlatformResponse(status: 200)

    /// A plain-text response, as for errors: `PlatformResponse.text(401, "invalid signature")`.
    public static func text(_ status: Int, _ text: String) -> PlatformResponse {
        PlatformResponse(status: status, body: Array(text.utf8))
    }

    /// A JSON response from an encodable value.
    public static func json(_ value: some Encodable, status: Int = 200) -> PlatformResponse {
        let data = (try? JSONEncoder().encode(value)) ?? Data("{}".utf8)
        return PlatformResponse(status: status, contentType: "application/json", body: Array(data))
    }
}
