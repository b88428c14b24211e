import Foundation

/// How often one user may run a command: `5/min`, `100/hour`, `2/10s`.
public struct RateLimit: Sendable, Equatable, CustomStringConvertible {
    /// Runs allowed per window.
    public var count: Int
    /// The window, in seconds.
    public var seconds: Int
    /// As written.
    public var source: String

    /// Parses a rate such as `5/min`.
    public init?(_ text: String) {
        let parts = text.split(separator: "/").map { $0.trimmingCharacters(in: .whitespaces) }
        guard parts.count == 2, let count = Int(parts[0]), count > 0 else { return nil }
        let units = [
            "s": 1, "sec": 1, "second": 1, "m": 60, "min": 60, "minute": 60, "h": 3600, "hour": 3600,
            "d": 86400, "day": 86400,
        ]
        if let unit = units[parts[1]] {
            seconds = unit
        } else if let duration = DurationText.seconds(parts[1]), duration > 0 {
            seconds = duration
        } else {
            return nil
        }
        self.count = count
        self.source = text
    }

    public var description: String { source }
}
