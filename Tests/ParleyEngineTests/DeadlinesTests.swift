import ParleyCore
import ParleyEngine
import ParleyStore
import Synchronization
import Testing

/// The shared clock behind program timeouts.
@Suite struct DeadlinesTests {
    /// Collects what fired, in order.
    final class Fired: Sendable {
        let names = Mutex<[String]>([])
        func add(_ name: String) { names.withLock { $0.append(name) } }
        var all: [String] { names.withLock { $0 } }
    }

    @Test func deadlinesFireInTheirOrderAndACancelledOneNever() async throws {
        let clock = Deadlines(tick: .milliseconds(20))
        let fired = Fired()
        clock.schedule(after: .milliseconds(150)) { fired.add("later") }
        let cancelled = clock.schedule(after: .milliseconds(50)) { fired.add("cancelled") }
        clock.schedule(after: .milliseconds(30)) { fired.add("sooner") }
        clock.cancel(cancelled)
        #expect(clock.pending == 2, "a cancelled deadline is forgotten at once, not when it was due")
        for _ in 0..<500 where fired.all.count < 2 { try await Task.sleep(for: .milliseconds(10)) }
        #expect(fired.all == ["sooner", "later"])
        #expect(clock.pending == 0)
        // The clock task ends with nothing left, and starts again for the next deadline.
        clock.schedule(after: .zero) { fired.add("again") }
        for _ in 0..<500 where fired.all.count < 3 { try await Task.sleep(for: .milliseconds(10)) }
        #expect(fired.all == ["sooner", "later", "again"])
    }

    @Test func finishedProgramsLeaveNoDeadlineBehind() async throws {
        let clock = Deadlines()
        let directory = temporaryDirectory()
        let config = try ConfigLoader(builtins: Builtins.declarations).load(
            yaml: commands("  hello: { usage: hello, action: { exec: [\"echo\", \"hi\"] } }\n"), file: "test.yaml",
            baseDirectory: directory)
        let engine = Engine(
            config: config, store: try SQLiteStore(dataDirectory: config.dataDirectory),
            executors: [ExecExecutor(deadlines: clock)])
        for _ in 0..<20 { #expect(await engine.handle(say("hello"))?.outcome == .succeeded) }
        // Each run's timeout (the default, minutes long) was cancelled with the run, not left waiting.
        #expect(clock.pending == 0)
    }
}
