import ArgumentParser
import Crypto
import Foundation
import ParleyCore
import ParleyEngine
import ParleyStore

/// `parley audit …`: verify, export and follow the audit log.
struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit", abstract: "Verify, export and follow the tamper-evident audit log.",
        subcommands: [Verify.self, Export.self, Tail.self, PublicKey.self])

    /// The signing key the configuration names (`audit.signing_key`, or the data directory's key file).
    static func signingKey(_ config: ParleyConfig) throws -> Curve25519.Signing.PrivateKey {
        do {
            return try AuditKeys.load(config.audit, dataDirectory: config.dataDirectory)
        } catch {
            printError("parley: \(error)")
            throw ExitCode(ExitStatus.config)
        }
    }

    /// Opens the store and the key named by the configuration, without starting an engine.
    static func open(_ options: ConfigOptions) async throws -> (any ParleyStorage, ParleyConfig) {
        let config = try options.load()
        return (try await ConfigOptions.openStore(config), config)
    }

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Walk the chain and name the first entry that was altered, removed, inserted or reordered.",
            discussion: """
                Also fails when checkpoints are missing where the schedule (audit.checkpoint_every and \
                checkpoint_interval) says they must be, and when the chain no longer extends a head a \
                witness kept (--witness). Exit status 0 when the log is intact, 9 when it was tampered with.
                """)

        @OptionGroup var configOptions: ConfigOptions
        @Option(help: "Verify an export file (from `parley audit export`) instead of the database.")
        var export: String?
        @Option(
            help:
                "The base64 Ed25519 public key to check signatures with (`parley audit public-key`); needed with --export."
        )
        var publicKey: String?
        @Option(
            name: .customLong("witness"),
            help:
                "A witness (a file from audit.witnesses or an earlier export, or an http(s) witness URL, read with GET) whose signed heads the chain must still extend; repeatable."
        )
        var witnesses: [String] = []

        func run() async throws {
            var witnessed: [AuditWitnessedHead] = []
            let isURL = { (witness: String) in witness.hasPrefix("http://") || witness.hasPrefix("https://") }
            for path in witnesses where !isURL(path) && !FileManager.default.isReadableFile(atPath: path) {
                throw ValidationError("--witness \(path): cannot read the file")
            }
            // An unreachable witness proves nothing either way: it is an error, not tampering.
            var fetched: [String: String] = [:]
            for url in witnesses where isURL(url) {
                do {
                    fetched[url] = try await HTTPWitness(url: url).kept()
                } catch {
                    printError("parley: \(error)")
                    throw ExitCode(ExitStatus.failed)
                }
            }
            do {
                for witness in witnesses {
                    witnessed +=
                        try fetched[witness].map { try AuditVerification.witnessedHeads(text: $0, source: witness) }
                        ?? AuditVerification.witnessedHeads(path: witness)
                }
            } catch {
                print("TAMPERED: \(error)")
                throw ExitCode(ExitStatus.tampered)
            }
            let given = try publicKey.map { text in
                guard let key = AuditKeys.publicKey(from: text) else {
                    throw ValidationError("--public-key is not a base64 Ed25519 public key")
                }
                return key
            }
            let outcome: AuditVerification.Outcome
            if let export {
                guard let key = given else {
                    throw ValidationError(
                        "--export needs --public-key with the base64 key `parley audit public-key` prints")
                }
                outcome = try AuditVerification.verifyExport(path: export, publicKey: key, witnessed: witnessed)
            } else {
                let (store, config) = try await AuditCommand.open(configOptions)
                let key = try given ?? AuditCommand.signingKey(config).publicKey
                outcome = try await AuditVerification.verifyStore(
                    store, publicKey: key, schedule: config.audit.schedule, witnessed: witnessed)
            }
            if let problem = outcome.problem {
                print("TAMPERED: \(problem)")
                throw ExitCode(ExitStatus.tampered)
            }
            print(
                "intact: \(outcome.entries) entries, \(outcome.checkpoints) signed checkpoint\(outcome.checkpoints == 1 ? "" : "s")"
            )
            if outcome.witnessed > 0 {
                print("extends all \(outcome.witnessed) witnessed head\(outcome.witnessed == 1 ? "" : "s")")
            }
            if let last = outcome.lastSeq {
                if let signed = outcome.signedThrough, signed >= last {
                    print("signed through #\(signed), the last entry")
                } else {
                    let through = outcome.signedThrough.map { "#\($0)" } ?? "no entry"
                    print("warning: signatures cover \(through); entries up to #\(last) are chained but not yet signed")
                }
            }
        }
    }

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Export audit entries for a SIEM: JSONL (with signed checkpoints) or CSV.")

        @OptionGroup var configOptions: ConfigOptions
        @Option(help: "jsonl or csv.") var format: String = "jsonl"
        @Option(help: "Only entries at or after this time (ISO 8601 or YYYY-MM-DD).") var since: String?
        @Option(help: "Only entries before this time.") var until: String?
        @Option(help: "Only this user's entries.") var user: String?
        @Option(name: .shortAndLong, help: "Write to this file instead of standard output.") var output: String?

        func run() async throws {
            guard format == "jsonl" || format == "csv" else { throw ValidationError("--format is jsonl or csv") }
            let sinceDate = try since.map { try Self.date($0, "--since") }
            let untilDate = try until.map { try Self.date($0, "--until") }
            let (store, config) = try await AuditCommand.open(configOptions)
            let key = try AuditCommand.signingKey(config)
            let query = AuditQuery(actor: user, since: sinceDate, until: untilDate, limit: Int.max)
            let log = AuditLog(
                store: store, masker: SecretMasker(values: []), signingKey: key, schedule: config.audit.schedule,
                witnesses: AuditWitnesses.make(config.audit.witnesses))
            let text = try await AuditExport.render(store: store, query: query, format: format, key: key, log: log)
            if let output {
                try text.write(toFile: output, atomically: true, encoding: .utf8)
            } else {
                FileHandle.standardOutput.write(Data(text.utf8))
            }
        }

        static func date(_ text: String, _ option: String) throws -> Date {
            guard let date = AuditClock.parse(text) else {
                throw ValidationError("\(option) '\(text)' is not a date; write 2026-11-26 or 2026-11-26T10:00:00Z")
            }
            return date
        }
    }

    struct Tail: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the newest audit entries; -f keeps following.")

        @OptionGroup var configOptions: ConfigOptions
        @Option(name: .customShort("n"), help: "How many entries to show first.") var lines: Int = 20
        @Flag(name: .short, help: "Keep printing new entries as they are appended.") var follow = false

        func run() async throws {
            let (store, _) = try await AuditCommand.open(configOptions)
            let newest = try await store.auditEntries(AuditQuery(limit: max(0, lines), newestFirst: true))
            var last = newest.first?.seq ?? 0
            for entry in newest.reversed() { print(AuditExport.line(entry)) }
            while follow {
                try await Task.sleep(for: .seconds(1))
                for entry in try await store.auditEntries(AuditQuery(afterSeq: last, limit: 1000)) {
                    print(AuditExport.line(entry))
                    last = entry.seq
                }
                fflush(nil)
            }
        }
    }

    struct PublicKey: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "public-key", abstract: "Print the public key that verifies this log's checkpoints.")

        @OptionGroup var configOptions: ConfigOptions

        func run() async throws {
            let config = try configOptions.load()
            print(AuditKeys.publicKeyText(try AuditCommand.signingKey(config)))
        }
    }
}
