import ArgumentParser
import Foundation
import ParleyCore
import ParleyEngine
import ParleyStore

/// `parley incident`: incidents from the command line, read from the store.
struct IncidentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "incident", abstract: "List incidents and export their postmortem drafts.",
        subcommands: [List.self, Export.self])

    /// `parley incident list [--all]`.
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List open incidents (--all: past ones too).")
        @OptionGroup var configOptions: ConfigOptions
        @Flag(help: "Include resolved and closed incidents.") var all = false

        func run() async throws {
            let config = try configOptions.load()
            let store = try await ConfigOptions.openStore(config)
            let incidents = try await store.incidents(IncidentQuery(openOnly: !all, limit: 1000))
            await store.close()
            if incidents.isEmpty { print(all ? "no incidents" : "no open incidents") }
            let now = Date()
            for incident in incidents {
                print(
                    "\(incident.name)  \(incident.severity)  \(incident.status.rawValue)  \(IncidentViews.span(incident.duration(now: now)))  \(incident.title)"
                )
            }
        }
    }

    /// `parley incident export INC-42 --format md|json`.
    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print an incident's postmortem draft: summary, impact, timeline traced to the audit log, tasks.")
        @OptionGroup var configOptions: ConfigOptions
        @Argument(help: "The incident, as INC-42 or 42.") var incident: String
        @Option(help: "md or json.") var format = "md"

        func validate() throws {
            guard IncidentNumber.parse(incident) != nil else {
                throw ValidationError("'\(incident)' is not an incident number; write INC-42")
            }
            guard ["md", "json"].contains(format) else { throw ValidationError("--format is md or json") }
        }

        func run() async throws {
            let config = try configOptions.load()
            let store = try await ConfigOptions.openStore(config)
            let number = IncidentNumber.parse(incident) ?? 0
            let report = try await IncidentReport.gather(number: number, store: store)
            await store.close()
            guard let report else {
                throw ValidationError("there is no incident \(IncidentNumber.format(number)) in this store")
            }
            print(format == "md" ? report.markdown() : try report.json(), terminator: format == "md" ? "" : "\n")
        }
    }
}
