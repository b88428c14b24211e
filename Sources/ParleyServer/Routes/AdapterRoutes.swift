import Foundation
import Hummingbird
import NIOCore
import ParleyAdapters
import ParleyEngine

/// Mounts the routes of adapters that receive platform events over HTTP (Slack, Mattermost). Each
/// handler checks its own signatures or tokens; this only collects the raw body within the limit.
struct AdapterRoutes {
    let engine: Engine
    let adapters: [any ChatAdapter]
    let maxBodyBytes: Int

    func register(on router: Router<ParleyRequestContext>) {
        for case let adapter as any HTTPReceivingAdapter in adapters {
            for route in adapter.routes {
                let method = HTTPRequest.Method(route.method) ?? .post
                router.on(RouterPath(route.path), method: method) { request, _ -> Response in
                    let body: ByteBuffer
                    do {
                        body = try await request.body.collect(upTo: maxBodyBytes)
                    } catch {
                        return Self.response(.text(413, "the body is larger than \(maxBodyBytes) bytes"))
                    }
                    var headers: [String: String] = [:]
                    for field in request.headers { headers[field.name.canonicalName] = field.value }
                    let platformRequest = PlatformRequest(
                        method: route.method, path: request.uri.path, query: request.uri.query ?? "",
                        headers: headers, body: Array(buffer: body))
                    return Self.response(await route.handle(platformRequest, engine))
                }
            }
        }
    }

    static func response(_ answer: PlatformResponse) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = answer.contentType
        return Response(
            status: HTTPResponse.Status(code: answer.status), headers: headers,
            body: .init(byteBuffer: ByteBuffer(bytes: answer.body)))
    }
}
