import Foundation
import Hummingbird

/// Where a browser says a request comes from (`Origin`), compared with this server, for cross-site
/// request forgery and WebSocket hijacking protection. It fails closed: `Origin: null` (sandboxed
/// frames, file pages, some redirects), an unparseable value or an http(s) origin of another host
/// counts as another site.
enum OriginCheck {
    /// What the request's `Origin` says.
    enum Verdict: Equatable {
        /// No `Origin` header: not a browser's cross-site request (curl, a script, an old browser's
        /// same-site GET).
        case absent
        /// This server: its own `Host`, or `server.public_url`.
        case sameOrigin
        /// Anything else, with the value for the error message.
        case foreign(String)
    }

    /// Compares every `Origin` header with the request's own authority and the public URL.
    static func verdict(_ request: Request, publicURL: String? = nil) -> Verdict {
        let origins = request.headers[values: .origin]
        guard !origins.isEmpty else { return .absent }
        var allowed = Set<String>()
        for scheme in ["http", "https"] {
            if let authority = request.head.authority, let own = normalized("\(scheme)://\(authority)") {
                allowed.insert(own)
            }
        }
        if let publicURL, let own = normalized(publicURL) { allowed.insert(own) }
        for origin in origins {
            // Browsers send only http(s) origins or `null`; a client that names another scheme
            // (`ws://…`, a desktop app's) is not a page in a browser, and still needs its session.
            if let scheme = URL(string: origin)?.scheme?.lowercased(), scheme != "http", scheme != "https",
                origin.contains("://")
            {
                continue
            }
            guard let given = normalized(origin), allowed.contains(given) else {
                return .foreign(String(origin.prefix(100)))
            }
        }
        return .sameOrigin
    }

    /// `scheme://host[:port]` in lower case without a default port, or nil when `text` is not an
    /// http(s) origin.
    static func normalized(_ text: String) -> String? {
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
            let host = url.host?.lowercased(), !host.isEmpty, url.user == nil, url.password == nil
        else { return nil }
        let path = url.path
        guard path.isEmpty || path == "/" else { return nil }
        let defaultPort = scheme == "http" ? 80 : 443
        let hostText = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
        if let port = url.port, port != defaultPort { return "\(scheme)://\(hostText):\(port)" }
        return "\(scheme)://\(hostText)"
    }
}
