import Foundation
import Testing

@testable import ParleyCore

@Suite struct ConfigLoaderTests {
    let loader: ConfigLoader

    init() throws {
        loader = ConfigLoader(
            builtins: [try declaration("help", "help [{command}]"), try declaration("ping", "ping")],
            environment: ["DEPLOY_HOST": "deploy.internal", "EMPTY": ""])
    }

    func load(_ yaml: String) throws(ConfigError) -> ParleyConfig {
        try loader.load(yaml: yaml, file: "parley.yaml", baseDirectory: "/srv/parley")
    }

    func issues(_ yaml: String) -> [ConfigIssue] {
        do {
            _ = try load(yaml)
            return []
        } catch {
            return error.issues
        }
    }

    static let valid = """
        data_dir: state
        prefix: "?"
        bot_name: [parley, pb]
        users:
          alice: { roles: [sre], identities: ["slack:U1", "local:alice"] }
        roles:
          sre: { allow: ["*"] }
        commands:
          deploy:
            usage: "deploy {app:choice(api,web)} to {env:choice(staging,prod)} [--version {version}]"
            aliases: [ship]
            help: Deploy an application
            examples: ["deploy api to staging"]
            action:
              exec: ["./scripts/deploy.sh", "{{app}}", "{{env}}", "--host=${DEPLOY_HOST}"]
              env: { REQUESTED_BY: "{{user}}" }
              workdir: ops
              timeout: 10m
              max_output: 64KiB
        """

    @Test func aValidFileLoadsEverything() throws {
        let config = try load(Self.valid)
        #expect(config.dataDirectory == "/srv/parley/state")
        #expect(config.addressing == Addressing(prefix: "?", names: ["parley", "pb"]))
        #expect(
            config.users == [
                User(name: "alice", roles: ["sre"], identities: [Identity("slack:U1")!, Identity("local:alice")!])
            ])
        let deploy = try #require(config.commands.first)
        #expect(
            deploy.patterns.map(\.source) == [
                "deploy {app:choice(api,web)} to {env:choice(staging,prod)} [--version {version}]",
                "ship {app:choice(api,web)} to {env:choice(staging,prod)} [--version {version}]",
            ])
        guard case .exec(let exec) = deploy.action else {
            Issue.record("deploy should be an exec action")
            return
        }
        #expect(exec.argv.map(\.source) == ["./scripts/deploy.sh", "{{app}}", "{{env}}", "--host=deploy.internal"])
        #expect(exec.workingDirectory == "/srv/parley/ops")
        #expect(exec.timeoutSeconds == 600)
        #expect(exec.maxOutputBytes == 65536)
    }

    @Test func aTypoedKeyAndABadRoleAreBothReportedWithTheirLines() {
        let found = issues(
            """
            users:
              bob: { roles: [developer], identities: ["local:bob"] }
            roles:
              developers: { allow: [help] }
            commands:
              deploy:
                usgae: "deploy {app}"
                action: { exec: ["true"] }
            """)
        #expect(found.map(\.line) == [2, 7])
        #expect(found[0].message == "user 'bob' has unknown role 'developer'; did you mean 'developers'?")
        #expect(
            found[1].description == "parley.yaml:7:5: unknown key 'usgae' in command 'deploy'; did you mean 'usage'?")
    }

    @Test(arguments: [
        ("datadir: x", 1, "unknown key 'datadir' in the configuration; did you mean 'data_dir'?"),
        ("commands: [a, b]", 1, "commands must be a mapping"),
        ("commands:\n  x:\n    usage: \"x {a:colour}\"\n    action: { exec: [\"true\"] }", 3, "bad type 'colour'"),
        (
            "commands:\n  x:\n    usage: x {a}\n    action: { exec: [\"echo\", \"{{b}}\"] }", 4,
            "uses 'b', which is not an argument"
        ),
        ("commands:\n  x:\n    usage: x {a}\n    action: { exec: [\"echo\", \"{{#a}}\"] }", 4, "is not valid mustache"),
        ("commands:\n  x:\n    usage: x\n    action: { exec: \"rm -rf /\" }", 4, "Parley never runs a shell"),
        (
            "commands:\n  x:\n    usage: x\n    action: { exec: [\"y\"], timeout: soon }", 4,
            "timeout 'soon' is not a duration"
        ),
        ("commands:\n  help:\n    usage: help me\n    action: { exec: [\"y\"] }", 2, "'help' is a built-in command"),
        (
            "commands:\n  x:\n    usage: x\n    action: { exec: [\"${NOPE}\"] }", 4,
            "environment variable NOPE is not set"
        ),
        ("roles:\n  r: { allow: [deplyo] }", 2, "matches no command"),
        ("users:\n  a: { identities: [alice] }", 2, "'alice' is not an identity"),
        (
            "users:\n  a: { identities: [\"irc:x\"] }\n  b: { identities: [\"irc:x\"] }", 3,
            "belongs to both 'a' and 'b'"
        ),
        ("commands:\n  x: { usage: \"x\", action: { exec: [\"y\"] }\n", 3, "YAML syntax"),
        ("limits: { reply_lines: 0 }", 1, "reply_lines must be positive"),
        (
            "server:\n  trusted_proxies:\n    - 10.0.0.0/8\n    - nginx.internal", 4,
            "'nginx.internal' is not an IP address or range"
        ),
        ("server: { trusted_proxies: [\"10.0.0.0/33\"] }", 1, "write 127.0.0.1 or 10.0.0.0/8"),
        // A reply-only command runs nothing, so it has no output to show.
        ("commands:\n  x:\n    usage: x {a}\n    reply: \"{{a}}: {{output}}\"", 4, "uses 'output'"),
        ("commands:\n  x:\n    usage: x", 3, "an action (action: { exec"),
    ])
    func problemsAreReportedWithLineAndReason(yaml: String, line: Int, message: String) {
        let found = issues(yaml)
        #expect(found.count == 1, "\(found)")
        #expect(found.first?.line == line, "\(found)")
        #expect(found.first?.message.contains(message) == true, "\(found)")
    }

    @Test func ambiguousUsagesAreRejected() {
        let found = issues(
            """
            commands:
              restart:
                usage: "restart {service}"
                action: { exec: ["true"] }
              reboot:
                usage: "restart {host:choice(db1,db2)}"
                action: { exec: ["true"] }
              restart-all:
                usage: "restart all"
                action: { exec: ["true"] }
            """)
        #expect(found.count == 1, "\(found)")
        #expect(found.first?.line == 6)
        #expect(found.first?.message.contains("ambiguous with 'restart'") == true)
        #expect(found.first?.message.contains("'restart db1' would match both") == true)
    }

    @Test func aCommandMayNotShadowABuiltInUsage() {
        let found = issues("commands:\n  pinger:\n    usage: ping\n    action: { exec: [\"true\"] }")
        #expect(found.first?.message.contains("ambiguous with 'ping'") == true)
    }

    @Test func defaultsAndEscapesInInterpolation() throws {
        let config = try load("data_dir: \"${EMPTY:-fallback}/$${HOME}\"")
        #expect(config.dataDirectory == "/srv/parley/fallback/${HOME}")
    }

    @Test func anEmptyFileIsTheDefaults() throws {
        let config = try load("")
        #expect(config.commands.isEmpty)
        #expect(config.dataDirectory == "/srv/parley/.parley")
    }

    @Test func theExampleConfigurationIsValid() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("examples/parley.yaml").path
        let loader = ConfigLoader(
            builtins: try [
                "help [{command}]", "ping", "echo {message:text}", "whoami", "version", "runs", "run {id:int}",
                "alerts [{matchers:text}]",
            ]
            .map { try declaration(String($0.split(separator: " ")[0]), $0) })
        let config = try loader.load(path: path)
        #expect(config.commands.map(\.id) == ["deploy", "status", "logs", "scale", "drain"])
    }
}

@Suite struct ExampleConfigTests {
    @Test(arguments: ["github-actions", "gitlab", "jenkins", "argocd", "prometheus"])
    func everyCICDExampleIsValid(name: String) throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("examples/cicd/\(name).yaml").path
        let environment = [
            "GITHUB_TOKEN": "t", "GITLAB_TRIGGER_TOKEN": "t", "JENKINS_BASIC_AUTH": "t", "ARGOCD_TOKEN": "t",
        ]
        let config = try ConfigLoader(builtins: [try declaration("help", "help")], environment: environment).load(
            path: path)
        #expect(!config.commands.isEmpty)
        for command in config.commands {
            guard case .http = command.action else {
                Issue.record("\(command.id) should be an http action")
                continue
            }
        }
    }

    @Test func httpActionsAreCheckedAtLoad() throws {
        let loader = ConfigLoader(builtins: [], environment: [:])
        func issues(_ action: String) -> [String] {
            do {
                _ = try loader.load(
                    yaml: "commands:\n  x:\n    usage: x\n    action: \(action)", file: "p.yaml", baseDirectory: "/")
                return []
            } catch {
                return error.issues.map(\.message)
            }
        }
        #expect(issues(#"{ http: { url: "ftp://x" } }"#).contains("url must start with http:// or https://"))
        #expect(issues(#"{ http: { url: "https://x", method: FETCH } }"#).first?.hasPrefix("method 'FETCH'") == true)
        #expect(
            issues(#"{ http: { url: "https://x", json: {a: 1}, form: {b: 2} } }"#).first?.hasPrefix(
                "an http action has one body") == true)
        #expect(
            issues(#"{ http: { url: "https://x", extract: { a: "no-slash" } } }"#).first?.contains(
                "is not a JSON pointer") == true)
        #expect(
            issues(#"{ exec: ["true"], http: { url: "https://x" } }"#).first?.contains("has both exec and http") == true
        )
        #expect(
            issues(#"{ http: { url: "https://x" }, workdir: /tmp }"#).first?.contains("belongs to exec actions") == true
        )
        #expect(issues(#"{ exec: ["true"], max_concurrent: 0 }"#).first == "max_concurrent must be at least 1")
    }
}
