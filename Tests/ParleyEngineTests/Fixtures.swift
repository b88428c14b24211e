import Foundation
import ParleyCore
import ParleyEngine
import ParleyStore

func temporaryDirectory() -> String {
    let path = NSTemporaryDirectory() + "parley-test-" + UUID().uuidString
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// Writes an executable script into `directory`.
@discardableResult
func writeScript(_ name: String, in directory: String, _ body: String) throws -> String {
    let path = directory + "/" + name
    try ("#!/bin/sh\n" + body + "\n").write(toFile: path, atomically: true, encoding: .utf8)
    try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
    return path
}

/// An engine over a real SQLite store in a fresh directory, configured from YAML.
func makeEngine(_ yaml: String, directory: String = temporaryDirectory(), grace: Duration = .seconds(5)) throws
    -> (Engine, SQLiteStore)
{
    let config = try ConfigLoader(builtins: Builtins.declarations, environment: ["HOME": "/root"])
        .load(yaml: yaml, file: "test.yaml", baseDirectory: directory)
    let store = try SQLiteStore(dataDirectory: config.dataDirectory)
    return (
        Engine(config: config, store: store, executors: [ExecExecutor(terminationGrace: grace), HTTPExecutor()]), store
    )
}

func say(
    _ text: String, as identity: String = "local:alice", room: String = "terminal", direct: Bool = true,
    eventID: String? = nil
) -> Inbound {
    Inbound(sender: Identity(identity)!, room: room, eventID: eventID, text: text, isDirect: direct)
}

/// True while a process with this pid exists (and is not a zombie we could reap).
func processExists(_ pid: Int32) -> Bool {
    kill(pid, 0) == 0 || errno != ESRCH
}

struct MissingRun: Error {}

extension RunStore {
    /// The run with this id, or a test failure.
    func requireRun(_ id: Int64?) async throws -> RunRecord {
        guard let id, let run = try await run(id: id) else { throw MissingRun() }
        return run
    }
}

/// A configuration where `local:alice` may run everything, with these commands (indented by two).
func commands(_ yaml: String) -> String {
    """
    users: { alice: { roles: [ops], identities: ["local:alice"] } }
    roles: { ops: { allow: ["*"] } }
    commands:

    """ + yaml
}
