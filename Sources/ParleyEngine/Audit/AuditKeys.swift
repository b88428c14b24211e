import Crypto
import Foundation
import ParleyCore

/// Parley's Ed25519 audit key: by default kept in the data directory (mode 0600) and created on first
/// use; `audit: { signing_key: file:PATH }` or `env:NAME` keeps it outside, so that write access to the
/// database is not enough to sign a rewritten chain.
public enum AuditKeys {
    /// The key file's name inside the data directory.
    public static let fileName = "audit-signing.key"

    /// The configured key: from `signing_key` when set (a missing key file is created there), else the
    /// data directory's key file.
    public static func load(
        _ settings: AuditSettings, dataDirectory: String,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> Curve25519.Signing.PrivateKey {
        switch settings.signingKey {
        case nil:
            return try loadOrCreate(path: (dataDirectory as NSString).appendingPathComponent(fileName))
        case .file(let path):
            return try loadOrCreate(path: path)
        case .environment(let name):
            let reference = SecretReference.environment(name)
            switch reference.resolve(environment: environment) {
            case .failure(let problem): throw AuditKeyError(message: "audit signing_key: \(problem.message)")
            case .success(let text):
                guard let key = privateKey(from: text) else {
                    throw AuditKeyError(
                        message: "audit signing_key env:\(name) is not a base64 Ed25519 private key (32 bytes)")
                }
                return key
            }
        }
    }

    /// Loads the key in a data directory, creating it if there is none.
    public static func loadOrCreate(dataDirectory: String) throws -> Curve25519.Signing.PrivateKey {
        try loadOrCreate(path: (dataDirectory as NSString).appendingPathComponent(fileName))
    }

    /// Loads the key file at `path`, creating it (mode 0600) if there is none.
    public static func loadOrCreate(path: String) throws -> Curve25519.Signing.PrivateKey {
        if let data = FileManager.default.contents(atPath: path) {
            guard let key = privateKey(from: String(decoding: data, as: UTF8.self)) else {
                throw AuditKeyError(message: "\(path) is not a base64 Ed25519 private key (32 bytes)")
            }
            return key
        }
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let key = Curve25519.Signing.PrivateKey()
        let created = FileManager.default.createFile(
            atPath: path, contents: Data((key.rawRepresentation.base64EncodedString() + "\n").utf8),
            attributes: [.posixPermissions: 0o600])
        guard created else { throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: path]) }
        return key
    }

    /// Reads a base64 private key.
    public static func privateKey(from text: String) -> Curve25519.Signing.PrivateKey? {
        guard let raw = Data(base64Encoded: text.trimmingCharacters(in: .whitespacesAndNewlines)) else { return nil }
        return try? Curve25519.Signing.PrivateKey(rawRepresentation: raw)
    }

    /// The public key as base64, for auditors.
    public static func publicKeyText(_ key: Curve25519.Signing.PrivateKey) -> String {
        key.publicKey.rawRepresentation.base64EncodedString()
    }

    /// Reads a base64 public key.
    public static func publicKey(from text: String) -> Curve25519.Signing.PublicKey? {
        guard let raw = Data(base64Encoded: text.trimmingCharacters(in: .whitespacesAndNewlines)) else { return nil }
        return try? Curve25519.Signing.PublicKey(rawRepresentation: raw)
    }
}

/// Why the audit signing key cannot be used.
public struct AuditKeyError: Error, CustomStringConvertible {
    /// What is wrong.
    public var message: String
    public var description: String { message }

    /// Creates an error.
    public init(message: String) {
        self.message = message
    }
}
