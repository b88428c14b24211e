/// Matches tokens against one usage pattern, trying each way of filling its optional parts.
struct PatternMatcher {
    let pattern: UsagePattern
    let tokens: [Token]
    let text: String

    struct State {
        var index = 0
        var arguments: [String: ArgumentValue] = [:]
        var flags: Set<String> = []
        var literals = 0
        /// Where a `text` argument began taking the rest of the line.
        var textStart: Int?
    }

    enum Outcome {
        case success(State)
        case failure(Mismatch, progress: Int)

        /// The better of two outcomes: a match over a miss, the more specific match, the further miss.
        /// Ties keep `self`, so earlier declarations win.
        func better(_ other: Outcome) -> Outcome {
            other.isBetter(than: self) ? other : self
        }

        func isBetter(than other: Outcome) -> Bool {
            switch (self, other) {
            case (.success(let mine), .success(let theirs)):
                if mine.literals != theirs.literals { return mine.literals > theirs.literals }
                return mine.arguments.count > theirs.arguments.count
            case (.success, .failure): return true
            case (.failure, .success): return false
            case (.failure(let mine, let myProgress), .failure(let theirs, let theirProgress)):
                if myProgress != theirProgress { return myProgress > theirProgress }
                return mine.rank > theirs.rank
            }
        }
    }

    func match() -> Outcome {
        sequence(pattern.elements[...], State()) { finish($0) }
    }

    private func sequence(
        _ elements: ArraySlice<UsageElement>, _ state: State, then next: (State) -> Outcome
    ) -> Outcome {
        var state = state
        if let failure = consumeOptions(&state) { return failure }
        guard let element = elements.first else { return next(state) }
        let rest = elements.dropFirst()
        switch element {
        case .literal(let word):
            guard state.index < tokens.count else { return .failure(.missingWord(word), progress: state.index) }
            let token = tokens[state.index]
            guard token.value.caseInsensitiveCompare(word) == .orderedSame else {
                return .failure(.expectedWord(word, got: token.value), progress: state.index)
            }
            state.index += 1
            state.literals += 1
            return sequence(rest, state, then: next)
        case .placeholder(let placeholder):
            guard state.index < tokens.count else {
                return .failure(.missingArgument(placeholder), progress: state.index)
            }
            if placeholder.type == .text {
                let rest = text[tokens[state.index].range.lowerBound..<tokens[tokens.count - 1].range.upperBound]
                state.arguments[placeholder.name] = ArgumentValue(text: String(rest).trimmingTrailingWhitespace())
                state.textStart = state.index
                state.index = tokens.count
            } else {
                switch placeholder.type.accept(tokens[state.index].value, name: placeholder.name) {
                case .success(let value): state.arguments[placeholder.name] = value
                case .failure(let problem): return .failure(.invalid(problem), progress: state.index)
                }
                state.index += 1
            }
            return sequence(rest, state, then: next)
        case .optional(let inner):
            let taken = sequence(inner[...], state) { sequence(rest, $0, then: next) }
            let skipped = sequence(rest, state, then: next)
            return taken.better(skipped)
        }
    }

    private func finish(_ state: State) -> Outcome {
        var state = state
        if let failure = consumeOptions(&state) { return failure }
        if state.index < tokens.count {
            return .failure(.unexpected(tokens[state.index].value), progress: state.index)
        }
        for option in pattern.options where option.required {
            if state.arguments[option.name] == nil && !state.flags.contains(option.name) {
                return .failure(.missingOption(option.name), progress: state.index)
            }
        }
        return .success(state)
    }

    /// Takes `--flag`, `--key value` and `--key=value` at the current position.
    private func consumeOptions(_ state: inout State) -> Outcome? {
        guard !pattern.options.isEmpty else { return nil }
        while state.index < tokens.count {
            let token = tokens[state.index]
            guard !token.quoted, token.value.hasPrefix("--"), token.value.count > 2 else { return nil }
            let body = token.value.dropFirst(2)
            let name: String
            var attached: String?
            if let equals = body.firstIndex(of: "=") {
                name = String(body[..<equals])
                attached = String(body[body.index(after: equals)...])
            } else {
                name = String(body)
            }
            guard let option = pattern.options.first(where: { $0.name.caseInsensitiveCompare(name) == .orderedSame })
            else {
                return .failure(.unknownOption(name, known: pattern.options.map(\.name)), progress: state.index)
            }
            if state.flags.contains(option.name) || state.arguments[option.name] != nil {
                return .failure(.repeatedOption(option.name), progress: state.index)
            }
            guard let placeholder = option.value else {
                if attached != nil { return .failure(.flagTakesNoValue(option.name), progress: state.index) }
                state.flags.insert(option.name)
                state.index += 1
                continue
            }
            let given: String
            if let attached {
                given = attached
                state.index += 1
            } else {
                guard state.index + 1 < tokens.count else {
                    return .failure(.optionNeedsValue(option.name), progress: state.index)
                }
                given = tokens[state.index + 1].value
                state.index += 2
            }
            switch placeholder.type.accept(given, name: placeholder.name) {
            case .success(let value): state.arguments[placeholder.name] = value
            case .failure(let problem): return .failure(.invalid(problem), progress: state.index - 1)
            }
        }
        return nil
    }
}

extension String {
    func trimmingTrailingWhitespace() -> String {
        var result = self
        while let last = result.last, last.isWhitespace { result.removeLast() }
        return result
    }
}
