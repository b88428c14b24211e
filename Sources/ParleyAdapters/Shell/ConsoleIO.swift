import Foundation
import Synchronization

/// Where the console writes; writes from concurrent commands never interleave mid-reply.
public protocol ConsoleOutput: Sendable {
    /// Writes text as is.
    func write(_ text: String)
}

/// Standard output, flushed after every write.
public final class StandardOutput: ConsoleOutput {
    private let lock = Mutex(())

    /// Creates the writer.
    public init() {}

    public func write(_ text: String) {
        lock.withLock { _ in
            FileHandle.standardOutput.write(Data(text.utf8))
        }
    }
}

/// Reads standard input line by line on a thread of its own, so the console never blocks a task.
public enum StandardInput {
    /// The lines of standard input, ending at end of file.
    public static func lines() -> AsyncStream<String> {
        AsyncStream { continuation in
            let thread = Thread {
                while let line = readLine(strippingNewline: true) { continuation.yield(line) }
                continuation.finish()
            }
            thread.start()
        }
    }
}
