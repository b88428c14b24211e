import Foundation
import Logging
import ParleyCore
import Synchronization

/// Structured logs: one JSON object a line on standard error (`parley serve --log-format json`).
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    private let label: String
    private static let lock = Mutex(())

    /// Creates a handler for a logger label.
    public init(label: String) {
        self.label = label
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var fields: [String: String] = [:]
        for (key, value) in metadata.merging(event.metadata ?? [:], uniquingKeysWith: { _, new in new }) {
            fields[key] = "\(value)"
        }
        Self.write(level: event.level, logger: label, message: "\(event.message)", fields: fields)
    }

    /// Writes one log line (a JSON object and a newline) to `handle`: logs go to standard error,
    /// `parley serve`'s announcements (the address it listens on) to standard output.
    public static func write(
        level: Logger.Level, logger: String, message: String, fields: [String: String] = [:],
        to handle: FileHandle = .standardError
    ) {
        var object = fields
        object["time"] = AuditClock.format(Date())
        object["level"] = level.rawValue
        object["logger"] = logger
        object["message"] = message
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(object) else { return }
        lock.withLock { _ in handle.write(data + Data("\n".utf8)) }
    }
}
