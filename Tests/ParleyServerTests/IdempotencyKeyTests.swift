import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import ParleyStore
import Testing

/// `Idempotency-Key` on `POST /api/v1/messages`: a client may retry a command (another replica, a
/// dropped connection) and it runs once; a retry is told what became of the run.
@Suite struct IdempotencyKeyTests {
    static let key = HTTPField.Name("Idempotency-Key")!

    func post(_ client: some TestClientProtocol, token: String, key: String?, text: String) async throws
        -> TestResponse
    {
        var headers: HTTPFields = [.contentType: "application/json", .authorization: "Bearer \(token)"]
        if let key { headers[Self.key] = key }
        return try await client.execute(
            uri: "/api/v1/messages", method: .post, headers: headers, body: ByteBuffer(string: #"{"text": "\#(text)"}"#)
        )
    }

    func runs(_ fixture: ServerFixture) async throws -> [RunRecord] {
        try await fixture.store.runs(RunQuery(limit: 100, commandID: "deploy"))
    }

    @Test func aRetriedRequestRunsOnceAndIsToldWhatBecameOfItsRun() async throws {
        let fixture = try await ServerFixture(
            yaml: ServerFixture.yaml.replacingOccurrences(
                of: "\nroles:\n", with: "\n  carol: { roles: [ops], identities: [\"local:carol\"] }\nroles:\n"))
        let alice = try await fixture.token("alice", scopes: ["commands", "read"])
        let carol = try await fixture.token("carol", scopes: ["commands", "read"])
        try await fixture.server.application().test(.router) { client in
            let first = try await post(client, token: alice, key: "deploy-7f3a", text: "deploy api to staging")
            #expect(first.status == .ok)
            #expect(first.headers[HTTPField.Name("Idempotent-Replayed")!] == nil)
            let id = try #require(first.json["run_id"] as? Int)

            // The same key again, plain or as a structured-field string: the same run, not a new one.
            for form in ["deploy-7f3a", "\"deploy-7f3a\""] {
                let again = try await post(client, token: alice, key: form, text: "deploy api to staging")
                #expect(again.status == .ok, "\(again.text)")
                #expect(again.headers[HTTPField.Name("Idempotent-Replayed")!] == "true")
                #expect(again.json["run_id"] as? Int == id)
                #expect(again.json["outcome"] as? String == "succeeded")
                #expect(again.json["status"] as? String == "succeeded")
                #expect(
                    (again.json["text"] as? String)?.hasPrefix("already received as run #\(id) (succeeded)") == true)
                #expect((again.json["text"] as? String)?.contains("step 3 of api") == true)
            }
            #expect(try await runs(fixture).count == 1)

            // The same key for another command is a client's mistake, said so; nothing runs.
            let other = try await post(client, token: alice, key: "deploy-7f3a", text: "deploy web to staging")
            #expect(other.status == .unprocessableContent)
            #expect(
                other.json["error"] as? String
                    == "this Idempotency-Key was used for another command (run #\(id): 'deploy api to staging'); use a new key for a new request"
            )
            // Another user's key is theirs: carol's request with the same key runs.
            let carols = try await post(client, token: carol, key: "deploy-7f3a", text: "deploy api to staging")
            #expect(carols.status == .ok, "\(carols.text)")
            #expect(carols.json["run_id"] as? Int != id)
            #expect(try await runs(fixture).count == 2)
        }
    }

    @Test func aRetryWhileTheRunIsStillRunningIsAConflictAndRunsNothing() async throws {
        let fixture = try await ServerFixture()
        let alice = try await fixture.token("alice", scopes: ["commands", "read"])
        try await fixture.server.application().test(.router) { client in
            // Two copies of one request at once: one runs; the other, whenever it lands, runs nothing.
            async let first = post(client, token: alice, key: "twin", text: "deploy api to staging")
            async let second = post(client, token: alice, key: "twin", text: "deploy api to staging")
            let answers = try await [first, second]
            #expect(answers.allSatisfy { $0.status == .ok || $0.status == .conflict }, "\(answers.map(\.text))")
            for answer in answers where answer.status == .conflict {
                #expect(answer.headers[.retryAfter] == "1")
                #expect((answer.json["error"] as? String)?.contains("is still running as run #") == true)
            }
            #expect(try await runs(fixture).count == 1)
            #expect(try await runs(fixture).first?.status == .succeeded)
        }
    }

    @Test func malformedKeysAreRefusedWithWhatAKeyLooksLikeAndRunNothing() async throws {
        let fixture = try await ServerFixture()
        let alice = try await fixture.token("alice", scopes: ["commands", "read"])
        try await fixture.server.application().test(.router) { client in
            for key in ["", "two words", String(repeating: "k", count: 256), "caf\u{e9}", #"a"b"#] {
                let answer = try await post(client, token: alice, key: key, text: "deploy api to staging")
                #expect(answer.status == .badRequest, "\(key): \(answer.text)")
                #expect(
                    answer.json["error"] as? String
                        == "Idempotency-Key must be 1 to 255 visible ASCII characters without spaces or quotes inside, such as a UUID"
                )
            }
            let longest = try await post(
                client, token: alice, key: String(repeating: "k", count: 255), text: "deploy api to staging")
            #expect(longest.status == .ok)
            #expect(try await runs(fixture).count == 1)
        }
    }

    @Test func theKeyAndTheRunItMadeSurviveInTheStore() async throws {
        let fixture = try await ServerFixture()
        let alice = try await fixture.token("alice", scopes: ["commands"])
        try await fixture.server.application().test(.router) { client in
            let answer = try await post(client, token: alice, key: "kept", text: "deploy api to staging")
            let id = try #require(answer.json["run_id"] as? Int)
            let sighting = try #require(try await fixture.store.sighting(of: "api:alice:kept"))
            #expect(sighting.runID == Int64(id))
            #expect(try await fixture.store.sighting(of: "api:bob:kept") == nil)
        }
    }
}
