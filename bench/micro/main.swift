// CPU per operation of the store's fast paths against the libraries' ways. Build and run in release:
//   swift build -c release -Xswiftc -enable-testing --product parley-microbench --scratch-path .build-microbench
//   .build-microbench/release/parley-microbench
// (`-enable-testing` lets this read the store's internal types; see bench/micro/README.md.)
import Foundation
import GRDB
import ParleyCore

@testable import ParleyStore

/// CPU time of the whole process (every thread, user and system), in nanoseconds.
func cpuNanoseconds() -> UInt64 {
    var time = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &time)
    return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
}

let runs = 5

/// The median over `runs` runs of CPU nanoseconds per operation, `count` operations a run.
func measure(_ count: Int, _ body: () throws -> Int) rethrows -> Double {
    var perRun: [Double] = []
    var sink = 0
    for _ in 0..<runs {
        let start = cpuNanoseconds()
        for _ in 0..<count { sink &+= try body() }
        perRun.append(Double(cpuNanoseconds() - start) / Double(count))
    }
    if sink == 42 { print("") }
    return perRun.sorted()[runs / 2]
}

/// `measure` for an operation that awaits.
func measureAsync(_ count: Int, _ body: () async throws -> Int) async rethrows -> Double {
    var perRun: [Double] = []
    var sink = 0
    for _ in 0..<runs {
        let start = cpuNanoseconds()
        for _ in 0..<count { sink &+= try await body() }
        perRun.append(Double(cpuNanoseconds() - start) / Double(count))
    }
    if sink == 42 { print("") }
    return perRun.sorted()[runs / 2]
}

func report(_ name: String, fast: Double, library: Double) {
    let line = String(
        format: "%-44@ fast %10.0f ns   library %10.0f ns   library/fast %6.2fx", name as NSString, fast, library,
        library / fast)
    print(line)
}

func reportOperation(_ name: String, _ nanoseconds: Double) {
    print(String(format: "%-44@ %10.0f ns per operation", name as NSString, nanoseconds))
}

let dates = (0..<1000).map { _ in Date(timeIntervalSince1970: Double.random(in: 0..<4_000_000_000)) }
var dateIndex = 0
func nextDate() -> Date {
    dateIndex = (dateIndex + 1) % dates.count
    return dates[dateIndex]
}

let arguments = ["who": "alice", "where": "prod"]
let labels = [
    "alertname": "HighLatency", "instance": "web-17:9100", "job": "node", "severity": "page", "service": "checkout",
    "env": "prod",
]

func run(_ index: Int) -> RunRecord {
    RunRecord(
        createdAt: nextDate(), userName: "alice", identity: "irc:alice", room: "#ops", text: "greet alice prod",
        commandID: "greet", arguments: arguments, decision: .allowed, reason: "role ops", status: .running,
        output: "", owner: "node-1")
}

func drafts(runID: Int64?) -> [AuditDraft] {
    [AuditKind.received, .started, .finished].map {
        AuditDraft(
            kind: $0, actor: "alice", identity: "irc:alice", room: "#ops", command: "greet", arguments: arguments,
            decision: "allowed", outcome: $0 == .finished ? "ok" : "", runID: runID)
    }
}

print("parley-microbench: median of \(runs) runs, CPU time per operation (process clock)")
print()
print("-- the paths, each against the library's way")
report(
    "date as stored text (StoredDate / GRDB)",
    fast: measure(200_000) { StoredDate.text(nextDate()).utf8.count },
    library: measure(200_000) { StoredDate.grdbText(nextDate())?.utf8.count ?? 0 })
report(
    "command arguments, 2 keys (JSONText / JSONEncoder)",
    fast: measure(200_000) { AuditEntry.canonicalJSON(arguments).utf8.count },
    library: measure(200_000) { AuditEntry.encoderJSON(arguments).utf8.count })
report(
    "alert labels, 6 keys (JSONText / JSONEncoder)",
    fast: measure(200_000) { JSONText.object(labels).utf8.count },
    library: measure(200_000) { AuditEntry.encoderJSON(labels).utf8.count })

let memory = try DatabaseQueue()
try SQLiteMigrations.migrator.migrate(memory)
let rowFast = try memory.write { db in
    try measure(50_000) { Int(try RunRow.insert(run(0), db).id ?? 0) }
}
let rowLibrary = try memory.write { db in
    try measure(50_000) {
        var row = RunRow(run(0))
        try row.insert(db)
        return Int(row.id ?? 0)
    }
}
report("run row insert (hand-written SQL / GRDB record)", fast: rowFast, library: rowLibrary)

let directory = FileManager.default.temporaryDirectory.appendingPathComponent("parley-microbench-\(UUID())")
defer { try? FileManager.default.removeItem(at: directory) }
let store = try SQLiteStore(dataDirectory: directory.path)

print()
print("-- the operations they serve (synced SQLite commits, as in production)")
let command = try await measureAsync(300) {
    let results = try await store.commitAudit(
        [AuditCommit(drafts: drafts(runID: nil), insertingRun: run(0))], at: Date())
    return results.count
}
reportOperation("one command: run row + 3 audit entries", command)
var alertNumber = 0
let alert = try await measureAsync(300) {
    alertNumber += 1
    var alertLabels = labels
    alertLabels["instance"] = "web-\(alertNumber):9100"
    return try await store.recordAlerts(
        [Alert(source: "alertmanager", status: .firing, labels: alertLabels, annotations: ["summary": "slow"])],
        at: Date()
    ).count
}
reportOperation("one alert (one per request)", alert)
let alertBatch = try await measureAsync(100) {
    let batch = (0..<20).map { index in
        alertNumber += 1
        var alertLabels = labels
        alertLabels["instance"] = "web-\(alertNumber)-\(index):9100"
        return Alert(source: "alertmanager", status: .firing, labels: alertLabels, annotations: ["summary": "slow"])
    }
    return try await store.recordAlerts(batch, at: Date()).count
}
reportOperation("one alert (20 per request)", alertBatch / 20)

print()
print("-- audit verify over the whole chain (per entry)")
for _ in 0..<100 {
    let commits = (0..<100).map { _ in AuditCommit(drafts: drafts(runID: 7)) }
    _ = try await store.commitAudit(commits, at: Date())
}
let chainLength = try await store.lastAuditEntry()?.seq ?? 0
let rawVerify = try await measureAsync(1) {
    let verifier = try await store.feedAuditChain(
        to: AuditVerifier(fromGenesis: true), segments: 1, minimumLength: .max)
    precondition(verifier.problem == nil && verifier.count == chainLength)
    return Int(verifier.count)
}
let reader = try DatabaseQueue(path: store.path)
let recordVerify = try measure(1) {
    try reader.read { db in
        var verifier = AuditVerifier(fromGenesis: true)
        let entries = try AuditEntry.fetchCursor(db, sql: "SELECT * FROM audit ORDER BY seq")
        while let entry = try entries.next() { verifier.feed(entry) }
        precondition(verifier.problem == nil && verifier.count == chainLength)
        return Int(verifier.count)
    }
}
let rowVerify = try measure(1) {
    try reader.read { db in
        var verifier = AuditVerifier(fromGenesis: true)
        let rows = try Row.fetchCursor(db, sql: "SELECT * FROM audit ORDER BY seq")
        while let row = try rows.next() {
            verifier.feed(
                AuditEntry(
                    seq: row["seq"], at: row["at"], kind: row["kind"], actor: row["actor"], identity: row["identity"],
                    room: row["room"], command: row["command"], arguments: row["arguments"],
                    decision: row["decision"], outcome: row["outcome"], runID: row["runID"], detail: row["detail"],
                    previousHash: row["previousHash"], hash: row["hash"]))
        }
        precondition(verifier.problem == nil && verifier.count == chainLength)
        return Int(verifier.count)
    }
}
let perEntry = Double(chainLength)
report(
    "verify, \(chainLength) entries (raw / GRDB record)", fast: rawVerify / perEntry, library: recordVerify / perEntry)
report("verify, \(chainLength) entries (raw / GRDB rows)", fast: rawVerify / perEntry, library: rowVerify / perEntry)
