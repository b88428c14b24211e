import Foundation
import Hummingbird
import NIOCore
import ParleyCore
import ParleyStore

/// Who a request is from, once a session cookie or an API token has been checked.
public struct Authenticated: Sendable {
    /// The Parley user.
    public var userName: String
    /// How they proved it.
    public var method: Method
    /// What an API token may do (a session may do everything its user may).
    public var scopes: Set<String>
    /// The session's CSRF token, which state-changing requests made with the cookie must carry.
    public var csrfToken: String?
    /// The session cookie's hash, for logging out.
    public var sessionHash: String?

    /// How the request was authenticated.
    public enum Method: Sendable {
        case session, token
    }

    /// True when a token has `scope` (or `*`); sessions have every scope.
    public func may(_ scope: String) -> Bool {
        method == .session || scopes.contains(scope) || scopes.contains("*")
    }
}

/// The per-request context: Hummingbird's core storage plus who is asking.
public struct ParleyRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    /// Set by `AuthenticationMiddleware` when the request carries a valid session or token.
    public var auth: Authenticated?
    /// The peer of the connection the request came on.
    public let remoteAddress: SocketAddress?

    public init(source: Source) {
        coreContext = .init(source: source)
        auth = nil
        remoteAddress = source.channel.remoteAddress
    }

    /// The client's IP address as text, for throttles ("unknown" when the connection has none).
    var clientAddress: String { remoteAddress?.ipAddress ?? "unknown" }

    /// Bodies are collected with the configured limit by each route; this caps anything else.
    public var maxUploadSize: Int { 1 << 20 }
}

/// Reads the session cookie or the bearer token and records who the request is from.
struct AuthenticationMiddleware: RouterMiddleware {
    typealias Context = ParleyRequestContext
    let store: any ParleyStorage
    /// Routes that authenticate their callers themselves (webhooks, platform events): their
    /// `Authorization` headers are not Parley's API tokens.
    var selfAuthenticating: [String] = []

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        let path = request.uri.path
        if selfAuthenticating.contains(where: { path.hasPrefix($0) }) { return try await next(request, context) }
        var context = context
        if let bearer = AuthorizationHeader.bearer(request.headers[.authorization]) {
            guard let token = try await APITokens.verify(bearer, store: store) else {
                throw APIError(.unauthorized, "the API token is unknown, malformed or revoked")
            }
            context.auth = Authenticated(
                userName: token.userName, method: .token, scopes: Set(token.scopes), csrfToken: nil, sessionHash: nil)
        } else if let cookie = request.cookies[SessionCookie.name]?.value {
            let hash = Tokens.hash(cookie)
            if let session = try await store.session(tokenHash: hash, now: Date()) {
                context.auth = Authenticated(
                    userName: session.userName, method: .session, scopes: [], csrfToken: session.csrfToken,
                    sessionHash: hash)
            }
        }
        return try await next(request, context)
    }
}

/// The cookies the web pages use: the session, and the sign-in form's double-submit token.
enum SessionCookie {
    static let name = "parley_session"
    static let loginCSRF = "parley_login"

    /// A cookie scripts cannot read (`HttpOnly`) that no other site's request carries (`SameSite=Strict`),
    /// for the whole site, sent only over HTTPS when `secure`; `maxAge` 0 removes it.
    static func cookie(_ name: String, value: String, maxAge: Int, secure: Bool) -> Cookie {
        Cookie(
            name: name, value: value, maxAge: maxAge, path: "/", secure: secure, httpOnly: true, sameSite: .strict)
    }
}
