import Testing

@testable import ParleyCore

func declaration(_ id: String, _ usage: String, aliases: [String] = []) throws -> CommandDeclaration {
    CommandDeclaration(
        id: id, patterns: try ([usage] + aliases).map { try UsagePattern($0) }, help: "",
        action: .builtin(id))
}

@Suite struct CommandParserTests {
    let catalogue: CommandCatalogue

    init() throws {
        catalogue = CommandCatalogue([
            try declaration(
                "deploy",
                "deploy {app:choice(api,web)} to {env:choice(staging,prod)} [--version {version}] [--force]",
                aliases: ["ship {app:choice(api,web)} to {env:choice(staging,prod)} [--version {version}] [--force]"]),
            try declaration("deploy-status", "deploy status [{app:choice(api,web)}]"),
            try declaration("logs", "logs tail {service} [{lines:int(1..500)}] [--since {since:duration}]"),
            try declaration("echo", "echo {message:text}"),
            try declaration("tag", "tag {sha:regex([0-9a-f]{7,40})}"),
            try declaration("help", "help [{command}]"),
        ])
    }

    func parsed(_ text: String) throws -> ParsedCommand {
        try catalogue.parse(text).get()
    }

    func failure(_ text: String) -> ParseFailure? {
        if case .failure(let failure) = catalogue.parse(text) { return failure }
        return nil
    }

    @Test func parsesTypedPlaceholders() throws {
        let command = try parsed("deploy api to staging")
        #expect(command.command.id == "deploy")
        #expect(command.arguments == ["app": ArgumentValue(text: "api"), "env": ArgumentValue(text: "staging")])
        #expect(command.flags.isEmpty)
    }

    @Test func literalWordsAndChoicesMatchCaseInsensitively() throws {
        let command = try parsed("DEPLOY Api TO Prod")
        #expect(command.arguments["app"]?.text == "api")
        #expect(command.arguments["env"]?.text == "prod")
    }

    @Test func optionsTakeValuesSpacedOrWithEqualsAnywhereAfterTheCommand() throws {
        #expect(try parsed("deploy api to prod --version 1.4.2").arguments["version"]?.text == "1.4.2")
        #expect(try parsed("deploy api to prod --version=1.4.2").arguments["version"]?.text == "1.4.2")
        #expect(try parsed("deploy --version 2 api to prod --force").arguments["version"]?.text == "2")
        #expect(try parsed("deploy api to prod --force").flags == ["force"])
    }

    @Test func severalCommandsShareAFirstWord() throws {
        #expect(try parsed("deploy status").command.id == "deploy-status")
        #expect(try parsed("deploy status web").arguments["app"]?.text == "web")
        #expect(try parsed("deploy web to prod").command.id == "deploy")
    }

    @Test func aliasesParseToTheSameCommand() throws {
        let command = try parsed("ship web to prod")
        #expect(command.command.id == "deploy")
        #expect(command.arguments["env"]?.text == "prod")
    }

    @Test func optionalSegmentsMayBeLeftOut() throws {
        #expect(try parsed("logs tail api").arguments["lines"] == nil)
        #expect(try parsed("logs tail api 50").arguments["lines"] == ArgumentValue(text: "50", number: 50))
        #expect(try parsed("logs tail api --since 1h30m").arguments["since"]?.number == 5400)
    }

    @Test func textTakesTheRestOfTheLineVerbatim() throws {
        let command = try parsed(#"echo  it's "quoted" --not-an-option   $(rm -rf /) ; done"#)
        #expect(command.arguments["message"]?.text == #"it's "quoted" --not-an-option   $(rm -rf /) ; done"#)
    }

    @Test func regexMustMatchTheWholeWord() throws {
        #expect(try parsed("tag abc1234").arguments["sha"]?.text == "abc1234")
        #expect(failure("tag abc1234; rm -rf /")?.message.hasPrefix("invalid sha 'abc1234;'") == true)
        #expect(failure("tag xyz")?.message.contains("invalid sha 'xyz'; expected a value matching") == true)
    }

    @Test func aWrongChoiceNamesTheArgumentTheValueAndTheChoices() {
        let message = failure("deploy api to moon")?.message ?? ""
        #expect(message.hasPrefix("unknown env 'moon'; expected staging or prod"))
        #expect(message.contains("usage: deploy <app> to <env> [--version <version>] [--force]"))
    }

    @Test func outOfRangeNumbersSayTheRange() {
        #expect(
            failure("logs tail api 9000")?.message.hasPrefix(
                "invalid lines '9000'; expected a whole number from 1 to 500") == true)
    }

    @Test func missingArgumentsAreNamed() {
        #expect(failure("deploy api to")?.message.hasPrefix("missing env; expected staging or prod") == true)
        #expect(failure("deploy api")?.message.hasPrefix("incomplete command; expected 'to' next") == true)
        #expect(failure("deploy api to prod --version")?.message.hasPrefix("--version needs a value") == true)
    }

    @Test func unknownOptionsListTheKnownOnes() {
        #expect(
            failure("deploy api to prod --verison 2")?.message.hasPrefix(
                "unknown option '--verison'; it takes --version, --force") == true)
        #expect(failure("deploy api to prod --force=yes")?.message.hasPrefix("--force is a flag") == true)
        #expect(
            failure("deploy api to prod --force --force")?.message.hasPrefix("--force is given more than once") == true)
    }

    @Test func unknownCommandsSuggestTheClosest() {
        #expect(failure("deplyo api to prod") == .unknownCommand(word: "deplyo", suggestions: ["deploy"]))
        #expect(failure("deplyo api")?.message == "unknown command 'deplyo'; did you mean `deploy`?")
        #expect(failure("launch the rockets")?.message.contains("try `help`") == true)
    }

    @Test func apostrophesInWordsAreNotQuotes() throws {
        #expect(try parsed("echo it's fine, don't worry").arguments["message"]?.text == "it's fine, don't worry")
        #expect(try parsed("logs tail o'brien").arguments["service"]?.text == "o'brien")
    }

    @Test func anOpenQuoteIsFineInTextButNotElsewhere() throws {
        #expect(try parsed(#"echo "unbalanced"#).arguments["message"]?.text == #""unbalanced"#)
        #expect(failure(#"logs tail "api"#) == .unterminatedQuote)
        #expect(failure(#"deploy "api to prod"#)?.message == "a quote is never closed; close it or escape it")
    }

    @Test func aFinalDryRunWordIsNotPartOfTheText() throws {
        let command = try parsed("echo it's fine --dry-run")
        #expect(command.dryRun)
        #expect(command.arguments["message"]?.text == "it's fine")
        #expect(try !parsed("echo --dry-run is a word here too").dryRun)
    }

    @Test func emptyTextAsksForACommand() {
        #expect(failure("   ") == .empty)
    }

    @Test func aQuotedFirstWordIsNeverACommand() {
        #expect(failure(#""deploy" api to prod"#) != nil)
    }
}
