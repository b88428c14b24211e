import Foundation
import Yams

/// Reads `oncall:`: schedules of layered rotations, each problem reported with its line.
///
/// ```yaml
/// oncall:
///   schedules:
///     payments:
///       time_zone: Europe/Paris
///       handoff_room: "irc:#ops"
///       layers:
///         - name: primary
///           rotation: weekly            # daily | weekly | { every: 12h }
///           start: "2026-01-05 09:00"   # wall time in time_zone
///           people: [alice, bob, carol]
///           restrict: { days: mon-fri, hours: "09:00-18:00" }
/// ```
struct OnCallReader {
    let reader: YAMLReader
    /// The configured users, when known: people must be among them.
    var users: Set<String>?
    /// The configured platforms, when known: a handoff room must be on one of them.
    var platforms: Set<String>?

    static let shortestRotation = 3600
    static let longestRotation = 366 * 86400

    /// Reads the `oncall:` section of a YAML document, with every problem found in it (and only
    /// those: other top-level keys are left alone). For tests and one-section checks.
    static func read(
        yaml: String, file: String, environment: [String: String] = [:], users: Set<String>? = nil,
        platforms: Set<String>? = nil
    ) -> (settings: OnCallSettings, issues: [ConfigIssue]) {
        let reader = YAMLReader(file: file, environment: environment)
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch {
            reader.report(line: 0, column: 0, "not YAML: \(error)")
            return (OnCallSettings(), reader.issues)
        }
        guard let section = root.flatMap({ $0.mapping?["oncall"] }) else { return (OnCallSettings(), []) }
        let settings = OnCallReader(reader: reader, users: users, platforms: platforms).read(section)
        return (settings, reader.issues.sorted { ($0.line, $0.column) < ($1.line, $1.column) })
    }

    /// Reads the value of `oncall:`.
    func read(_ node: Node) -> OnCallSettings {
        var settings = OnCallSettings()
        for entry in reader.mapping(node, "oncall", allowed: ["schedules"]) {
            for schedule in reader.mapping(entry.value, "oncall schedules") {
                if let read = readSchedule(schedule.value, name: schedule.key, keyNode: schedule.keyNode) {
                    settings.schedules.append(read)
                }
            }
        }
        return settings
    }

    private func readSchedule(_ node: Node, name: String, keyNode: Node) -> OnCallSchedule? {
        guard !name.isEmpty, name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") })
        else {
            reader.report(keyNode, "a schedule's name is letters, digits, - and _, as in payments or web-oncall")
            return nil
        }
        let owner = "schedule '\(name)'"
        var zone: TimeZone?
        var room: String?
        var layers: [OnCallLayer] = []
        let fields = reader.mapping(node, owner, allowed: ["time_zone", "handoff_room", "layers"])
        for field in fields {
            switch field.key {
            case "time_zone": zone = timeZone(field.value, owner: owner)
            case "handoff_room": room = self.room(field.value)
            default: layers = readLayers(field.value, owner: owner)
            }
        }
        guard case .mapping = node else { return nil }
        let given = Set(fields.map(\.key))
        if !given.contains("time_zone") {
            reader.report(node, "\(owner) needs time_zone, an IANA name such as Europe/Paris or America/New_York")
        }
        if !given.contains("layers") { reader.report(node, "\(owner) needs layers: at least one rotation of people") }
        guard let zone, !layers.isEmpty else { return nil }
        return OnCallSchedule(name: name, timeZone: zone, layers: layers, handoffRoom: room)
    }

    private func timeZone(_ node: Node, owner: String) -> TimeZone? {
        guard let text = reader.string(node, "time_zone") else { return nil }
        let known = TimeZone.knownTimeZoneIdentifiers
        // An abbreviation (PST, EST) is a fixed offset all year, which is never what a rotation means.
        if let zone = TimeZone(identifier: text), known.contains(text) || text.contains("/") || text == "UTC" {
            return zone
        }
        if let exact = known.first(where: { $0.lowercased() == text.lowercased() }) {
            reader.report(node, "unknown time zone '\(text)'; zone names are case-sensitive: did you mean '\(exact)'?")
            return nil
        }
        let near = known.map { ($0, EditDistance.between($0, text)) }.filter { $0.1 <= max(2, text.count / 4) }
            .sorted { ($0.1, $0.0) < ($1.1, $1.0) }
        let hint = near.first.map { "did you mean '\($0.0)'?" } ?? "write an IANA name such as Europe/Paris or UTC"
        if TimeZone(identifier: text) != nil {
            reader.report(
                node,
                "time zone '\(text)' in \(owner) is an abbreviation with one offset all year; write an IANA name "
                    + "such as America/New_York or Europe/Paris")
        } else {
            reader.report(node, "unknown time zone '\(text)' in \(owner); \(hint)")
        }
        return nil
    }

    private func room(_ node: Node) -> String? {
        guard let text = reader.string(node, "handoff_room") else { return nil }
        let parts = text.split(separator: ":", maxSplits: 1)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
            reader.report(node, "handoff_room '\(text)' must be platform:room, as in slack:C024BE91L or irc:#ops")
            return nil
        }
        if let platforms, !platforms.contains(String(parts[0])) {
            let known = platforms.sorted().joined(separator: ", ")
            reader.report(
                node,
                "handoff_room '\(text)' is on \(parts[0]), which is not configured under adapters"
                    + (known.isEmpty ? "" : " (configured: \(known))"))
        }
        return text
    }

    private func readLayers(_ node: Node, owner: String) -> [OnCallLayer] {
        guard case .sequence(let items) = node else {
            reader.report(node, "layers of \(owner) must be a list, each item with name, rotation, start and people")
            return []
        }
        if items.isEmpty { reader.report(node, "\(owner) needs at least one layer") }
        var names: [String: Node] = [:]
        var layers: [OnCallLayer] = []
        for item in items {
            guard let layer = readLayer(item, owner: owner) else { continue }
            if let first = names[layer.name] {
                let line = first.mark.map { " (line \($0.line))" } ?? ""
                reader.report(item, "\(owner) has two layers named '\(layer.name)'; the first is earlier\(line)")
                continue
            }
            names[layer.name] = item
            layers.append(layer)
        }
        return layers
    }

    private func readLayer(_ node: Node, owner: String) -> OnCallLayer? {
        let keys = ["name", "rotation", "start", "people", "restrict"]
        var name: String?
        var rotation: OnCallRotation?
        var start: WallClockTime?
        var people: [String]?
        var restriction: OnCallRestriction?
        var broken = false
        let fields = reader.mapping(node, "a layer of \(owner)", allowed: keys)
        for field in fields {
            switch field.key {
            case "name": name = reader.string(field.value, "a layer's name")
            case "rotation": rotation = readRotation(field.value)
            case "start": start = readStart(field.value)
            case "people": people = readPeople(field.value)
            default: restriction = readRestriction(field.value)
            }
            broken = broken || (field.key == "restrict" && restriction == nil)
        }
        guard case .mapping = node else { return nil }
        let layer = name.map { "layer '\($0)' of \(owner)" } ?? "a layer of \(owner)"
        let given = Set(fields.map(\.key))
        let missing = ["name", "rotation", "start", "people"].filter { !given.contains($0) }
        if !missing.isEmpty {
            reader.report(node, "\(layer) needs \(missing.joined(separator: ", "))" + Self.example(for: missing))
        }
        guard let name, let rotation, let start, let people, !people.isEmpty, !broken else { return nil }
        return OnCallLayer(name: name, rotation: rotation, start: start, people: people, restriction: restriction)
    }

    private static func example(for missing: [String]) -> String {
        guard let first = missing.first else { return "" }
        let examples = [
            "name": "name: primary", "rotation": "rotation: weekly", "start": "start: \"2026-01-05 09:00\"",
            "people": "people: [alice, bob]",
        ]
        return examples[first].map { " (as in \($0))" } ?? ""
    }

    private func readRotation(_ node: Node) -> OnCallRotation? {
        let usage = "rotation must be daily, weekly or { every: 12h }"
        if case .mapping = node {
            var rotation: OnCallRotation?
            let typos = reader.unknownKeys
            let fields = reader.mapping(node, "rotation", allowed: ["every"])
            for field in fields {
                guard let text = reader.string(field.value, "every") else { continue }
                guard let seconds = DurationText.seconds(text) else {
                    reader.report(field.value, "every '\(text)' is not a duration; write 12h, 3d or 1d12h")
                    continue
                }
                guard (Self.shortestRotation...Self.longestRotation).contains(seconds) else {
                    reader.report(field.value, "every '\(text)' must be at least 1h and at most 366d")
                    continue
                }
                rotation = .every(seconds: seconds)
            }
            if fields.isEmpty, reader.unknownKeys == typos { reader.report(node, usage) }
            return rotation
        }
        guard let text = reader.string(node, "rotation") else { return nil }
        switch text {
        case "daily": return .daily
        case "weekly": return .weekly
        default:
            let near = ["daily", "weekly"].first { EditDistance.between($0, text) <= 2 }
            let hint = near.map { "; did you mean '\($0)'?" } ?? ""
            if DurationText.seconds(text) != nil {
                reader.report(node, "\(usage): write { every: \(text) } for shifts of \(text)")
            } else {
                reader.report(node, "\(usage), got '\(text)'\(hint)")
            }
            return nil
        }
    }

    private func readStart(_ node: Node) -> WallClockTime? {
        guard let text = reader.string(node, "start") else { return nil }
        if let start = WallClockTime(parsing: text) { return start }
        let parts = text.split(whereSeparator: { $0 == " " || $0 == "T" })
        if parts.count == 2, let fields = WallClockTime.date(parts[0]), WallClockTime.clock(parts[1]) != nil {
            reader.report(node, "start '\(text)': \(ChatTime.dateProblem(fields))")
        } else {
            reader.report(node, "start '\(text)' is not a date and time; write \"2026-01-05 09:00\" (in time_zone)")
        }
        return nil
    }

    private func readPeople(_ node: Node) -> [String] {
        let people = reader.strings(node, "people")
        if people.isEmpty, case .sequence = node {
            reader.report(node, "people is empty: a layer needs at least one person")
        }
        for (person, personNode) in people {
            if person.isEmpty || person.contains(where: \.isWhitespace) {
                reader.report(personNode, "'\(person)' is not a user name")
            } else if let users, !users.contains(person) {
                let near = users.filter { EditDistance.between($0, person) <= 2 }.sorted()
                let hint = near.first.map { "; did you mean '\($0)'?" } ?? "; define it under users:"
                reader.report(personNode, "'\(person)' is not a user\(hint)")
            }
        }
        return people.map(\.0)
    }

    private func readRestriction(_ node: Node) -> OnCallRestriction? {
        var days = Set(OnCallWeekday.allCases)
        var hours: (String, Node)?
        var valid = true
        let typos = reader.unknownKeys
        let fields = reader.mapping(node, "restrict", allowed: ["days", "hours"])
        for field in fields {
            if field.key == "hours" {
                hours = reader.string(field.value, "hours").map { ($0, field.value) }
                valid = valid && hours != nil
                continue
            }
            var chosen: Set<OnCallWeekday> = []
            for (text, dayNode) in reader.strings(field.value, "days") {
                do {
                    chosen.formUnion(try OnCallWeekday.days(parsing: text))
                } catch {
                    reader.report(dayNode, "restrict days: \(error.message)")
                    valid = false
                }
            }
            if chosen.isEmpty, valid {
                reader.report(field.value, "restrict days is empty; write mon-fri, or leave days out for every day")
                valid = false
            }
            days = chosen
        }
        guard case .mapping = node else { return nil }
        if fields.isEmpty {
            guard reader.unknownKeys == typos else { return nil }
            reader.report(node, "restrict needs days or hours, as in { days: mon-fri, hours: \"09:00-18:00\" }")
            return nil
        }
        guard let (text, hoursNode) = hours else { return valid ? OnCallRestriction(days: days) : nil }
        do {
            let restriction = try OnCallRestriction(days: days, hours: text)
            return valid ? restriction : nil
        } catch {
            reader.report(hoursNode, "restrict \(error.message)")
            return nil
        }
    }
}
