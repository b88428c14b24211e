import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// What Parley reads of a process from `/proc/PID/stat`: enough to tell a live process from a zombie
/// and from a later process that was given the same pid.
public struct ProcessStat: Sendable, Equatable {
    /// The process id (field 1).
    public var pid: Int32
    /// The state letter (field 3): `R`, `S`, `D`, `Z` (zombie), `X` (dead) …
    public var state: Character
    /// The process group (field 5).
    public var processGroup: Int32
    /// When the process started, in clock ticks after the machine booted (field 22). Together with the
    /// pid and the boot id it names one process: a reused pid comes with a later start time.
    public var startTime: UInt64

    /// Creates a value (tests; `init(parsing:)` reads the real thing).
    public init(pid: Int32, state: Character, processGroup: Int32, startTime: UInt64) {
        self.pid = pid
        self.state = state
        self.processGroup = processGroup
        self.startTime = startTime
    }

    /// True when the process has ended and only waits to be reaped (or is being torn down).
    public var hasEnded: Bool { state == "Z" || state == "X" || state == "x" }

    /// Parses the text of `/proc/PID/stat`; nil for anything that is not one.
    ///
    /// The command name (field 2) is in parentheses and may itself hold spaces, parentheses and
    /// digits, so the fields are counted from after the *last* `)`. Numbers that do not fit are
    /// refused, never trapped on.
    public init?(parsing text: String) {
        let bytes = Array(text.utf8)
        guard let open = bytes.firstIndex(of: UInt8(ascii: "(")),
            let close = bytes.lastIndex(of: UInt8(ascii: ")")), open < close,
            let pid = Self.number(bytes[..<open].dropLast(while: { $0 == UInt8(ascii: " ") }), as: Int32.self),
            pid > 0
        else { return nil }
        let fields = bytes[(close + 1)...].split(whereSeparator: { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\n") }
        )
        // After the name: state is field 3, so field n is fields[n - 3].
        guard fields.count >= 20, fields[0].count == 1, let letter = fields[0].first,
            (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(letter)
                || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(letter),
            let group = Self.number(fields[2], as: Int32.self),
            let start = Self.number(fields[19], as: UInt64.self)
        else { return nil }
        self.init(pid: pid, state: Character(UnicodeScalar(letter)), processGroup: group, startTime: start)
    }

    /// Reads `/proc/PID/stat`; nil when there is no such process (or no `/proc`).
    public static func read(pid: Int32) -> ProcessStat? {
        guard pid > 0, let text = ProcFile.read("/proc/\(pid)/stat") else { return nil }
        return ProcessStat(parsing: text)
    }

    /// A decimal number made only of digits (a leading `-` for signed types) that fits in `T`.
    private static func number<T: FixedWidthInteger>(_ digits: some Collection<UInt8>, as: T.Type) -> T? {
        guard !digits.isEmpty, digits.count <= 40 else { return nil }
        return T(String(decoding: digits, as: UTF8.self), radix: 10)
    }
}

extension Collection where Element == UInt8, SubSequence == Self {
    fileprivate func dropLast(while predicate: (UInt8) -> Bool) -> SubSequence {
        var end = endIndex
        while end > startIndex, predicate(self[index(end, offsetBy: -1)]) { end = index(end, offsetBy: -1) }
        return self[startIndex..<end]
    }
}

/// Small files under `/proc`, which report a size of zero and so are read until their end.
enum ProcFile {
    static func read(_ path: String) -> String? {
        bytes(path, limit: 64 * 1024).map { String(decoding: $0, as: UTF8.self) }
    }

    /// The first `limit` bytes of the file (nil when it cannot be opened or is empty).
    static func bytes(_ path: String, limit: Int) -> [UInt8]? {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while bytes.count < limit {
            let count = buffer.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { break }
            bytes += buffer[..<count]
        }
        return bytes.isEmpty ? nil : bytes
    }
}
