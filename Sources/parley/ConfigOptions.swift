import ArgumentParser
import Foundation
import ParleyCore
import ParleyEngine
import ParleyStore

/// `--config`, shared by every subcommand, and what it takes to start an engine from it.
struct ConfigOptions: ParsableArguments {
    @Option(name: .long, help: "The configuration file (default: ./parley.yaml if present, else built-in defaults).")
    var config: String?

    @Option(name: .long, help: "Where Parley keeps its database (overrides data_dir).")
    var dataDir: String?

    /// Loads and validates the configuration, or prints every problem and exits with status 78.
    func load() throws -> ParleyConfig {
        var config = try loadFile()
        if let dataDir {
            config.dataDirectory = URL(fileURLWithPath: dataDir).standardizedFileURL.path
        }
        return config
    }

    private func loadFile() throws -> ParleyConfig {
        let loader = ConfigLoader(builtins: Builtins.declarations)
        let workingDirectory = FileManager.default.currentDirectoryPath
        let path: String
        if let config {
            path = config
        } else if FileManager.default.fileExists(atPath: "parley.yaml") {
            path = "parley.yaml"
        } else {
            return ParleyConfig.defaults(workingDirectory: workingDirectory)
        }
        do {
            return try loader.load(path: path)
        } catch {
            printError(error.description)
            printError(
                "parley: the configuration has \(error.issues.count) problem\(error.issues.count == 1 ? "" : "s"); nothing was started"
            )
            throw ExitCode(ExitStatus.config)
        }
    }

    /// Opens the store the configuration names (SQLite in the data directory unless `storage:` says
    /// otherwise); a store that cannot be opened is reported and ends the command.
    static func openStore(_ config: ParleyConfig) async throws -> any ParleyStorage {
        do {
            return try await StoreOpener.open(
                config.storage, dataDirectory: config.dataDirectory, environment: ProcessInfo.processInfo.environment)
        } catch {
            printError("parley: \(error)")
            throw ExitCode(ExitStatus.store)
        }
    }

    /// Opens the store and builds an engine, settling runs a previous process left unfinished.
    func engine(resumeRunbooks: Bool = false) async throws -> Engine {
        let config = try load()
        let store = try await Self.openStore(config)
        let engine = Engine(config: config, store: store)
        _ = try await engine.start(resumeRunbooks: resumeRunbooks)
        return engine
    }
}

/// Options naming who is speaking.
struct SpeakerOptions: ParsableArguments {
    @Option(name: .customLong("as"), help: "Speak as this identity, e.g. slack:U024BE7LH (default: local:$USER).")
    var identity: String?

    func resolve() throws -> Identity {
        if let identity {
            guard let parsed = Identity(identity) else {
                throw ValidationError("'\(identity)' is not an identity; write platform:id, as in local:alice")
            }
            return parsed
        }
        let name = ProcessInfo.processInfo.environment["USER"].flatMap { $0.isEmpty ? nil : $0 } ?? currentUserName()
        return Identity(platform: "local", id: name)
    }

    private func currentUserName() -> String {
        guard let entry = getpwuid(getuid()), let name = entry.pointee.pw_name else { return "user" }
        return String(cString: name)
    }
}

/// Exit statuses of `parley`, distinct per kind of failure so scripts can tell them apart.
enum ExitStatus {
    static let failed: Int32 = 1
    static let unknownCommand: Int32 = 2
    static let invalidArguments: Int32 = 3
    static let denied: Int32 = 4
    static let timedOut: Int32 = 5
    static let pending: Int32 = 6
    static let tampered: Int32 = 9
    static let store: Int32 = 74
    static let config: Int32 = 78
}

func printError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}
