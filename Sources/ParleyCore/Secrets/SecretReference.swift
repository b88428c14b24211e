import Foundation

/// Where a secret's value comes from: `env:NAME` or `file:PATH`. The value itself is never in the config.
public enum SecretReference: Sendable, Equatable, CustomStringConvertible {
    /// An environment variable of the Parley process.
    case environment(String)
    /// A file, read at start; a trailing newline is dropped.
    case file(String)

    /// Parses `env:NAME` or `file:PATH` (relative paths against `baseDirectory`).
    public init?(_ text: String, baseDirectory: String) {
        if text.hasPrefix("env:") {
            let name = String(text.dropFirst(4))
            guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else { return nil }
            self = .environment(name)
        } else if text.hasPrefix("file:") {
            let path = String(text.dropFirst(5))
            guard !path.isEmpty else { return nil }
            self = .file(path.hasPrefix("/") ? path : (baseDirectory as NSString).appendingPathComponent(path))
        } else {
            return nil
        }
    }

    /// Reads the value, or says why it cannot.
    public func resolve(environment: [String: String]) -> Result<String, SecretError> {
        switch self {
        case .environment(let name):
            guard let value = environment[name], !value.isEmpty else {
                return .failure(SecretError(message: "environment variable \(name) is not set"))
            }
            return .success(value)
        case .file(let path):
            guard let data = FileManager.default.contents(atPath: path) else {
                return .failure(SecretError(message: "cannot read \(path)"))
            }
            var value = String(decoding: data, as: UTF8.self)
            while value.hasSuffix("\n") || value.hasSuffix("\r") { value.removeLast() }
            guard !value.isEmpty else { return .failure(SecretError(message: "\(path) is empty")) }
            return .success(value)
        }
    }

    public var description: String {
        switch self {
        case .environment(let name): return "env:\(name)"
        case .file(let path): return "file:\(path)"
        }
    }
}

/// A secret declared in the configuration.
public struct SecretDeclaration: Sendable, Equatable {
    /// The name templates use: `{{secrets.NAME}}`.
    public var name: String
    /// Where the shared value comes from; nil for a per-user secret.
    public var reference: SecretReference?
    /// True when each user brings their own value (`users.NAME.secrets`).
    public var perUser: Bool

    /// Creates a declaration.
    public init(name: String, reference: SecretReference?, perUser: Bool) {
        self.name = name
        self.reference = reference
        self.perUser = perUser
    }
}

/// Why a secret could not be read.
public struct SecretError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What is wrong.
    public var message: String
    public var description: String { message }
}
