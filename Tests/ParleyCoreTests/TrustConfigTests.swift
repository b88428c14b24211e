import Foundation
import Testing

@testable import ParleyCore

@Suite struct TrustConfigTests {
    let loader: ConfigLoader

    init() throws {
        loader = ConfigLoader(
            builtins: [try declaration("help", "help [{command}]")], environment: ["TOKEN": "t0k3n"])
    }

    func issues(_ yaml: String) -> [ConfigIssue] {
        do {
            _ = try loader.load(yaml: yaml, file: "parley.yaml", baseDirectory: "/srv")
            return []
        } catch {
            return error.issues
        }
    }

    static let base = """
        users:
          alice: { roles: [sre], identities: ["local:alice"] }
          bob: { roles: [sre], identities: ["local:bob"] }
        roles:
          sre: { allow: ["*"] }

        """

    @Test func malformedConditionsAreReportedAtTheirColumn() {
        let found = issues(
            Self.base + """
                commands:
                  deploy:
                    usage: "deploy {env}"
                    action: { exec: ["true"] }
                    rules:
                      - when: 'env = "prod"'
                        require: { roles: [sre] }
                """)
        #expect(found.count == 1, "\(found)")
        #expect(found.first?.line == 11)
        #expect(found.first?.column == 20)
        #expect(found.first?.message.contains("use '==' to compare") == true)
    }

    @Test func conditionsMayOnlyUseArgumentsAndContext() {
        let found = issues(
            Self.base + """
                commands:
                  deploy:
                    usage: "deploy {env}"
                    action: { exec: ["true"] }
                    rules:
                      - when: 'evn == "prod"'
                        require: { roles: [sre] }
                """)
        #expect(found.first?.message == #"condition 'evn == "prod"' uses unknown name 'evn'; did you mean 'env'?"#)
    }

    @Test func rulesNamingUnknownRolesAreRejected() {
        let found = issues(
            Self.base + """
                commands:
                  deploy:
                    usage: "deploy {env}"
                    action: { exec: ["true"] }
                    rules:
                      - require: { roles: [sres], approvals: 1, approvers: [admins] }
                """)
        #expect(found.map(\.message).contains("a rule of 'deploy' names unknown role 'sres'"))
        #expect(found.map(\.message).contains("a rule of 'deploy' names unknown role 'admins'"))
    }

    @Test func approvalsWithoutEnoughEligibleApproversAreRejected() {
        let found = issues(
            Self.base + """
                commands:
                  deploy:
                    usage: "deploy {env}"
                    action: { exec: ["true"] }
                    rules:
                      - require: { approvals: 2, approvers: [sre] }
                """)
        #expect(found.count == 1, "\(found)")
        #expect(found.first?.line == 11)
        #expect(
            found.first?.message
                == "'deploy' needs 2 approvals from holders of sre, but only 2 users qualify and a requester cannot approve their own request"
        )
        #expect(
            issues(
                Self.base.replacingOccurrences(of: "bob: { roles: [sre]", with: "bob: { roles: [sre]") + """
                    commands:
                      deploy:
                        usage: "deploy {env}"
                        action: { exec: ["true"] }
                        rules:
                          - require: { approvals: 1, approvers: [sre] }
                    """
            ).isEmpty)
    }

    @Test func secretsMustExistAndStayOutOfArguments() {
        let found = issues(
            Self.base + """
                secrets:
                  present: env:TOKEN
                  missing: env:NOT_SET_ANYWHERE
                  unreadable: file:/nonexistent/parley-token
                  literal: hunter2
                commands:
                  deploy:
                    usage: "deploy {env}"
                    action:
                      exec: ["deploy", "--token={{secrets.present}}"]
                      env: { A: "{{secrets.present}}", B: "{{secrets.nope}}" }
                """)
        let messages = found.map(\.message)
        #expect(messages.contains("secret 'missing': environment variable NOT_SET_ANYWHERE is not set"))
        #expect(messages.contains("secret 'unreadable': cannot read /nonexistent/parley-token"))
        #expect(messages.contains("secret 'literal' must be env:NAME or file:PATH, not a value"))
        #expect(messages.contains { $0.hasPrefix("secrets may only reach a program through env") })
        #expect(messages.contains { $0.hasPrefix("'secrets.nope' is not a declared secret") })
        #expect(found.first { $0.message.contains("NOT_SET_ANYWHERE") }?.line == 8)
    }

    @Test func groupsBringRolesAndUnknownGroupsAreRejected() throws {
        let config = try loader.load(
            yaml: """
                users:
                  carol: { groups: [oncall], identities: ["local:carol"] }
                groups:
                  oncall: { roles: [sre] }
                roles:
                  sre: { allow: ["*"], deny: [help] }
                """, file: "parley.yaml", baseDirectory: "/srv")
        let directory = Directory(users: config.users, groups: config.groups)
        #expect(directory.principal(for: Identity("local:carol")!).roles == ["sre"])
        #expect(config.roles.first?.deny == ["help"])
        let found = issues("users:\n  dan: { groups: [oncal], identities: [\"local:dan\"] }\ngroups:\n  oncall: {}")
        #expect(found.first?.message == "user 'dan' is in unknown group 'oncal'; did you mean 'oncall'?")
    }

    @Test func ratesAndWindowsAreChecked() {
        let found = issues(
            Self.base + """
                commands:
                  deploy:
                    usage: "deploy {env}"
                    action: { exec: ["true"] }
                    rate: often
                    rules:
                      - hours: "Mon-Fri 9-5"
                      - hours: "Mon-Fri 09:00-17:00"
                        timezone: Mars/Olympus
                """)
        let messages = found.map(\.message)
        #expect(messages.contains("rate 'often' is not a rate; write 5/min, 100/hour or 2/10s"))
        #expect(messages.contains { $0.hasPrefix("hours 'Mon-Fri 9-5'") })
        #expect(messages.contains { $0.hasPrefix("unknown time zone 'Mars/Olympus'") })
    }
}
