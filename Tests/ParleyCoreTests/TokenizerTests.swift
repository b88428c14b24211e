import Testing

@testable import ParleyCore

@Suite struct TokenizerTests {
    func values(_ text: String) throws -> [String] {
        try Tokenizer.tokenize(text).map(\.value)
    }

    @Test func splitsOnWhitespaceOfAnyWidth() throws {
        #expect(try values("  deploy\tapi   to staging ") == ["deploy", "api", "to", "staging"])
    }

    @Test func quotedWordsStayTogetherWithoutTheirQuotes() throws {
        #expect(try values(#"echo "hello world" 'single quoted'"#) == ["echo", "hello world", "single quoted"])
    }

    @Test func typographicQuotesFromChatClientsAreQuotes() throws {
        #expect(try values("note \u{201C}smart quotes\u{201D} \u{2018}too\u{2019}") == ["note", "smart quotes", "too"])
    }

    @Test func backslashEscapesAQuoteInsideDoubleQuotes() throws {
        #expect(try values(#"say "a \"b\" c""#) == ["say", #"a "b" c"#])
    }

    @Test func quotesMayJoinPartsOfOneWord() throws {
        #expect(try values(#"--message="two words""#) == ["--message=two words"])
    }

    @Test func anUnclosedQuoteRunsToTheEndAndIsMarked() throws {
        let tokens = try Tokenizer.tokenize(#"echo "oops no end"#)
        #expect(tokens.map(\.value) == ["echo", "oops no end"])
        #expect(tokens.map(\.unterminated) == [false, true])
    }

    @Test func oversizedTextIsRefused() {
        let text = String(repeating: "a ", count: Tokenizer.maximumLength)
        #expect(throws: ParseFailure.tooLong(limit: Tokenizer.maximumLength)) { try Tokenizer.tokenize(text) }
    }

    @Test func tokensRememberWhereTheyStood() throws {
        let text = #"echo  "x y" z"#
        let tokens = try Tokenizer.tokenize(text)
        #expect(String(text[tokens[1].range]) == #""x y""#)
        #expect(tokens[1].quoted)
        #expect(!tokens[2].quoted)
    }
}
