/// Finds two usages that the same chat text could match with equal specificity.
///
/// The parser prefers the match with more literal words, so `deploy status` and `deploy {app}` can
/// live together; `deploy {app}` and `deploy {service}` cannot.
enum UsageAmbiguity {
    enum Slot {
        case word(String)
        case value(ParameterType)
    }

    /// An input both pattern lists would match equally well, or nil.
    static func example(_ first: [UsagePattern], _ second: [UsagePattern]) -> String? {
        example(Expanded(first), Expanded(second))
    }

    /// A command's usages with their optional parts expanded, computed once per command.
    struct Expanded {
        let forms: [[Slot]]
        /// The literal first words its forms start with.
        let firstWords: Set<String>
        /// True when a form starts with a value (or is empty), so it may clash with any first word.
        let startsWithValue: Bool

        init(_ patterns: [UsagePattern]) {
            forms = patterns.flatMap { UsageAmbiguity.expansions($0.elements) }
            var words = Set<String>()
            var value = false
            for form in forms {
                if case .word(let word) = form.first { words.insert(word) } else { value = true }
            }
            firstWords = words
            startsWithValue = value
        }
    }

    /// An input both expanded usages would match equally well, or nil.
    static func example(_ first: Expanded, _ second: Expanded) -> String? {
        for left in first.forms {
            for right in second.forms {
                if let example = clash(left, right) { return example }
            }
        }
        return nil
    }

    /// For each usage, the earlier ones (by index) that could clash with it: only those sharing a
    /// first word, or starting with a value. Keeps checking thousands of commands from being quadratic.
    static func candidates(_ all: [Expanded]) -> [[Int]] {
        var byWord: [String: [Int]] = [:]
        var valueFirst: [Int] = []
        for (index, usage) in all.enumerated() {
            for word in usage.firstWords { byWord[word, default: []].append(index) }
            if usage.startsWithValue { valueFirst.append(index) }
        }
        return all.enumerated().map { index, usage in
            if usage.startsWithValue { return Array(0..<index) }
            var found = Set<Int>()
            for word in usage.firstWords {
                for other in byWord[word] ?? [] where other < index { found.insert(other) }
            }
            for other in valueFirst where other < index { found.insert(other) }
            return found.sorted()
        }
    }

    static func expansions(_ elements: [UsageElement]) -> [[Slot]] {
        var results: [[Slot]] = [[]]
        for element in elements {
            switch element {
            case .literal(let word): results = results.map { $0 + [.word(word.lowercased())] }
            case .placeholder(let placeholder): results = results.map { $0 + [.value(placeholder.type)] }
            case .optional(let inner):
                let innerExpansions = expansions(inner)
                results = results.flatMap { prefix in [prefix] + innerExpansions.map { prefix + $0 } }
            }
        }
        return results
    }

    private static func clash(_ a: [Slot], _ b: [Slot]) -> String? {
        let aText = a.last.map(isText) ?? false
        let bText = b.last.map(isText) ?? false
        if !aText && !bText && a.count != b.count { return nil }
        if aText && !bText && b.count < a.count { return nil }
        if bText && !aText && a.count < b.count { return nil }
        guard literalCount(a) == literalCount(b) else { return nil }
        var words: [String] = []
        for index in 0..<max(a.count, b.count) {
            let left = index < a.count ? a[index] : a[a.count - 1]
            let right = index < b.count ? b[index] : b[b.count - 1]
            guard let word = common(left, right) else { return nil }
            words.append(word)
        }
        return words.joined(separator: " ")
    }

    private static func isText(_ slot: Slot) -> Bool {
        if case .value(.text) = slot { return true }
        return false
    }

    private static func literalCount(_ slots: [Slot]) -> Int {
        slots.filter { if case .word = $0 { return true } else { return false } }.count
    }

    /// A word both slots accept, or nil when none can be found.
    private static func common(_ a: Slot, _ b: Slot) -> String? {
        switch (a, b) {
        case (.word(let x), .word(let y)): return x == y ? x : nil
        case (.word(let x), .value(let type)), (.value(let type), .word(let x)):
            return type.couldAccept(word: x) ? x : nil
        case (.value(let x), .value(let y)):
            for candidate in samples(x) + samples(y)
            where x.couldAccept(word: candidate) && y.couldAccept(word: candidate) {
                return candidate
            }
            return nil
        }
    }

    private static func samples(_ type: ParameterType) -> [String] {
        switch type {
        case .string, .text: return ["x"]
        case .int(let min, _): return [String(min ?? 1)]
        case .duration: return ["10m"]
        case .choice(let choices): return choices
        case .regex: return []
        }
    }
}
