import Foundation

/// Where Parley keeps its state: the embedded SQLite file in the data directory (the default), or a
/// PostgreSQL database that several replicas share.
public enum StorageSettings: Sendable, Equatable {
    /// `parley.sqlite` in the data directory, or the file at `path`.
    case sqlite(path: String?)
    /// A PostgreSQL database; the URL may come from a secret reference, read at start.
    case postgres(PostgresLocation)

    /// The default: SQLite in the data directory.
    public static let embedded = StorageSettings.sqlite(path: nil)

    /// Reads `sqlite`, `sqlite:PATH` or a `postgres://` URL, as written after `storage:` or `--from`.
    /// Relative paths resolve against `baseDirectory`.
    public static func parse(_ text: String, baseDirectory: String) -> Result<StorageSettings, StorageSettingsError> {
        if text == "sqlite" { return .success(.embedded) }
        if text.hasPrefix("sqlite:") {
            let path = String(text.dropFirst("sqlite:".count))
            guard !path.isEmpty else {
                return .failure(
                    StorageSettingsError("sqlite: needs a path, as in sqlite:/var/lib/parley/parley.sqlite"))
            }
            let expanded = (path as NSString).expandingTildeInPath
            return .success(
                .sqlite(
                    path: expanded.hasPrefix("/")
                        ? expanded : (baseDirectory as NSString).appendingPathComponent(expanded))
            )
        }
        if text.hasPrefix("postgres://") || text.hasPrefix("postgresql://") {
            return PostgresURL.parse(text).map { .postgres(PostgresLocation(url: .literal($0))) }
        }
        return .failure(
            StorageSettingsError(
                "storage must be sqlite, sqlite:PATH or postgres://USER:PASSWORD@HOST:PORT/DATABASE"))
    }
}

/// Why a storage setting cannot be used.
public struct StorageSettingsError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// A PostgreSQL database as configured: its URL (or where to read it), TLS and the pool size.
public struct PostgresLocation: Sendable, Equatable {
    /// The URL as written, or a secret reference that holds it.
    public enum Source: Sendable, Equatable {
        case literal(PostgresURL)
        case secret(SecretReference)
    }

    public var url: Source
    /// TLS to the database; nil takes the URL's `sslmode` (or `prefer`).
    public var tls: PostgresTLS?
    /// PEM file of the certificate authorities to trust for `verify-full` (the system's otherwise).
    public var caFile: String?
    /// Connections per replica.
    public var pool: Int
    /// Seconds an operation may take before its caller is told the database did not answer.
    public var timeout: Int

    public init(url: Source, tls: PostgresTLS? = nil, caFile: String? = nil, pool: Int = 10, timeout: Int = 30) {
        self.url = url
        self.tls = tls
        self.caFile = caFile
        self.pool = pool
        self.timeout = timeout
    }

    /// The settings to connect with, reading a secret reference from `environment` (or its file).
    public func resolve(environment: [String: String]) -> Result<PostgresSettings, StorageSettingsError> {
        let url: PostgresURL
        switch self.url {
        case .literal(let literal): url = literal
        case .secret(let reference):
            switch reference.resolve(environment: environment) {
            case .failure(let error):
                return .failure(StorageSettingsError("storage url \(reference): \(error.message)"))
            case .success(let text):
                switch PostgresURL.parse(text) {
                case .failure(let error):
                    return .failure(StorageSettingsError("storage url \(reference): \(error.message)"))
                case .success(let parsed): url = parsed
                }
            }
        }
        return .success(
            PostgresSettings(url: url, tls: tls ?? url.sslMode ?? .prefer, caFile: caFile, pool: pool, timeout: timeout)
        )
    }
}

/// TLS to PostgreSQL, named as libpq's `sslmode` names it.
public enum PostgresTLS: String, Sendable, Equatable, CaseIterable {
    /// Plain TCP.
    case disable
    /// TLS when the server offers it, its certificate not checked.
    case prefer
    /// TLS always, its certificate not checked.
    case require
    /// TLS always, the certificate checked against the CAs and the host name.
    case verifyFull = "verify-full"
}

/// Everything needed to connect, with the URL read.
public struct PostgresSettings: Sendable, Equatable {
    public var url: PostgresURL
    public var tls: PostgresTLS
    public var caFile: String?
    public var pool: Int
    /// Seconds an operation may take before its caller is told the database did not answer.
    public var timeout: Int

    public init(url: PostgresURL, tls: PostgresTLS = .prefer, caFile: String? = nil, pool: Int = 10, timeout: Int = 30)
    {
        self.url = url
        self.tls = tls
        self.caFile = caFile
        self.pool = pool
        self.timeout = timeout
    }
}

/// `postgres://USER:PASSWORD@HOST:PORT/DATABASE?sslmode=MODE`, taken apart. Its description never
/// shows the password.
public struct PostgresURL: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public var user: String
    public var password: String?
    public var database: String
    public var sslMode: PostgresTLS?

    public init(
        host: String, port: Int = 5432, user: String, password: String? = nil, database: String,
        sslMode: PostgresTLS? = nil
    ) {
        self.host = host
        self.port = port
        self.user = user
        self.password = password
        self.database = database
        self.sslMode = sslMode
    }

    /// The URL with the password replaced by `***`.
    public var redacted: String {
        let credentials = (password == nil ? user : user + ":***")
        let hostPart = host.contains(":") ? "[\(host)]" : host
        return "postgres://\(credentials)@\(hostPart):\(port)/\(database)"
    }

    public var description: String { redacted }

    /// Takes a URL apart, or says what is wrong with it (never repeating the password).
    public static func parse(_ text: String) -> Result<PostgresURL, StorageSettingsError> {
        let usage = "write postgres://USER:PASSWORD@HOST:PORT/DATABASE"
        var rest = Substring(text)
        if rest.hasPrefix("postgresql://") {
            rest = rest.dropFirst("postgresql://".count)
        } else if rest.hasPrefix("postgres://") {
            rest = rest.dropFirst("postgres://".count)
        } else {
            return .failure(StorageSettingsError("a PostgreSQL URL starts with postgres://; \(usage)"))
        }
        var query: Substring = ""
        if let mark = rest.firstIndex(of: "?") {
            query = rest[rest.index(after: mark)...]
            rest = rest[..<mark]
        }
        guard let slash = rest.firstIndex(of: "/") else {
            return .failure(StorageSettingsError("the URL names no database; \(usage)"))
        }
        let authority = rest[..<slash]
        guard let database = decode(rest[rest.index(after: slash)...]), !database.isEmpty else {
            return .failure(StorageSettingsError("the URL names no database; \(usage)"))
        }
        var user: String?
        var password: String?
        var hostPort = authority
        if let at = authority.lastIndex(of: "@") {
            let credentials = authority[..<at]
            hostPort = authority[authority.index(after: at)...]
            if let colon = credentials.firstIndex(of: ":") {
                user = decode(credentials[..<colon])
                password = decode(credentials[credentials.index(after: colon)...])
                guard password != nil else {
                    return .failure(StorageSettingsError("the URL's password has a bad %-escape"))
                }
            } else {
                user = decode(credentials)
            }
        }
        guard let user, !user.isEmpty else { return .failure(StorageSettingsError("the URL names no user; \(usage)")) }
        var host = String(hostPort)
        var port = 5432
        if hostPort.hasPrefix("[") {
            guard let close = hostPort.firstIndex(of: "]") else {
                return .failure(StorageSettingsError("the URL's host has no closing ]"))
            }
            host = String(hostPort[hostPort.index(after: hostPort.startIndex)..<close])
            let after = hostPort[hostPort.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":"), let parsed = parsePort(after.dropFirst()) else {
                    return .failure(StorageSettingsError("the URL's port must be a number from 1 to 65535"))
                }
                port = parsed
            }
        } else if let colon = hostPort.lastIndex(of: ":") {
            host = String(hostPort[..<colon])
            guard let parsed = parsePort(hostPort[hostPort.index(after: colon)...]) else {
                return .failure(StorageSettingsError("the URL's port must be a number from 1 to 65535"))
            }
            port = parsed
        }
        guard !host.isEmpty else { return .failure(StorageSettingsError("the URL names no host; \(usage)")) }
        var sslMode: PostgresTLS?
        for pair in query.split(separator: "&") where !pair.isEmpty {
            let parts = pair.split(separator: "=", maxSplits: 1)
            let key = String(parts[0])
            let value = parts.count > 1 ? String(parts[1]) : ""
            guard key == "sslmode" else {
                return .failure(StorageSettingsError("the URL's parameter '\(key)' is not known; only sslmode is"))
            }
            guard let mode = PostgresTLS(rawValue: value) else {
                let modes = PostgresTLS.allCases.map(\.rawValue).joined(separator: ", ")
                return .failure(StorageSettingsError("sslmode '\(value)' is not one of \(modes)"))
            }
            sslMode = mode
        }
        return .success(
            PostgresURL(host: host, port: port, user: user, password: password, database: database, sslMode: sslMode))
    }

    private static func decode(_ text: Substring) -> String? {
        String(text).removingPercentEncoding
    }

    /// A port from outside: digits only, at most five of them, 1…65535 (no overflow possible).
    private static func parsePort(_ text: Substring) -> Int? {
        guard (1...5).contains(text.count), text.allSatisfy({ $0.isASCII && $0.isNumber }), let value = Int(text),
            (1...65535).contains(value)
        else { return nil }
        return value
    }
}
