import Foundation
import ParleyCore
import ParleyStore
import Subprocess
import Synchronization
import SystemPackage

#if canImport(Glibc)
    import Glibc
#endif

/// Runs programs: argv rendered from templates and passed as is (never through a shell), a minimal
/// environment, a timeout that stops the whole process group, and combined output up to a cap.
public struct ExecExecutor: ActionExecutor {
    /// Variables copied from Parley's own environment into every child's; nothing else leaks through.
    public static let inheritedVariables = ["PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR"]

    private let baseEnvironment: [String: String]
    private let parentEnvironment: [String: String]
    private let terminationGrace: Duration
    private let deadlines: Deadlines

    /// Creates an executor. `terminationGrace` is how long a timed-out process group has between
    /// SIGTERM and SIGKILL; `deadlines` is the clock of the timeouts.
    public init(
        environment: [String: String] = ProcessInfo.processInfo.environment, terminationGrace: Duration = .seconds(5),
        deadlines: Deadlines = .shared
    ) {
        self.deadlines = deadlines
        var base: [String: String] = [:]
        for name in Self.inheritedVariables { base[name] = environment[name] }
        if base["PATH"] == nil { base["PATH"] = "/usr/local/bin:/usr/bin:/bin" }
        self.baseEnvironment = base
        self.parentEnvironment = environment
        self.terminationGrace = terminationGrace
    }

    public func canRun(_ action: ActionSpec) -> Bool {
        if case .exec = action { return true }
        return false
    }

    public func execute(_ action: ActionSpec, _ request: ActionRequest) async -> ActionResult {
        guard case .exec(let spec) = action else {
            return ActionResult(status: .failed, message: "the exec executor cannot run \(action)")
        }
        let context = request.templateContext
        let argv = Self.renderArgv(spec.argv, context: context)
        guard let program = argv.first, !program.isEmpty else {
            return ActionResult(status: .failed, message: "the program name rendered empty")
        }
        let executable: String
        switch Self.resolve(program, workingDirectory: spec.workingDirectory, path: baseEnvironment["PATH"] ?? "") {
        case .success(let path): executable = path
        case .failure(let problem): return ActionResult(status: .failed, message: problem.message)
        }
        var inherited = baseEnvironment
        if let names = spec.inheritEnvironment {
            inherited = [:]
            for name in names { inherited[name] = parentEnvironment[name] }
        }
        var environment = inherited.merging(request.parleyEnvironment) { _, new in new }
        for (name, template) in spec.environment { environment[name] = template.render(context) }
        return await run(
            executable: executable, arguments: Array(argv.dropFirst()), environment: environment, spec: spec,
            onOutput: request.onOutput, onStart: request.onProcessStart, masker: request.masker)
    }

    /// Renders each argv template; an element that used tags and rendered empty is dropped, so that
    /// optional arguments can be written `{{#version}}--version={{version}}{{/version}}`.
    static func renderArgv(_ templates: [TextTemplate], context: [String: Any]) -> [String] {
        templates.compactMap { template in
            let value = template.render(context)
            return value.isEmpty && template.hasTags ? nil : value
        }
    }

    struct LaunchProblem: Error {
        let message: String
    }

    static func resolve(_ program: String, workingDirectory: String, path: String) -> Result<String, LaunchProblem> {
        let manager = FileManager.default
        if program.contains("/") {
            let joined =
                program.hasPrefix("/") ? program : (workingDirectory as NSString).appendingPathComponent(program)
            let full = URL(fileURLWithPath: joined).standardizedFileURL.path
            guard manager.fileExists(atPath: full) else {
                return .failure(LaunchProblem(message: "cannot run \(program): \(full) does not exist"))
            }
            guard manager.isExecutableFile(atPath: full) else {
                return .failure(LaunchProblem(message: "cannot run \(program): \(full) is not executable (chmod +x)"))
            }
            return .success(full)
        }
        for directory in path.split(separator: ":") {
            let candidate = String(directory) + "/" + program
            if manager.isExecutableFile(atPath: candidate) { return .success(candidate) }
        }
        return .failure(LaunchProblem(message: "cannot run \(program): not found in PATH (\(path))"))
    }

    private func run(
        executable: String, arguments: [String], environment: [String: String], spec: ExecSpec,
        onOutput: (@Sendable (String) -> Void)?, onStart: (@Sendable (Int32) -> Void)?, masker: SecretMasker
    ) async -> ActionResult {
        var options = PlatformOptions()
        // The child leads a new process group, so a timeout stops everything it started.
        options.processGroupID = 0
        var keys: [Environment.Key: String] = [:]
        for (name, value) in environment { keys[Environment.Key(stringLiteral: name)] = value }
        let capture = OutputCapture(limit: spec.maxOutputBytes, masker: masker)
        let timedOut = OnceFlag()
        let grace = terminationGrace
        let deadlines = deadlines
        let timeout = Duration.seconds(spec.timeoutSeconds)
        do {
            let result = try await Subprocess.run(
                .path(FilePath(executable)), arguments: Arguments(arguments), environment: .custom(keys),
                workingDirectory: FilePath(spec.workingDirectory), platformOptions: options, input: .none,
                output: .sequence, error: .combinedWithOutput
            ) { execution in
                let group = execution.processIdentifier.value
                onStart?(group)
                await withTaskCancellationHandler {
                    await Self.supervise(
                        execution, capture: capture, timeout: timeout, grace: grace, deadlines: deadlines,
                        timedOut: timedOut, onOutput: onOutput)
                } onCancel: {
                    _ = kill(-group, SIGKILL)
                }
            }
            let (output, truncated) = capture.text
            switch result.terminationStatus {
            case .exited(let code):
                let status: RunStatus = timedOut.isSet ? .timedOut : (code == 0 ? .succeeded : .failed)
                return ActionResult(
                    status: status, exitCode: Int(code), output: output, outputTruncated: truncated,
                    message: timedOut.isSet ? "timed out after \(spec.timeoutSeconds)s" : nil)
            case .signaled(let signal):
                let message =
                    timedOut.isSet
                    ? "timed out after \(spec.timeoutSeconds)s; the process group was stopped"
                    : "killed by signal \(signal)"
                return ActionResult(
                    status: timedOut.isSet ? .timedOut : .failed, output: output, outputTruncated: truncated,
                    message: message)
            }
        } catch {
            let (output, truncated) = capture.text
            return ActionResult(
                status: .failed, output: output, outputTruncated: truncated,
                message: "cannot run \(executable): \(error)")
        }
    }

    /// Drains output while a timer waits; on timeout, SIGTERM to the group, then SIGKILL after the grace.
    private static func supervise(
        _ execution: Execution<NoInput, SequenceOutput, CombinedErrorOutput>, capture: OutputCapture,
        timeout: Duration, grace: Duration, deadlines: Deadlines, timedOut: OnceFlag,
        onOutput: (@Sendable (String) -> Void)?
    ) async {
        let reader = Task {
            do {
                for try await buffer in execution.standardOutput {
                    let bytes = buffer.withUnsafeBytes { Array($0) }
                    capture.append(bytes)
                    onOutput?(String(decoding: bytes, as: UTF8.self))
                }
            } catch {
                // The pipe broke; what was read is kept.
            }
        }
        // The timeout is a deadline on the shared clock, not a sleeping task: see `Deadlines`.
        let escalation = Escalation()
        escalation.add(
            deadlines.schedule(after: timeout) {
                // Checked, marked and signalled as one step, so a program that ends at this moment is
                // either timed out or finished, never both.
                let terminated = escalation.whileLive {
                    timedOut.set()
                    try? execution.send(signal: .terminate, toProcessGroup: true)
                }
                guard terminated else { return }
                escalation.add(
                    deadlines.schedule(after: grace) {
                        let killed = escalation.whileLive { try? execution.send(signal: .kill, toProcessGroup: true) }
                        // Give the reader a moment to collect the last bytes before it is cancelled.
                        if killed { escalation.add(deadlines.schedule(after: .seconds(2)) { reader.cancel() }) }
                    })
            })
        await withTaskCancellationHandler {
            await reader.value
        } onCancel: {
            reader.cancel()
        }
        // Once terminated, what is left of the group goes now even though the output has ended: a
        // child that ignores SIGTERM with its output elsewhere must not outlive the timeout.
        if escalation.end() { try? execution.send(signal: .kill, toProcessGroup: true) }
        for token in escalation.tokens { deadlines.cancel(token) }
    }
}

/// The deadlines of one program's timeout (SIGTERM, then SIGKILL, then stop reading), until the
/// program's output ends: after that none of them may act.
private final class Escalation: Sendable {
    private let state = Mutex((live: true, terminated: false, tokens: [Deadlines.Token]()))

    /// Runs `signal` while the output has not ended, under the lock `end()` takes; true when it ran.
    func whileLive(_ signal: () -> Void) -> Bool {
        state.withLock { state in
            guard state.live else { return false }
            signal()
            state.terminated = true
            return true
        }
    }

    func add(_ token: Deadlines.Token) {
        state.withLock { $0.tokens.append(token) }
    }

    /// Ends it; true when the program was already being stopped for its timeout.
    func end() -> Bool {
        state.withLock { state in
            state.live = false
            return state.terminated
        }
    }

    /// The deadlines to cancel once it has ended.
    var tokens: [Deadlines.Token] { state.withLock { $0.tokens } }
}
