import Foundation
import Hummingbird
import HummingbirdTesting
import ParleyCore
import ParleyEngine
import ParleyServer
import ParleyStore

func temporaryDirectory() -> String {
    let path = NSTemporaryDirectory() + "parley-server-" + UUID().uuidString
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// A real engine, store and server over a temporary directory, with alice (ops) and bob (viewer).
struct ServerFixture {
    let engine: Engine
    let store: SQLiteStore
    let server: ParleyHTTPServer
    let directory: String

    static let yaml = """
        server: { listen: "127.0.0.1:0", max_body: 4KiB }
        users:
          alice: { roles: [ops], identities: ["local:alice"] }
          bob: { roles: [viewer], identities: ["local:bob"] }
        roles:
          ops: { allow: ["*"] }
          viewer: { allow: [help, ping, runs] }
        commands:
          deploy:
            usage: "deploy {app:choice(api,web)} to {env:choice(staging,prod)}"
            action: { exec: ["sh", "-c", "for i in 1 2 3; do echo step $i of {{app}}; sleep 0.3; done; echo done"] }
            rules:
              - when: 'env == "prod"'
                require: { approvals: 1, approvers: [viewer] }
        """

    init(yaml: String = ServerFixture.yaml) async throws {
        directory = temporaryDirectory()
        let config = try ConfigLoader(builtins: Builtins.declarations).load(
            yaml: yaml, file: "test.yaml", baseDirectory: directory)
        store = try SQLiteStore(dataDirectory: config.dataDirectory)
        engine = Engine(config: config, store: store)
        _ = try await engine.start()
        server = ParleyHTTPServer(engine: engine, store: store)
        try await store.setPasswordHash(try PasswordHasher.hash("correct horse battery"), userName: "alice")
        try await store.setPasswordHash(try PasswordHasher.hash("bob's long password"), userName: "bob")
    }

    func token(_ user: String, scopes: [String]) async throws -> String {
        try await APITokens.create(user: user, scopes: scopes, name: "test", store: store).token
    }
}

extension TestResponse {
    var text: String { String(buffer: body) }
    var json: [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
    }
}

extension TestClientProtocol {
    /// Signs in through the login form, as a browser would; returns the session cookie and CSRF token.
    func signIn(_ user: String, _ password: String) async throws -> (cookie: String, csrf: String)? {
        let form = try await execute(uri: "/login", method: .get)
        guard let loginCookie = form.headers[.setCookie]?.split(separator: ";").first.map(String.init),
            let field = form.text.range(of: #"name="csrf" value="([^"]+)""#, options: .regularExpression)
        else { return nil }
        let csrf = form.text[field].split(separator: "\"")[3]
        let body =
            "csrf=\(csrf)&username=\(user)&password=\(password.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")"
        let response = try await execute(
            uri: "/login", method: .post,
            headers: [.cookie: loginCookie, .contentType: "application/x-www-form-urlencoded"],
            body: ByteBuffer(string: body))
        guard response.status == .seeOther, let cookie = response.headers[.setCookie]?.split(separator: ";").first
        else { return nil }
        let page = try await execute(uri: "/", method: .get, headers: [.cookie: String(cookie)])
        guard let meta = page.text.range(of: #"<meta name="csrf" content="([^"]+)""#, options: .regularExpression)
        else {
            return nil
        }
        return (String(cookie), String(page.text[meta].split(separator: "\"")[3]))
    }
}
