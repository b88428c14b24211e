import Mustache

/// A mustache template rendered as plain text (no HTML escaping), for argv, environment and messages.
public struct TextTemplate: Sendable, Equatable, CustomStringConvertible {
    /// The template as written.
    public let source: String
    private let template: MustacheTemplate

    /// Compiles a template, or says why it is not valid.
    public init(_ source: String) throws(TemplateError) {
        self.source = source
        do {
            template = try MustacheTemplate(string: "{{% CONTENT_TYPE: TEXT}}" + source)
        } catch {
            throw TemplateError(source: source, reason: "\(error)")
        }
    }

    /// Renders the template with `context` (names to strings, booleans, numbers, lists or dictionaries).
    public func render(_ context: [String: Any]) -> String {
        template.render(context)
    }

    /// True when the template has any `{{…}}` tag, i.e. is not plain text.
    public var hasTags: Bool { source.contains("{{") }

    /// The top-level names the template refers to (`app` in `{{app}}`, `secrets` in `{{secrets.token}}`).
    public var referencedNames: Set<String> {
        Set(referencedPaths.compactMap { $0.split(separator: ".").first.map(String.init) })
    }

    /// The dotted names the template refers to (`app`, `secrets.token`).
    public var referencedPaths: Set<String> {
        var names = Set<String>()
        var rest = source[...]
        while let open = rest.range(of: "{{") {
            rest = rest[open.upperBound...]
            guard let close = rest.range(of: "}}") else { break }
            var tag = rest[..<close.lowerBound].trimmingCharacters(in: .whitespaces)
            rest = rest[close.upperBound...]
            guard let sigil = tag.first else { continue }
            if "!>=%<$".contains(sigil) { continue }
            if "#^/&{".contains(sigil) { tag = String(tag.dropFirst()).trimmingCharacters(in: .whitespaces) }
            if tag.hasSuffix("}") { tag = String(tag.dropLast()).trimmingCharacters(in: .whitespaces) }
            if !tag.isEmpty, tag != "." { names.insert(tag) }
        }
        return names
    }

    public var description: String { source }

    public static func == (lhs: TextTemplate, rhs: TextTemplate) -> Bool { lhs.source == rhs.source }
}

/// Why a template did not compile.
public struct TemplateError: Error, Sendable, Equatable {
    /// The template as written.
    public var source: String
    /// What the template engine said.
    public var reason: String
}
