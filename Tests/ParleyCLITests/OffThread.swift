import Foundation

/// Runs blocking work (a child process, a pipe read) on a thread of its own, so that it never holds
/// one of the few threads Swift concurrency runs every other test's tasks on.
func offThread<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread {
            do {
                continuation.resume(returning: try work())
            } catch {
                continuation.resume(throwing: error)
            }
        }
        thread.start()
    }
}
