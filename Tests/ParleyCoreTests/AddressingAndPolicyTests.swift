import Testing

@testable import ParleyCore

@Suite struct AddressingTests {
    let addressing = Addressing(prefix: "!", names: ["parley"])

    @Test(arguments: [
        ("!deploy api", "deploy api"),
        ("! deploy api", "deploy api"),
        ("@parley deploy api", "deploy api"),
        ("@Parley: deploy api", "deploy api"),
        ("parley: deploy api", "deploy api"),
        ("parley, deploy api", "deploy api"),
    ])
    func prefixesAndMentionsAddressParley(text: String, command: String) {
        #expect(addressing.commandText(in: text, isDirect: false) == command)
    }

    @Test(arguments: ["deploy api", "parleying about deploys", "hello @parley", "parley deploy"])
    func everythingElseInARoomIsIgnored(text: String) {
        #expect(addressing.commandText(in: text, isDirect: false) == nil)
    }

    @Test func aDirectConversationNeedsNoPrefix() {
        #expect(addressing.commandText(in: "  deploy api ", isDirect: true) == "deploy api")
        #expect(addressing.commandText(in: "!deploy api", isDirect: true) == "deploy api")
    }
}

@Suite struct PolicyTests {
    let policy = Policy(roles: [
        RoleGrant(name: "developer", allow: ["deploy", "logs*"]),
        RoleGrant(name: "sre", allow: ["*"]),
    ])
    let directory = Directory(users: [
        User(name: "bob", roles: ["developer"], identities: [Identity(platform: "slack", id: "U2")]),
        User(name: "ops", roles: ["sre"], identities: [Identity(platform: "local", id: "*")]),
        User(name: "carol", roles: [], identities: [Identity(platform: "local", id: "carol")]),
    ])

    func command(_ id: String) -> CommandDeclaration {
        CommandDeclaration(id: id, patterns: [try! UsagePattern(id)], help: "", action: .builtin(id))
    }

    @Test func nothingGrantedMeansDenied() {
        let carol = directory.principal(for: Identity(platform: "local", id: "carol"))
        #expect(carol.userName == "carol")
        #expect(
            policy.decide(carol, command: command("deploy"))
                == .denied(reason: "deploy needs role developer or sre; you have no roles", decidedBy: "no grant"))
    }

    @Test func rolesGrantCommandPatterns() {
        let bob = directory.principal(for: Identity(platform: "slack", id: "U2"))
        #expect(policy.decide(bob, command: command("deploy")).isAllowed)
        #expect(policy.decide(bob, command: command("logs-tail")).isAllowed)
        #expect(
            policy.decide(bob, command: command("scale"))
                == .denied(reason: "scale needs role sre; you have developer", decidedBy: "no grant"))
    }

    @Test func unmappedIdentitiesAreGuestsWithTheDefaultGuestGrant() {
        let stranger = directory.principal(for: Identity(platform: "slack", id: "U999"))
        #expect(stranger.isGuest)
        #expect(stranger.roles == ["guest"])
        #expect(policy.decide(stranger, command: command("help")).isAllowed)
        #expect(policy.decide(stranger, command: command("whoami")).isAllowed)
        #expect(!policy.decide(stranger, command: command("echo")).isAllowed)
    }

    @Test func anExactIdentityWinsOverAPlatformWildcard() {
        #expect(directory.principal(for: Identity(platform: "local", id: "carol")).userName == "carol")
        #expect(directory.principal(for: Identity(platform: "local", id: "root")).userName == "ops")
        #expect(directory.principal(for: Identity(platform: "irc", id: "root")).isGuest)
    }

    @Test func globsMatchWholeIds() {
        #expect(GlobPattern.matches(pattern: "deploy*", text: "deploy-status"))
        #expect(GlobPattern.matches(pattern: "*status", text: "deploy-status"))
        #expect(!GlobPattern.matches(pattern: "deploy", text: "deploy-status"))
        #expect(GlobPattern.matches(pattern: "a*b*c", text: "axxbyyc"))
        #expect(!GlobPattern.matches(pattern: "a*b*c", text: "axxbyy"))
        #expect(GlobPattern.matches(pattern: "alerts.*", text: "alerts.ack"))
    }

    @Test func aWordStarPatternCoversEveryCommandTypedWithThatWord() throws {
        let status = CommandDeclaration(
            id: "ds", patterns: [try UsagePattern("deploy status")], help: "", action: .builtin("ds"))
        #expect(Policy.matches(pattern: "deploy *", command: status))
        #expect(!Policy.matches(pattern: "deploy *", command: command("scale")))
    }

    @Test func identitiesParseAsPlatformColonId() {
        #expect(Identity("slack:U024BE7LH") == Identity(platform: "slack", id: "U024BE7LH"))
        #expect(Identity("matrix:@alice:example.org")?.id == "@alice:example.org")
        #expect(Identity("nocolon") == nil)
        #expect(Identity(":x") == nil)
        #expect(Identity("slack:") == nil)
    }
}
