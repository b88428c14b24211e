import Foundation
import HTTPTypes
import Hummingbird
import ParleyCore
import ParleyEngine
import ParleyStore

/// Signing in and out of the web console.
struct LoginRoutes {
    let engine: Engine
    let store: any ParleyStorage
    let settings: ServerSettings
    let pages: PageTemplates
    /// Failed sign-ins, counted in the store across replicas.
    let throttle: LoginThrottle

    func register(on router: Router<ParleyRequestContext>) {
        router.get("login") { _, _ in loginPage(message: nil) }
        router.post("login") { request, context in
            // Behind a trusted proxy the client is who the proxy says (failed sign-ins count per address).
            let address = ClientAddress.resolve(
                peer: context.clientAddress, forwardedFor: request.headers[values: Self.forwardedFor],
                trusted: settings.trustedProxies)
            return try await login(request, from: address)
        }
        router.post("logout") { request, context in
            let form = try await HTMLForm.decode(HTMLForm.CSRFOnly.self, from: request, limit: settings.maxBodyBytes)
            guard let auth = context.auth, let hash = auth.sessionHash else { return HTML.redirect("/login") }
            try CSRF.check(form.csrf, against: auth)
            try await store.deleteSession(tokenHash: hash)
            var response = HTML.redirect("/login")
            response.setCookie(
                SessionCookie.cookie(SessionCookie.name, value: "", maxAge: 0, secure: settings.secureCookies))
            return response
        }
    }

    static let forwardedFor = HTTPField.Name("X-Forwarded-For")!

    /// What `login.mustache` shows.
    struct LoginContent {
        /// Why the last attempt failed, if it did.
        let notice: String?
        /// The double-submit token for the form's hidden field.
        let formToken: String
    }

    /// The sign-in form's fields; each may be missing (and is then refused like a wrong one).
    struct LoginForm: Decodable {
        let csrf: String?
        let username: String?
        let password: String?
    }

    /// The form, with a fresh double-submit token in a cookie and a hidden field.
    private func loginPage(message: String?, status: HTTPResponse.Status = .ok) -> Response {
        let token = Tokens.random(bytes: 16)
        let content = LoginContent(notice: message, formToken: token)
        var response = pages.response(.login, title: "Sign in", auth: nil, content: content, status: status)
        response.setCookie(
            SessionCookie.cookie(SessionCookie.loginCSRF, value: token, maxAge: 600, secure: settings.secureCookies))
        return response
    }

    private func login(_ request: Request, from address: String) async throws -> Response {
        let form = try await HTMLForm.decode(LoginForm.self, from: request, limit: settings.maxBodyBytes)
        let cookie = request.cookies[SessionCookie.loginCSRF]?.value
        guard let field = form.csrf, let cookie, !cookie.isEmpty,
            ConstantTime.equal(field, cookie)
        else {
            return loginPage(message: "The form expired or came from another site; sign in again.", status: .forbidden)
        }
        let name = (form.username ?? "").trimmingCharacters(in: .whitespaces)
        let password = form.password ?? ""
        if let wait = try await throttle.retryAfter(user: name, address: address) {
            var response = loginPage(
                message: "Too many failed sign-ins; try again in \(wait)s.", status: .tooManyRequests)
            response.headers[.retryAfter] = String(wait)
            return response
        }
        let known = engine.directory.users[name] != nil
        let stored = known ? try await store.passwordHash(userName: name) : nil
        // Unknown users cost the same as known ones, so timing does not reveal who exists.
        let valid = PasswordHasher.verify(password, against: stored ?? PasswordHasher.decoy)
        guard known, stored != nil, valid else {
            try await throttle.failed(user: name, address: address)
            try await engine.audit.append(
                AuditDraft(
                    kind: .denied, actor: known ? name : "guest", identity: "web:\(name)", room: "web",
                    command: "login", outcome: "bad credentials"))
            return loginPage(message: "Wrong user name or password.", status: .unauthorized)
        }
        try await throttle.succeeded(user: name, address: address)
        let token = Tokens.random()
        let session = SessionRecord(
            tokenHash: Tokens.hash(token), userName: name, csrfToken: Tokens.random(bytes: 16), createdAt: Date(),
            expiresAt: Date().addingTimeInterval(TimeInterval(settings.sessionSeconds)))
        try await store.insertSession(session)
        try await engine.audit.append(
            AuditDraft(
                kind: .received, actor: name, identity: "web:\(name)", room: "web", command: "login",
                outcome: "signed in"))
        var response = HTML.redirect("/")
        response.setCookie(
            SessionCookie.cookie(
                SessionCookie.name, value: token, maxAge: settings.sessionSeconds, secure: settings.secureCookies))
        return response
    }
}

/// CSRF checks for state-changing requests made with the session cookie.
enum CSRF {
    static func check(_ token: String?, against auth: Authenticated) throws {
        guard auth.method == .session else { return }
        guard let token, let expected = auth.csrfToken,
            ConstantTime.equal(token, expected)
        else {
            throw APIError(.forbidden, "missing or wrong CSRF token; reload the page and try again")
        }
    }
}

extension PasswordHasher {
    /// A real hash of nothing anyone knows, verified against when the user does not exist.
    static let decoy = (try? PasswordHasher.hash(Tokens.random())) ?? "scrypt$32768$8$1$AAAA$AAAA"
}
