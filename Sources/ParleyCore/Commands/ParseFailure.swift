/// Why chat text did not become a command.
public enum ParseFailure: Error, Sendable, Equatable {
    /// Nothing but the address was typed.
    case empty
    /// The text is longer than Parley parses.
    case tooLong(limit: Int)
    /// A quote was opened and never closed.
    case unterminatedQuote
    /// The text holds a NUL or another control character that no program could receive intact.
    case controlCharacter
    /// No command starts with this word.
    case unknownCommand(word: String, suggestions: [String])
    /// The command was recognised but its arguments were not right.
    case mismatch(command: String, usage: String, problem: Mismatch)

    /// True when no command was recognised at all (as opposed to a known one used wrongly).
    public var isUnknownCommand: Bool {
        switch self {
        case .unknownCommand, .empty: return true
        default: return false
        }
    }

    /// The failure in words a person can act on.
    public var message: String {
        switch self {
        case .empty:
            return "say a command; try `help`"
        case .tooLong(let limit):
            return "that message is longer than the \(limit) bytes Parley accepts as a command"
        case .unterminatedQuote:
            return "a quote is never closed; close it or escape it"
        case .controlCharacter:
            return "the message contains a control character (such as NUL) that Parley will not pass to a program"
        case .unknownCommand(let word, let suggestions):
            let hint =
                suggestions.isEmpty
                ? "try `help` for the commands you can run"
                : "did you mean " + suggestions.map { "`\($0)`" }.joined(separator: " or ") + "?"
            return "unknown command '\(word)'; \(hint)"
        case .mismatch(_, let usage, let problem):
            return problem.message + "\nusage: " + usage
        }
    }
}

/// What was wrong with a recognised command's arguments.
public enum Mismatch: Sendable, Equatable {
    case missingWord(String)
    case missingArgument(Placeholder)
    case expectedWord(String, got: String)
    case invalid(ArgumentProblem)
    case unexpected(String)
    case unknownOption(String, known: [String])
    case optionNeedsValue(String)
    case flagTakesNoValue(String)
    case repeatedOption(String)
    case missingOption(String)

    /// The problem in a sentence.
    public var message: String {
        switch self {
        case .missingWord(let word): return "incomplete command; expected '\(word)' next"
        case .missingArgument(let placeholder):
            if case .choice(let choices) = placeholder.type {
                return "missing \(placeholder.name); expected \(ParameterType.list(choices))"
            }
            return "missing \(placeholder.name)"
        case .expectedWord(let word, let got): return "expected '\(word)' where you wrote '\(got)'"
        case .invalid(let problem): return problem.message
        case .unexpected(let word): return "unexpected '\(word)'"
        case .unknownOption(let name, let known):
            let takes =
                known.isEmpty
                ? "this command takes no options" : "it takes " + known.map { "--" + $0 }.joined(separator: ", ")
            return "unknown option '--\(name)'; \(takes)"
        case .optionNeedsValue(let name): return "--\(name) needs a value"
        case .flagTakesNoValue(let name): return "--\(name) is a flag and takes no value"
        case .repeatedOption(let name): return "--\(name) is given more than once"
        case .missingOption(let name): return "missing --\(name)"
        }
    }

    /// How telling the problem is, to choose between equally far attempts.
    var rank: Int {
        switch self {
        case .missingWord, .missingArgument, .missingOption: return 0
        case .expectedWord, .unexpected: return 1
        case .invalid, .unknownOption, .optionNeedsValue, .flagTakesNoValue, .repeatedOption: return 2
        }
    }
}
