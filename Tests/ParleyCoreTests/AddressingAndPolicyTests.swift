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

    @Test func nothingGrantedMeansDenied() {
        let carol = directory.principal(for: Identity(platform: "local", id: "carol"))
        #expect(carol.userName == "carol")
        #expect(
            policy.decide(carol, commandID: "deploy")
                == .denied(reason: "deploy needs role developer or sre; you have no roles"))
    }

    @Test func rolesGrantCommandPatterns() {
        let bob = directory.principal(for: Identity(platform: "slack", id: "U2"))
        #expect(policy.decide(bob, commandID: "deploy").isAllowed)
        #expect(policy.decide(bob, commandID: "logs-tail").isAllowed)
        #expect(policy.decide(bob, commandID: "scale") == .denied(reason: "scale needs role sre; you have developer"))
    }

    @Test func unmappedIdentitiesAreGuestsWithTheDefaultGuestGrant() {
        let stranger = directory.principal(for: Identity(platform: "slack", id: "U999"))
        #expect(stranger.isGuest)
        #expect(stranger.roles == ["guest"])
        #expect(policy.decide(stranger, commandID: "help").isAllowed)
        #expect(policy.decide(stranger, commandID: "whoami").isAllowed)
        #expect(!policy.decide(stranger, commandID: "echo").isAllowed)
    }

    @Test func anExactIdentityWinsOverAPlatformWildcard() {
        #expect(directory.principal(for: Identity(platform: "local", id: "carol")).userName == "carol")
        #expect(directory.principal(for: Identity(platform: "local", id: "root")).userName == "ops")
        #expect(directory.principal(for: Identity(platform: "irc", id: "root")).isGuest)
    }

    @Test func globsMatchWholeIds() {
        #expect(Policy.matches(pattern: "deploy*", commandID: "deploy-status"))
        #expect(Policy.matches(pattern: "*status", commandID: "deploy-status"))
        #expect(!Policy.matches(pattern: "deploy", commandID: "deploy-status"))
        #expect(Policy.matches(pattern: "a*b*c", commandID: "axxbyyc"))
        #expect(!Policy.matches(pattern: "a*b*c", commandID: "axxbyy"))
    }

    @Test func identitiesParseAsPlatformColonId() {
        #expect(Identity("slack:U024BE7LH") == Identity(platform: "slack", id: "U024BE7LH"))
        #expect(Identity("matrix:@alice:example.org")?.id == "@alice:example.org")
        #expect(Identity("nocolon") == nil)
        #expect(Identity(":x") == nil)
        #expect(Identity("slack:") == nil)
    }
}
