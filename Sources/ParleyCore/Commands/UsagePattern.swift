import Foundation

/// A placeholder in a usage template: `{env:choice(staging,prod)}`.
public struct Placeholder: Sendable, Equatable {
    /// The argument's name, used in templates as `{{name}}`.
    public var name: String
    /// What it accepts.
    public var type: ParameterType
}

/// A positional part of a usage template.
public indirect enum UsageElement: Sendable, Equatable {
    /// A word that must be typed as is (case-insensitively).
    case literal(String)
    /// A typed value.
    case placeholder(Placeholder)
    /// A bracketed part that may be left out.
    case optional([UsageElement])
}

/// A `--flag` or `--key value` part of a usage template.
public struct NamedOption: Sendable, Equatable {
    /// The name without dashes.
    public var name: String
    /// The value's placeholder; nil for a flag.
    public var value: Placeholder?
    /// True when the option stands outside brackets.
    public var required: Bool
}

/// Why a usage template is not valid.
public enum UsageError: Error, Sendable, Equatable, CustomStringConvertible {
    case badType(String, String)
    case malformed(String)

    public var description: String {
        switch self {
        case .badType(let spec, let why): return "bad type '\(spec)': \(why)"
        case .malformed(let why): return why
        }
    }
}

/// A parsed usage template such as `deploy {app:choice(api,web)} to {env} [--version {version}]`.
public struct UsagePattern: Sendable, Equatable {
    /// The template as written.
    public var source: String
    /// The positional parts.
    public var elements: [UsageElement]
    /// The named options and flags.
    public var options: [NamedOption]

    /// Parses a usage template.
    public init(_ source: String) throws(UsageError) {
        self.source = source
        var reader = UsageReader(source)
        var options: [NamedOption] = []
        self.elements = try reader.readSequence(inOptional: false, options: &options)
        self.options = options
        try validate()
    }

    /// The usage for people: `deploy <app> to <env> [--version <version>] [--force]`.
    public var synopsis: String {
        func render(_ elements: [UsageElement]) -> String {
            elements.map { element in
                switch element {
                case .literal(let word): return word
                case .placeholder(let placeholder):
                    return placeholder.type == .text ? "<\(placeholder.name)…>" : "<\(placeholder.name)>"
                case .optional(let inner): return "[" + render(inner) + "]"
                }
            }.joined(separator: " ")
        }
        let named = options.map { option -> String in
            let text = "--" + option.name + (option.value.map { " <\($0.name)>" } ?? "")
            return option.required ? text : "[" + text + "]"
        }
        return ([render(elements)] + named).joined(separator: " ")
    }

    /// The literal words before the first placeholder: `deploy` for `deploy {app} to {env}`.
    public var leadingWords: [String] {
        var words: [String] = []
        for element in elements {
            guard case .literal(let word) = element else { break }
            words.append(word.lowercased())
        }
        return words
    }

    /// Every placeholder, positional and named, in order.
    public var placeholders: [Placeholder] {
        func collect(_ elements: [UsageElement]) -> [Placeholder] {
            elements.flatMap { element -> [Placeholder] in
                switch element {
                case .literal: return []
                case .placeholder(let placeholder): return [placeholder]
                case .optional(let inner): return collect(inner)
                }
            }
        }
        return collect(elements) + options.compactMap(\.value)
    }

    /// The names a template can refer to: placeholders and flags.
    public var argumentNames: [String] {
        placeholders.map(\.name) + options.filter { $0.value == nil }.map(\.name)
    }

    private func validate() throws(UsageError) {
        guard case .literal = elements.first else {
            throw .malformed("a usage must start with the command's word, as in 'deploy {app}'")
        }
        var seen = Set<String>()
        for name in argumentNames {
            guard seen.insert(name).inserted else { throw .malformed("argument '\(name)' appears twice") }
        }
        try Self.checkTextIsLast(elements, isLast: true)
        if options.contains(where: { $0.value?.type == .text }) {
            throw .malformed("an option's value cannot be of type text; use string")
        }
        if countOptionalGroups(elements) > 8 {
            throw .malformed("a usage may have at most 8 optional parts")
        }
    }

    private static func checkTextIsLast(_ elements: [UsageElement], isLast: Bool) throws(UsageError) {
        for (index, element) in elements.enumerated() {
            let last = isLast && index == elements.count - 1
            switch element {
            case .placeholder(let placeholder) where placeholder.type == .text && !last:
                throw .malformed("'\(placeholder.name)' is text (the rest of the line) so it must come last")
            case .optional(let inner): try checkTextIsLast(inner, isLast: last)
            default: break
            }
        }
    }

    private func countOptionalGroups(_ elements: [UsageElement]) -> Int {
        elements.reduce(0) { count, element in
            if case .optional(let inner) = element { return count + 1 + countOptionalGroups(inner) }
            return count
        }
    }
}

/// Reads a usage template left to right.
private struct UsageReader {
    let characters: [Character]
    var position = 0

    init(_ source: String) {
        characters = Array(source)
    }

    mutating func readSequence(inOptional: Bool, options: inout [NamedOption]) throws(UsageError)
        -> [UsageElement]
    {
        var elements: [UsageElement] = []
        while true {
            skipSpaces()
            guard position < characters.count else {
                if inOptional { throw .malformed("'[' is never closed") }
                return elements
            }
            switch characters[position] {
            case "]":
                guard inOptional else { throw .malformed("']' without a matching '['") }
                position += 1
                return elements
            case "[":
                position += 1
                var inner: [NamedOption] = []
                let group = try readSequence(inOptional: true, options: &inner)
                options += inner.map { NamedOption(name: $0.name, value: $0.value, required: false) }
                if !group.isEmpty { elements.append(.optional(group)) }
            case "{":
                elements.append(.placeholder(try readPlaceholder()))
            case "}":
                throw .malformed("'}' without a matching '{'")
            default:
                let word = readWord()
                if word.hasPrefix("--") {
                    options.append(try readOption(word, required: !inOptional))
                } else {
                    elements.append(.literal(word))
                }
            }
        }
    }

    mutating func skipSpaces() {
        while position < characters.count, characters[position].isWhitespace { position += 1 }
    }

    mutating func readWord() -> String {
        var word = ""
        while position < characters.count, !characters[position].isWhitespace,
            !"[]{}".contains(characters[position])
        {
            word.append(characters[position])
            position += 1
        }
        return word
    }

    mutating func readOption(_ word: String, required: Bool) throws(UsageError) -> NamedOption {
        var name = String(word.dropFirst(2))
        var attached = false
        if name.hasSuffix("=") {
            name.removeLast()
            attached = true
        }
        guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else {
            throw .malformed("'\(word)' is not a valid option name")
        }
        let save = position
        skipSpaces()
        if position < characters.count, characters[position] == "{" {
            return NamedOption(name: name, value: try readPlaceholder(), required: required)
        }
        if attached { throw .malformed("'--\(name)=' must be followed by a placeholder") }
        position = save
        return NamedOption(name: name, value: nil, required: required)
    }

    mutating func readPlaceholder() throws(UsageError) -> Placeholder {
        position += 1
        var content = ""
        var depth = 0
        while position < characters.count {
            let character = characters[position]
            if character == "\\", position + 1 < characters.count {
                content.append(character)
                content.append(characters[position + 1])
                position += 2
                continue
            }
            if character == "(" { depth += 1 }
            if character == ")" { depth -= 1 }
            if character == "}" && depth <= 0 { break }
            content.append(character)
            position += 1
        }
        guard position < characters.count else { throw .malformed("'{' is never closed") }
        position += 1
        let name: String
        let type: ParameterType
        if let colon = content.firstIndex(of: ":") {
            name = String(content[..<colon]).trimmingCharacters(in: .whitespaces)
            type = try ParameterType.parse(String(content[content.index(after: colon)...]))
        } else {
            name = content.trimmingCharacters(in: .whitespaces)
            type = .string
        }
        guard let first = name.first, first.isLetter || first == "_",
            name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" })
        else {
            throw .malformed("'\(name)' is not a valid argument name (letters, digits and _)")
        }
        return Placeholder(name: name, type: type)
    }
}
