import Foundation
import ParleyCore
import ParleyStore

/// The `runs` and `run` built-ins: recent runs as a table, one run in detail.
enum RunViews {
    static func list(_ call: BuiltinCall) async throws -> Reply {
        var query = RunQuery(limit: call["limit"].flatMap(Int.init) ?? 10)
        query.userName = call["user"]
        query.commandID = call["command"]
        query.status = call["status"].flatMap(RunStatus.init(rawValue:))
        if !call.flag("all") {
            query.excludingCommands = Set(call.services.catalogue.commands.filter(\.isBuiltin).map(\.id))
        }
        let runs = try await call.services.store.runs(query)
        guard !runs.isEmpty else { return .text("No runs yet.") }
        let rows = runs.map { run in
            [
                "#\(run.id ?? 0)", run.status.rawValue, run.userName ?? run.identity, clip(run.text, 40),
                duration(run.durationMilliseconds), age(run.createdAt),
            ]
        }
        return Reply([.table(header: ["run", "status", "who", "command", "took", "when"], rows: rows)])
    }

    static func detail(_ call: BuiltinCall) async throws -> Reply {
        guard let id = call["id"].flatMap(Int64.init), let run = try await call.services.store.run(id: id) else {
            return .text("no run #\(call["id"] ?? "?")")
        }
        var fields = [
            ReplyField("run", "#\(id)"),
            ReplyField("status", run.status.rawValue),
            ReplyField("who", run.userName.map { "\($0) (\(run.identity))" } ?? run.identity),
            ReplyField("where", run.room),
            ReplyField("command", run.text),
            ReplyField(
                "decision", run.reason.isEmpty ? run.decision.rawValue : "\(run.decision.rawValue): \(run.reason)"),
            ReplyField("started", AuditClock.format(run.createdAt)),
        ]
        if let code = run.exitCode { fields.append(ReplyField("exit status", String(code))) }
        if let milliseconds = run.durationMilliseconds { fields.append(ReplyField("took", duration(milliseconds))) }
        var blocks: [ReplyBlock] = [.fields(fields)]
        let steps = try await call.services.store.steps(runID: id)
        if !steps.isEmpty {
            let rows = steps.map { step in
                let took =
                    step.startedAt.flatMap { start in
                        step.finishedAt.map { duration(Int($0.timeIntervalSince(start) * 1000)) }
                    } ?? ""
                let tail = step.output.split(separator: "\n").last.map(String.init) ?? ""
                return [
                    step.path, step.name, step.status.rawValue, step.attempts > 1 ? "\(step.attempts)" : "", took,
                    clip(step.message.isEmpty ? tail : step.message, 50),
                ]
            }
            blocks.append(.table(header: ["#", "step", "status", "attempts", "took", "last line"], rows: rows))
        }
        if !run.output.isEmpty {
            let pages = OutputPages(run.output, limits: call.services.replyLimits)
            // Without --page the last page: the end of the output is where the error usually is.
            let number = call["page"].flatMap(Int.init) ?? pages.count
            guard (1...pages.count).contains(number) else {
                return .text(
                    "run #\(id) has \(pages.count) page\(pages.count == 1 ? "" : "s") of output; ask for 1 to \(pages.count)"
                )
            }
            if pages.count > 1 {
                var around: [String] = []
                if number > 1 { around.append("earlier: `run \(id) --page \(number - 1)`") }
                if number < pages.count { around.append("later: `run \(id) --page \(number + 1)`") }
                if let url = call.services.runPageURL { around.append("all at once: \(url)\(id)") }
                blocks.append(
                    .text(
                        "output page \(number) of \(pages.count) (\(pages.span(ofPage: number))); "
                            + around.joined(separator: " · ")))
            }
            blocks.append(.code(pages.text(ofPage: number)))
        }
        if run.outputTruncated { blocks.append(.text("(output beyond the action's max_output was not kept)")) }
        return Reply(blocks)
    }

    static func clip(_ text: String, _ length: Int) -> String {
        text.count <= length ? text : String(text.prefix(length - 1)) + "…"
    }

    static func duration(_ milliseconds: Int?) -> String {
        guard let milliseconds else { return "" }
        if milliseconds < 1000 { return "\(milliseconds)ms" }
        if milliseconds < 60_000 { return String(format: "%.1fs", Double(milliseconds) / 1000) }
        return "\(milliseconds / 60_000)m\(milliseconds % 60_000 / 1000)s"
    }

    static func age(_ date: Date) -> String {
        let seconds = Int(Date().timeIntervalSince(date))
        if seconds < 60 { return "\(max(0, seconds))s ago" }
        if seconds < 3600 { return "\(seconds / 60)m ago" }
        if seconds < 86400 { return "\(seconds / 3600)h ago" }
        return "\(seconds / 86400)d ago"
    }
}
