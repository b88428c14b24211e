import FuzzSupport

@testable import ParleyCore

// Chat text addressed to Parley, tokenized and parsed against a small fixed catalogue; and the same
// bytes read as a `usage:` template. Tokens come from the text they cover; a parsed command binds only
// its own placeholders, with values their types accept; every failure has a message.

func declaration(_ id: String, _ usage: String) -> CommandDeclaration {
    CommandDeclaration(id: id, patterns: [try! UsagePattern(usage)], help: "", action: .builtin(id))
}

let catalogue = CommandCatalogue([
    declaration("deploy", "deploy {app:choice(api,web)} to {env:choice(staging,prod)} [--version {version}] [--force]"),
    declaration("deploy-status", "deploy status [{app:choice(api,web)} [{n:int(1..9)} [{d:duration}]]]"),
    declaration("logs", "logs tail {service} [{lines:int}] [--grep {pattern:regex([a-z]+)}]"),
    declaration("echo", "echo {message:text}"),
    declaration("scale", "scale {app} {replicas:int(0..50)} [--wait {timeout:duration}] [--dry-run]"),
])

func checkTokens(_ text: String) {
    guard let tokens = try? Tokenizer.tokenize(text) else { return }
    var end = text.startIndex
    for token in tokens {
        require(token.range.lowerBound >= end && token.range.upperBound <= text.endIndex, "token out of order")
        require(!token.range.isEmpty, "an empty token at \(token.range)")
        require(text[end..<token.range.lowerBound].allSatisfy(\.isWhitespace), "a token skips text: \(token)")
        let covered = text[token.range]
        if token.quoted {
            let scalars = Set(covered.unicodeScalars)
            require(token.value.unicodeScalars.allSatisfy(scalars.contains), "'\(token.value)' is not from the text")
        } else {
            require(token.value == String(covered), "unquoted '\(token.value)' is not the text '\(covered)'")
        }
        end = token.range.upperBound
    }
    require(text[end...].allSatisfy(\.isWhitespace), "the tokens leave text out")
}

func checkParse(_ text: String, in catalogue: CommandCatalogue) {
    switch catalogue.parse(text) {
    case .success(let parsed):
        let placeholders = parsed.command.patterns.flatMap(\.placeholders)
        for (name, value) in parsed.arguments {
            guard let placeholder = placeholders.first(where: { $0.name == name }) else {
                require(false, "'\(text)' binds \(name), which \(parsed.command.id) does not have")
                return
            }
            if case .success(let again) = placeholder.type.accept(value.text, name: name) {
                require(again.text == value.text, "'\(text)': \(name) = '\(value.text)' normalizes again")
            } else {
                require(false, "'\(text)': \(name) = '\(value.text)' is not a \(placeholder.type)")
            }
        }
        let options = Set(parsed.command.patterns.flatMap(\.options).map(\.name))
        require(parsed.flags.isSubset(of: options), "'\(text)' sets flags \(parsed.flags) it does not have")
    case .failure(let failure):
        require(!failure.message.isEmpty, "'\(text)' fails without a message")
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCommand(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let text = FuzzInput(data, size).text
    checkTokens(text)
    checkParse(text, in: catalogue)
    // The same bytes as a usage template; regexes are left out (their cost is the author's).
    if text.utf8.count <= 300, !text.contains("regex"), let pattern = try? UsagePattern(text) {
        require(!pattern.synopsis.isEmpty, "'\(text)' has an empty synopsis")
        let own = CommandCatalogue([CommandDeclaration(id: "x", patterns: [pattern], help: "", action: .builtin("x"))])
        checkParse(pattern.leadingWords.joined(separator: " "), in: own)
        checkParse(pattern.synopsis, in: own)
        checkParse(text, in: own)
    }
    return 0
}
