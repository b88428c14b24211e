import Logging
import Synchronization

/// Gives every database operation a deadline. A statement can wait for ever for its answer: a
/// network partition that drops packets without a reset, a PostgreSQL failover that leaves the old
/// primary's sockets open, a connection the server closed while PostgresNIO had a query on it. The
/// caller is answered when the deadline passes (the operation goes on in the background, cancelled,
/// and its connection stays leased until it ends), and the store counts it as stuck, so `/readyz`
/// fails at once instead of hanging as long as the database does.
final class PostgresDeadline: Sendable {
    let timeout: Duration
    private let logger: Logger
    /// Operations past their deadline that have not ended yet.
    private let stuck = Atomic<Int>(0)
    /// Operations that passed their deadline since the store opened (for `/metrics`).
    private let timedOut = Atomic<Int>(0)
    /// False from a timeout until the next operation ends in time: the database is not answering.
    private let answeredSinceTimeout = Atomic<Bool>(true)

    init(timeout: Duration, logger: Logger) {
        self.timeout = timeout
        self.logger = logger
    }

    var stuckOperations: Int { stuck.load(ordering: .relaxed) }
    var timedOutOperations: Int { timedOut.load(ordering: .relaxed) }
    /// True while operations are stuck and none has ended in time since the latest timeout. One
    /// operation that never ends (PostgresNIO 1.33 can lose a statement on a connection the server
    /// drops) does not make the replica unready for good while the others are answered.
    var isNotAnswering: Bool { stuckOperations > 0 && !answeredSinceTimeout.load(ordering: .relaxed) }

    /// Runs `work`; throws `StoreError.timedOut` when it has not ended within the deadline, and
    /// `CancellationError` at once when the caller is cancelled (the work is cancelled too).
    func run<Result: Sendable>(_ work: @escaping @Sendable () async throws -> Result) async throws -> Result {
        let answer = AnswerOnce<Result>()
        let worker = Task { [self] in
            let outcome: Swift.Result<Result, any Error>
            do {
                outcome = .success(try await work())
            } catch {
                outcome = .failure(error)
            }
            if answer.give(outcome) {
                answeredSinceTimeout.store(true, ordering: .relaxed)
            } else if answer.takeStuck() {
                stuck.subtract(1, ordering: .relaxed)
                logger.notice("a database operation that passed its deadline has ended")
            }
        }
        let timer = Task { [self] in
            do { try await Task.sleep(for: timeout) } catch { return }
            // Counted before the caller is answered, so a caller that sees the error sees the count.
            stuck.add(1, ordering: .relaxed)
            guard answer.give(.failure(StoreError.timedOut(seconds: Self.seconds(timeout))), stuck: true) else {
                stuck.subtract(1, ordering: .relaxed)
                return
            }
            timedOut.add(1, ordering: .relaxed)
            answeredSinceTimeout.store(false, ordering: .relaxed)
            logger.error(
                "the database did not answer within \(Self.seconds(timeout)) s; the operation is abandoned and the store reported stuck until it ends"
            )
            worker.cancel()
        }
        defer { timer.cancel() }
        return try await withTaskCancellationHandler {
            try await answer.wait()
        } onCancel: {
            worker.cancel()
            _ = answer.give(.failure(CancellationError()))
        }
    }

    static func seconds(_ duration: Duration) -> Int {
        Int(duration.components.seconds) + (duration.components.attoseconds > 0 ? 1 : 0)
    }
}

/// One answer, given once: whoever gives first wins; the waiter gets it whenever it comes to wait.
private final class AnswerOnce<Value: Sendable>: Sendable {
    private struct State {
        var given: Swift.Result<Value, any Error>?
        var waiter: CheckedContinuation<Value, any Error>?
        /// The answer given was a timeout, and the operation is counted as stuck.
        var stuck = false
    }
    private let state = Mutex(State())

    /// False when an answer was already given.
    func give(_ outcome: Swift.Result<Value, any Error>, stuck: Bool = false) -> Bool {
        let waiter: CheckedContinuation<Value, any Error>?? = state.withLock { state in
            guard state.given == nil else { return .none }
            state.given = outcome
            state.stuck = stuck
            defer { state.waiter = nil }
            return .some(state.waiter)
        }
        guard case .some(let continuation) = waiter else { return false }
        continuation?.resume(with: outcome)
        return true
    }

    /// True once when the operation was counted as stuck.
    func takeStuck() -> Bool {
        state.withLock { state in
            defer { state.stuck = false }
            return state.stuck
        }
    }

    func wait() async throws -> Value {
        try await withCheckedThrowingContinuation { continuation in
            let given = state.withLock { state in
                if state.given == nil { state.waiter = continuation }
                return state.given
            }
            if let given { continuation.resume(with: given) }
        }
    }
}
