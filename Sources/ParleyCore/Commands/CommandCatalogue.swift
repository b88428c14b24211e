/// Every command Parley knows, and the parser that turns chat text into one of them.
public struct CommandCatalogue: Sendable {
    /// The commands in declaration order (built-ins first).
    public let commands: [CommandDeclaration]
    private let byWord: [String: [(command: CommandDeclaration, pattern: UsagePattern)]]

    /// Creates a catalogue.
    public init(_ commands: [CommandDeclaration]) {
        self.commands = commands
        var byWord: [String: [(CommandDeclaration, UsagePattern)]] = [:]
        for command in commands {
            for pattern in command.patterns {
                guard let word = pattern.leadingWords.first else { continue }
                byWord[word, default: []].append((command, pattern))
            }
        }
        self.byWord = byWord
    }

    /// The command with this id.
    public func command(id: String) -> CommandDeclaration? {
        commands.first { $0.id == id }
    }

    /// Commands whose id or first word is `name`.
    public func commands(named name: String) -> [CommandDeclaration] {
        let name = name.lowercased()
        return commands.filter { command in
            command.id.lowercased() == name || command.patterns.contains { $0.leadingWords.first == name }
        }
    }

    /// Parses addressed chat text (prefix or mention already removed) into a command. A final
    /// `--dry-run` word asks for a description of what would happen instead of running it.
    public func parse(_ text: String) -> Result<ParsedCommand, ParseFailure> {
        let tokens: [Token]
        do {
            tokens = try Tokenizer.tokenize(text)
        } catch {
            return .failure(error)
        }
        // Tokens keep their ranges in `text`, so dropping a final `--dry-run` needs no second pass.
        if tokens.count > 1, let last = tokens.last, !last.quoted, last.value == "--dry-run",
            !(byWord[tokens[0].value.lowercased()]?.contains { $0.pattern.options.contains { $0.name == "dry-run" } }
                ?? false)
        {
            return parseCommand(Array(tokens.dropLast()), text: text).map { parsed in
                var copy = parsed
                copy.dryRun = true
                return copy
            }
        }
        return parseCommand(tokens, text: text)
    }

    private func parseCommand(_ tokens: [Token], text: String) -> Result<ParsedCommand, ParseFailure> {
        guard let first = tokens.first else { return .failure(.empty) }
        let word = first.value.lowercased()
        guard let candidates = byWord[word], !first.quoted else {
            return .failure(.unknownCommand(word: first.value, suggestions: suggestions(for: word)))
        }
        var best: (outcome: PatternMatcher.Outcome, command: CommandDeclaration)?
        for (command, pattern) in candidates {
            let outcome = PatternMatcher(pattern: pattern, tokens: tokens, text: text).match()
            if let current = best, !outcome.isBetter(than: current.outcome) { continue }
            best = (outcome, command)
        }
        guard let best else { return .failure(.unknownCommand(word: first.value, suggestions: [])) }
        let openQuote = tokens.firstIndex(where: \.unterminated)
        switch best.outcome {
        case .success(let state):
            if let openQuote, openQuote < (state.textStart ?? tokens.count) { return .failure(.unterminatedQuote) }
            return .success(ParsedCommand(command: best.command, arguments: state.arguments, flags: state.flags))
        case .failure(let problem, _):
            if openQuote != nil { return .failure(.unterminatedQuote) }
            return .failure(.mismatch(command: best.command.id, usage: best.command.usage, problem: problem))
        }
    }

    /// Up to three command words close to `word`, closest first.
    public func suggestions(for word: String) -> [String] {
        let words = Set(commands.map(\.word))
        let scored = words.compactMap { candidate -> (String, Int)? in
            if candidate.hasPrefix(word) || word.hasPrefix(candidate) { return (candidate, 0) }
            let distance = EditDistance.between(word, candidate)
            let allowed = max(1, min(word.count, candidate.count) / 3)
            return distance <= allowed ? (candidate, distance) : nil
        }
        return scored.sorted { ($0.1, $0.0) < ($1.1, $1.0) }.prefix(3).map(\.0)
    }
}

/// Levenshtein distance, for "did you mean" suggestions.
public enum EditDistance {
    /// The number of single-character edits that turn `a` into `b`.
    public static func between(_ a: String, _ b: String) -> Int {
        let a = Array(a.lowercased())
        let b = Array(b.lowercased())
        guard !a.isEmpty else { return b.count }
        guard !b.isEmpty else { return a.count }
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }
}
