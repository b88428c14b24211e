import Foundation
import Testing

@testable import ParleyCore

@Suite struct AdapterConfigTests {
    let loader = ConfigLoader(
        builtins: [],
        environment: ["SLACK_BOT_TOKEN": "xoxb-1-2-abc", "SLACK_SIGNING_SECRET": "f00d", "MM_TOKEN": "t0k"])

    func issues(_ yaml: String) -> [String] {
        do {
            _ = try loader.load(yaml: yaml, file: "parley.yaml", baseDirectory: "/srv/parley")
            return []
        } catch {
            return error.issues.map(\.description)
        }
    }

    @Test func everyPlatformReadsItsSettingsAndCredentials() throws {
        let config = try loader.load(
            yaml: """
                adapters:
                  web: {}
                  irc:
                    server: irc.example.net:6697
                    tls: true
                    tls_verify: false
                    sasl: { account: parley, password: env:SLACK_SIGNING_SECRET }
                    channels: ["#ops"]
                  slack:
                    signing_secret: env:SLACK_SIGNING_SECRET
                    bot_token: "${SLACK_BOT_TOKEN}"
                    slash_command: /ops
                  matrix:
                    homeserver: https://matrix.example.org/
                    user_id: "@parley:example.org"
                    password: env:MM_TOKEN
                    rooms: ["#ops:example.org", "!abc:example.org"]
                    invites: anyone
                  mattermost:
                    url: https://chat.example.org
                    bot_token: env:MM_TOKEN
                    verification_tokens: [env:SLACK_SIGNING_SECRET]
                """, file: "parley.yaml", baseDirectory: "/srv/parley")
        let irc = try #require(config.irc)
        #expect(irc.tls && !irc.tlsVerify && irc.port == 6697)
        #expect(irc.sasl?.account == "parley")
        let slack = try #require(config.slack)
        #expect(slack.botToken == .value("xoxb-1-2-abc"))
        #expect(slack.signingSecret == .reference(.environment("SLACK_SIGNING_SECRET")))
        #expect(slack.slashCommand == "/ops")
        let matrix = try #require(config.matrix)
        #expect(matrix.homeserver == "https://matrix.example.org")
        #expect(matrix.invites == .anyone)
        #expect(config.mattermost?.verificationTokens.count == 1)
        // Every credential is known, so that it can be masked; none shows in a description.
        let values = config.adapterSecrets.compactMap { try? $0.resolve(environment: loader.environment).get() }
        #expect(Set(values) == ["xoxb-1-2-abc", "f00d", "t0k"])
        #expect(!config.adapterSecrets.map(\.description).joined().contains("xoxb"))
    }

    @Test func eachPlatformSaysWhatItIsMissingWithTheLine() {
        let problems = issues(
            """
            adapters:
              slack:
                bot_tokn: x
              matrix:
                homeserver: matrix.example.org
                user_id: parley
              mattermost:
                url: https://chat.example.org
                bot_token: env:NOT_SET_ANYWHERE
              irc:
                server: irc.example.net
                tls: yes
              teams: {}
            """)
        let expected = [
            "parley.yaml:3:5: unknown key 'bot_tokn' in slack; did you mean 'bot_token'?",
            "parley.yaml:3:5: the slack adapter needs bot_token",
            "parley.yaml:5:17: homeserver 'matrix.example.org' must be an http(s) URL",
            "parley.yaml:6:14: user_id 'parley' must look like @parley:example.org",
            "parley.yaml:9:16: mattermost bot_token: environment variable NOT_SET_ANYWHERE is not set",
            "parley.yaml:8:5: the mattermost adapter needs verification_tokens",
            "parley.yaml:11:13: server 'irc.example.net' must be HOST:PORT",
            "parley.yaml:12:10: tls must be true or false, got 'yes'",
            "parley.yaml:13:3: unknown key 'teams' in adapters",
        ]
        for line in expected {
            #expect(
                problems.contains { $0.hasPrefix(line) }, "missing: \(line)\nin:\n\(problems.joined(separator: "\n"))")
        }
    }

    @Test func socketModeNeedsAnAppTokenAndHTTPModeASigningSecret() {
        let http = issues("adapters:\n  slack: { bot_token: xoxb-1 }")
        #expect(http.contains { $0.contains("needs signing_secret") })
        let socket = issues("adapters:\n  slack: { bot_token: xoxb-1, socket_mode: true }")
        #expect(socket.contains { $0.contains("socket_mode needs app_token") })
        #expect(!socket.contains { $0.contains("signing_secret") })
    }
}
