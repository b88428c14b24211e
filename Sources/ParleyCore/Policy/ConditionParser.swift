/// A word of the condition language.
struct ConditionToken: Equatable {
    enum Kind: Equatable {
        case name, string, number, symbol
    }

    let kind: Kind
    let text: String
    let column: Int
}

/// Splits a condition into tokens.
enum ConditionLexer {
    static let symbols = ["==", "!=", "<=", ">=", "&&", "||", "<", ">", "!", "(", ")", "[", "]", ","]

    static func tokens(_ source: String) throws(ConditionError) -> [ConditionToken] {
        let characters = Array(source)
        var tokens: [ConditionToken] = []
        var index = 0
        while index < characters.count {
            let character = characters[index]
            let column = index + 1
            if character.isWhitespace {
                index += 1
            } else if character == "\"" || character == "'" {
                var text = ""
                index += 1
                var closed = false
                while index < characters.count {
                    if characters[index] == "\\", index + 1 < characters.count {
                        text.append(characters[index + 1])
                        index += 2
                        continue
                    }
                    if characters[index] == character {
                        closed = true
                        index += 1
                        break
                    }
                    text.append(characters[index])
                    index += 1
                }
                if !closed { throw ConditionError(message: "string is never closed", column: column) }
                tokens.append(ConditionToken(kind: .string, text: text, column: column))
            } else if character.isNumber
                || (character == "-" && index + 1 < characters.count && characters[index + 1].isNumber)
            {
                var text = String(character)
                index += 1
                while index < characters.count, characters[index].isNumber {
                    text.append(characters[index])
                    index += 1
                }
                tokens.append(ConditionToken(kind: .number, text: text, column: column))
            } else if character.isLetter || character == "_" {
                var text = ""
                while index < characters.count,
                    characters[index].isLetter || characters[index].isNumber || characters[index] == "_"
                        || characters[index] == "."
                {
                    text.append(characters[index])
                    index += 1
                }
                tokens.append(ConditionToken(kind: .name, text: text, column: column))
            } else if let symbol = symbols.first(where: { matches($0, characters, at: index) }) {
                tokens.append(ConditionToken(kind: .symbol, text: symbol, column: column))
                index += symbol.count
            } else if character == "=" {
                throw ConditionError(message: "use '==' to compare, not '='", column: column)
            } else {
                throw ConditionError(message: "unexpected character '\(character)'", column: column)
            }
        }
        return tokens
    }

    private static func matches(_ symbol: String, _ characters: [Character], at index: Int) -> Bool {
        let symbolCharacters = Array(symbol)
        guard index + symbolCharacters.count <= characters.count else { return false }
        return Array(characters[index..<index + symbolCharacters.count]) == symbolCharacters
    }
}

/// A recursive-descent parser: or → and → not → comparison → primary.
struct ConditionParser {
    let tokens: [ConditionToken]
    let source: String
    var position = 0
    var depth = 0

    init(tokens: [ConditionToken], source: String) {
        self.tokens = tokens
        self.source = source
    }

    var peek: ConditionToken? { position < tokens.count ? tokens[position] : nil }

    mutating func take(_ texts: String...) -> ConditionToken? {
        guard let token = peek, texts.contains(token.text), token.kind == .symbol || token.kind == .name else {
            return nil
        }
        position += 1
        return token
    }

    var endColumn: Int { source.count + 1 }

    mutating func parseOr() throws(ConditionError) -> Condition {
        depth += 1
        defer { depth -= 1 }
        guard depth < 64 else {
            throw ConditionError(message: "condition is nested too deeply", column: peek?.column ?? endColumn)
        }
        var condition = try parseAnd()
        while take("or", "||") != nil { condition = .or(condition, try parseAnd()) }
        return condition
    }

    mutating func parseAnd() throws(ConditionError) -> Condition {
        var condition = try parseNot()
        while take("and", "&&") != nil { condition = .and(condition, try parseNot()) }
        return condition
    }

    mutating func parseNot() throws(ConditionError) -> Condition {
        if take("not", "!") != nil {
            depth += 1
            defer { depth -= 1 }
            guard depth < 64 else {
                throw ConditionError(message: "condition is nested too deeply", column: peek?.column ?? endColumn)
            }
            return .not(try parseNot())
        }
        return try parseComparison()
    }

    mutating func parseComparison() throws(ConditionError) -> Condition {
        let left = try parsePrimary()
        if let op = peek.flatMap({ token in
            token.kind == .symbol || token.kind == .name ? ComparisonOperator(rawValue: token.text) : nil
        }) {
            position += 1
            return .compare(left, op, try parsePrimary())
        }
        return left
    }

    mutating func parsePrimary() throws(ConditionError) -> Condition {
        guard let token = peek else { throw ConditionError(message: "the condition ends too soon", column: endColumn) }
        position += 1
        switch token.kind {
        case .string: return .literal(.string(token.text))
        case .number:
            guard let number = Int(token.text) else {
                throw ConditionError(message: "number too large", column: token.column)
            }
            return .literal(.number(number))
        case .name:
            switch token.text {
            case "true": return .literal(.bool(true))
            case "false": return .literal(.bool(false))
            case "and", "or", "in", "matches":
                throw ConditionError(message: "expected a value before '\(token.text)'", column: token.column)
            default: return .name(token.text)
            }
        case .symbol:
            switch token.text {
            case "(":
                let inner = try parseOr()
                guard take(")") != nil else {
                    throw ConditionError(message: "'(' is never closed", column: token.column)
                }
                return inner
            case "[":
                var items: [Condition] = []
                if take("]") != nil { return .list(items) }
                repeat { items.append(try parsePrimary()) } while take(",") != nil
                guard take("]") != nil else {
                    throw ConditionError(message: "'[' is never closed", column: token.column)
                }
                return .list(items)
            default:
                throw ConditionError(message: "unexpected '\(token.text)'", column: token.column)
            }
        }
    }
}
