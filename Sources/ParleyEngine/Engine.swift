import Foundation
import Logging
import ParleyCore
import ParleyStore

/// The running system: every adapter hands it messages, and it dedupes, identifies, parses,
/// authorizes, runs and records each one.
///
/// The engine holds no mutable state of its own, so any number of messages are handled at once:
/// a long-running command never holds up another.
public final class Engine: Sendable {
    /// The configuration in force.
    public let config: ParleyConfig
    /// Built-ins and configured commands.
    public let catalogue: CommandCatalogue
    /// Who may run what.
    public let policy: Policy
    /// Who is who.
    public let directory: Directory
    private let store: any ParleyStorage
    private let executors: [any ActionExecutor]
    private let logger: Logger

    /// Creates an engine over a store. `executors` default to the exec executor.
    public init(
        config: ParleyConfig, store: any ParleyStorage, executors: [any ActionExecutor] = [ExecExecutor()],
        logger: Logger = Logger(label: "parley.engine")
    ) {
        self.config = config
        self.catalogue = CommandCatalogue(Builtins.declarations + config.commands)
        self.policy = Policy(roles: config.roles)
        self.directory = Directory(users: config.users)
        self.store = store
        self.logger = logger
        let services = BuiltinServices(
            catalogue: catalogue, policy: policy, directory: directory, store: store, replyLimits: config.replyLimits)
        var byName: [String: BuiltinCommand] = [:]
        for builtin in Builtins.all { byName[builtin.declaration.id] = builtin }
        self.executors = [BuiltinExecutor(builtins: byName, services: services)] + executors
    }

    /// Settles runs left `running` by a process that stopped; call once at start. Returns them.
    public func recoverInterruptedRuns() async throws -> [RunRecord] {
        let runs = try await store.interruptUnfinishedRuns(reason: "Parley stopped while this run was in flight")
        for run in runs { logger.warning("run #\(run.id ?? 0) was interrupted by a restart: \(run.text)") }
        return runs
    }

    /// Handles one message. Returns nil when the message is not for Parley or is a platform's retry.
    public func handle(_ inbound: Inbound) async -> EngineResponse? {
        guard let text = config.addressing.commandText(in: inbound.text, isDirect: inbound.isDirect) else {
            return nil
        }
        if let eventID = inbound.eventID {
            let key = "\(inbound.sender.platform):\(eventID)"
            do {
                guard try await store.firstSighting(of: key) else { return nil }
            } catch {
                logger.error("cannot check event \(key) for duplicates: \(error)")
                return EngineResponse(
                    reply: .text("Parley cannot reach its store right now; nothing was run. Try again shortly."),
                    outcome: .failed, runID: nil)
            }
        }
        let principal = directory.principal(for: inbound.sender)
        var run = RunRecord(
            userName: principal.userName, identity: inbound.sender.description, room: inbound.room,
            thread: inbound.thread, text: text, decision: .allowed, status: .running)
        switch catalogue.parse(text) {
        case .failure(let failure):
            run.decision = failure.isUnknownCommand ? .unknown : .invalid
            run.reason = failure.message
            run.status = .rejected
            if case .mismatch(let command, _, _) = failure { run.commandID = command }
            return await reject(
                run, reply: .text(failure.message), outcome: failure.isUnknownCommand ? .unknown : .invalid)
        case .success(let parsed):
            run.commandID = parsed.command.id
            run.arguments = parsed.recordedArguments
            switch policy.decide(principal, commandID: parsed.command.id) {
            case .denied(let reason):
                run.decision = .denied
                run.reason = reason
                run.status = .rejected
                return await reject(run, reply: .text("denied: \(reason)"), outcome: .denied)
            case .allowed(let grant):
                run.reason = grant
                return await execute(parsed, run: run, principal: principal, inbound: inbound)
            }
        }
    }

    private func reject(_ run: RunRecord, reply: Reply, outcome: EngineResponse.Outcome) async -> EngineResponse {
        var run = run
        run.finishedAt = Date()
        do {
            run = try await store.insertRun(run)
        } catch {
            logger.error("cannot record a rejected command: \(error)")
        }
        return EngineResponse(reply: reply, outcome: outcome, runID: run.id)
    }

    private func execute(_ parsed: ParsedCommand, run: RunRecord, principal: Principal, inbound: Inbound) async
        -> EngineResponse
    {
        var run = run
        do {
            // The run is on disk before the action starts: a crash leaves evidence, not silence.
            run = try await store.insertRun(run)
        } catch {
            logger.error("cannot record a run, so not running it: \(error)")
            return EngineResponse(
                reply: .text("Parley cannot record this run, so it did not run it: \(error)"), outcome: .failed,
                runID: nil)
        }
        let runID = run.id ?? 0
        guard let executor = executors.first(where: { $0.canRun(parsed.command.action) }) else {
            return await finish(
                run, ActionResult(status: .failed, message: "no executor can run \(parsed.command.id)"),
                parsed: parsed, started: Date())
        }
        let request = ActionRequest(
            parsed: parsed, principal: principal, room: inbound.room, platform: inbound.sender.platform, runID: runID)
        let started = Date()
        let result = await executor.execute(parsed.command.action, request)
        return await finish(run, result, parsed: parsed, started: started)
    }

    private func finish(_ run: RunRecord, _ result: ActionResult, parsed: ParsedCommand, started: Date) async
        -> EngineResponse
    {
        var run = run
        run.status = result.status
        run.exitCode = result.exitCode
        run.output = result.output
        run.outputTruncated = result.outputTruncated
        run.finishedAt = Date()
        run.durationMilliseconds = Int(Date().timeIntervalSince(started) * 1000)
        if let message = result.message { run.reason = message }
        do {
            try await store.updateRun(run)
        } catch {
            logger.error("cannot record the outcome of run #\(run.id ?? 0): \(error)")
        }
        let reply = result.reply ?? RunReply.make(run: run, result: result, limits: config.replyLimits)
        return EngineResponse(reply: reply, outcome: .init(result.status), runID: run.id)
    }
}

/// The engine's answer to one message.
public struct EngineResponse: Sendable {
    /// What to show in the room.
    public var reply: Reply
    /// How it ended, for exit codes and metrics.
    public var outcome: Outcome
    /// The run's number, when one was recorded.
    public var runID: Int64?

    /// Creates a response.
    public init(reply: Reply, outcome: Outcome, runID: Int64?) {
        self.reply = reply
        self.outcome = outcome
        self.runID = runID
    }

    /// How a message ended.
    public enum Outcome: String, Sendable, Codable {
        case succeeded, failed
        case timedOut = "timed_out"
        case interrupted, denied, unknown, invalid

        init(_ status: RunStatus) {
            switch status {
            case .succeeded: self = .succeeded
            case .timedOut: self = .timedOut
            case .interrupted: self = .interrupted
            case .failed, .running, .rejected: self = .failed
            }
        }
    }
}

extension ParseFailure {
    var isUnknownCommand: Bool {
        switch self {
        case .unknownCommand, .empty: return true
        default: return false
        }
    }
}
