import Foundation
import Hummingbird
import NIOCore
import ParleyCore
import ParleyStore

/// An error answered as JSON: `{"error": "reason"}` with its status.
public struct APIError: HTTPResponseError {
    public let status: HTTPResponse.Status
    public let reason: String
    public var headers: HTTPFields = [:]

    public init(_ status: HTTPResponse.Status, _ reason: String) {
        self.status = status
        self.reason = reason
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        JSONBody.response(["error": reason], status: status, headers: headers)
    }
}

/// Turns every error — Hummingbird's own (404, 413 …) and Parley's — into a JSON answer with a
/// reason, and never lets an internal error's text reach the client.
struct JSONErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            return JSONBody.response(["error": error.reason], status: error.status, headers: error.headers)
        } catch let error as HTTPError {
            let reason: String
            switch error.status {
            case .notFound: reason = "no route \(request.method.rawValue) \(request.uri.path)"
            case .contentTooLarge: reason = "the request body is too large"
            case .methodNotAllowed: reason = "\(request.method.rawValue) is not allowed on \(request.uri.path)"
            default: reason = error.body ?? error.status.reasonPhrase
            }
            return JSONBody.response(["error": reason], status: error.status, headers: error.headers)
        } catch is NIOTooManyBytesError {
            return JSONBody.response(["error": "the request body is too large"], status: .contentTooLarge)
        } catch is CancellationError {
            throw CancellationError()
        } catch StoreError.timedOut(let seconds) {
            // Not the client's fault and not a bug here: the database is away; say so, and when to try again.
            context.logger.error("request failed: the database did not answer within \(seconds) s")
            return JSONBody.response(
                ["error": "the database did not answer within \(seconds) s; try again shortly"],
                status: .serviceUnavailable, headers: [.retryAfter: "5"])
        } catch {
            context.logger.error("request failed: \(error)")
            return JSONBody.response(["error": "internal error; see the server log"], status: .internalServerError)
        }
    }
}

/// JSON responses.
enum JSONBody {
    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }()

    static func response<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:])
        -> Response
    {
        var headers = headers
        headers[.contentType] = "application/json; charset=utf-8"
        let data = (try? encoder.encode(value)) ?? Data("{\"error\":\"cannot encode the response\"}".utf8)
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// A flat object of strings, written without a general encoder (webhook answers).
    static func response(_ fields: [String: String], status: HTTPResponse.Status = .ok) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json; charset=utf-8"
        return Response(
            status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: JSONText.object(fields))))
    }

    /// Decodes a JSON body collected with a size limit, with a reason a client can act on.
    static func decode<T: Decodable>(_ type: T.Type, from request: Request, limit: Int) async throws -> T {
        let buffer = try await request.body.collect(upTo: limit)
        let data = Data(buffer: buffer)
        do {
            return try JSONDecoder().decode(type, from: data)
        } catch let DecodingError.keyNotFound(key, _) {
            throw APIError(.badRequest, "the JSON body needs \"\(key.stringValue)\"")
        } catch let DecodingError.typeMismatch(_, context) {
            let path = context.codingPath.map(\.stringValue).joined(separator: ".")
            throw APIError(.badRequest, "\"\(path)\" has the wrong type: \(context.debugDescription)")
        } catch {
            throw APIError(.badRequest, "the body is not valid JSON: \(Self.describe(error))")
        }
    }

    private static func describe(_ error: any Error) -> String {
        if case DecodingError.dataCorrupted(let context) = error {
            return (context.underlyingError as NSError?)?.localizedDescription ?? context.debugDescription
        }
        return "\(error)"
    }
}
