import ParleyCore
import ParleyStore

/// Turns an action's output into a chat reply: the output's tail as code, then a one-line summary.
enum RunReply {
    static func make(
        run: RunRecord, result: ActionResult, limits: ReplyLimits, template: String? = nil, runPageURL: String? = nil
    ) -> Reply {
        let id = run.id ?? 0
        var blocks: [ReplyBlock] = []
        if let template, result.status == .succeeded {
            blocks.append(.text(template))
            if let table = result.table { blocks.append(.table(header: table.header, rows: table.rows)) }
            return Reply(blocks)
        }
        if let table = result.table, result.status == .succeeded {
            blocks.append(.table(header: table.header, rows: table.rows))
            blocks.append(.text("run #\(id) succeeded in \(RunViews.duration(run.durationMilliseconds))"))
            return Reply(blocks)
        }
        let (shown, cutLines) = tail(of: result.output, limits: limits)
        if cutLines > 0 {
            let pages = OutputPages(result.output, limits: limits).count
            var note = "… \(cutLines) earlier line\(cutLines == 1 ? "" : "s") cut; `run \(id) --page 1` shows them"
            note += " from the start (\(pages) pages)"
            if let runPageURL { note += ", or all at once: \(runPageURL)\(id)" }
            blocks.append(.text(note))
        }
        if !shown.isEmpty { blocks.append(.code(shown)) }
        if result.outputTruncated {
            blocks.append(.text("(output beyond the action's max_output was not kept)"))
        }
        let took = RunViews.duration(run.durationMilliseconds)
        let summary: String
        switch result.status {
        case .succeeded: summary = "run #\(id) succeeded in \(took)"
        case .timedOut: summary = "run #\(id) \(result.message ?? "timed out")"
        case .failed:
            if let code = result.exitCode {
                summary = "run #\(id) failed with exit status \(code) after \(took)"
            } else {
                summary = "run #\(id) failed: \(result.message ?? "unknown error")"
            }
        case .cancelled: summary = "run #\(id) was \(result.message ?? "cancelled")"
        case .interrupted: summary = "run #\(id) was interrupted: \(result.message ?? "Parley stopped")"
        default: summary = "run #\(id) \(result.status.rawValue)"
        }
        blocks.append(.text(summary))
        return Reply(blocks)
    }

    /// The last lines of `output` within the limits, and how many lines were left out.
    static func tail(of output: String, limits: ReplyLimits) -> (String, Int) {
        var lines = output.split(separator: "\n", omittingEmptySubsequences: false)
        if lines.last == "" { lines.removeLast() }
        var kept: [Substring] = []
        var characters = 0
        for line in lines.reversed() {
            if kept.count >= limits.maxLines || characters + line.count + 1 > limits.maxCharacters {
                if kept.isEmpty {
                    kept.append(line.suffix(limits.maxCharacters))
                }
                break
            }
            kept.append(line)
            characters += line.count + 1
        }
        return (kept.reversed().joined(separator: "\n"), lines.count - kept.count)
    }
}
