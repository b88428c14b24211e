import Foundation
import Hummingbird

/// The console's own HTML, CSS and JavaScript, shipped inside the binary's resources: no CDN, no build step.
enum Assets {
    static let types = ["js": "text/javascript; charset=utf-8", "css": "text/css; charset=utf-8"]

    static func register(on router: Router<ParleyRequestContext>) {
        router.get("assets/{name}") { _, context in
            let name = context.parameters.get("name") ?? ""
            let ext = (name as NSString).pathExtension
            guard name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" }), let type = types[ext],
                let url = Bundle.module.url(forResource: (name as NSString).deletingPathExtension, withExtension: ext),
                let data = try? Data(contentsOf: url)
            else { throw APIError(.notFound, "no asset \(name)") }
            return Response(
                status: .ok, headers: [.contentType: type, .cacheControl: "no-cache"],
                body: .init(byteBuffer: ByteBuffer(bytes: data)))
        }
    }
}
