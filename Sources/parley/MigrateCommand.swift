import ArgumentParser
import Foundation
import ParleyCore
import ParleyStore

/// `parley migrate`: moves a team's SQLite history into PostgreSQL, for running several replicas.
struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Copy a SQLite store's whole history into an empty PostgreSQL database.",
        discussion: """
            Runs, the audit chain (verified before and after), approvals and votes, alerts, passwords, \
            sessions and API tokens are copied in one transaction: on any error the database is left empty. \
            Stop every parley serve that uses the SQLite file first; then point storage: at the database.
            """)

    @Option(help: "The SQLite store to copy: sqlite:PATH (default: parley.sqlite in the data directory).")
    var from: String?
    @Option(
        help: """
            The PostgreSQL database: postgres://USER:PASSWORD@HOST:PORT/DATABASE, or env:NAME or file:PATH \
            holding that URL (default: the configuration's storage).
            """)
    var to: String?
    @OptionGroup var configOptions: ConfigOptions

    func run() async throws {
        let config = try configOptions.load()
        let workingDirectory = FileManager.default.currentDirectoryPath
        let sourcePath = try sqlitePath(config, workingDirectory: workingDirectory)
        let location = try postgresLocation(config, workingDirectory: workingDirectory)
        guard FileManager.default.fileExists(atPath: sourcePath) else {
            printError("parley: there is no SQLite store at \(sourcePath)")
            throw ExitCode(ExitStatus.store)
        }
        let settings: PostgresSettings
        switch location.resolve(environment: ProcessInfo.processInfo.environment) {
        case .success(let resolved): settings = resolved
        case .failure(let error): throw ValidationError("--to: \(error.message)")
        }
        let source: SQLiteStore
        let target: PostgresStore
        do {
            source = try SQLiteStore(path: sourcePath)
            target = try await PostgresStore.connect(settings)
        } catch {
            printError("parley: \(error)")
            throw ExitCode(ExitStatus.store)
        }
        do {
            let copied = try await StoreTransfer.copy(from: source, to: target)
            await target.close()
            for table in copied { print("\(table.table): \(table.rows)") }
            let entries = copied.first { $0.table == "audit" }?.rows ?? 0
            print("copied \(sourcePath) to \(settings.url.redacted); the audit chain of \(entries) entries verifies")
        } catch {
            await target.close()
            printError("parley: \(error)")
            throw ExitCode(ExitStatus.store)
        }
    }

    private func sqlitePath(_ config: ParleyConfig, workingDirectory: String) throws -> String {
        guard let from else {
            if case .sqlite(let path) = config.storage, let path { return path }
            return (config.dataDirectory as NSString).appendingPathComponent("parley.sqlite")
        }
        switch StorageSettings.parse(from, baseDirectory: workingDirectory) {
        case .success(.sqlite(let path)):
            return path ?? (config.dataDirectory as NSString).appendingPathComponent("parley.sqlite")
        case .success(.postgres):
            throw ValidationError(
                "--from must be a SQLite store (sqlite:PATH); copying between databases is not supported")
        case .failure(let error):
            throw ValidationError("--from: \(error.message)")
        }
    }

    private func postgresLocation(_ config: ParleyConfig, workingDirectory: String) throws -> PostgresLocation {
        guard let to else {
            guard case .postgres(let location) = config.storage else {
                throw ValidationError("--to is needed: the configuration's storage is SQLite")
            }
            return location
        }
        if let reference = SecretReference(to, baseDirectory: workingDirectory) {
            return PostgresLocation(url: .secret(reference))
        }
        switch StorageSettings.parse(to, baseDirectory: workingDirectory) {
        case .success(.postgres(let location)): return location
        case .success(.sqlite): throw ValidationError("--to must be a PostgreSQL database (postgres://…)")
        case .failure(let error): throw ValidationError("--to: \(error.message)")
        }
    }
}
