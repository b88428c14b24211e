import Foundation
import Logging
import ParleyCore

/// Where incidents are talked about beyond the room a command came from: stakeholder rooms, and
/// a dedicated room where the platform can make one.
enum IncidentRooms {
    static let logger = Logger(label: "parley.incidents")

    /// Posts `text` to each room but `except`; returns how many were told. A room that cannot be
    /// posted to is logged and skipped: the incident goes on.
    @discardableResult
    static func announce(
        _ incident: Incident, to rooms: [String], except: String, call: BuiltinCall, _ text: () -> String
    ) async -> Int {
        guard let messenger = call.services.messenger.messenger else { return 0 }
        var targets = rooms.filter { $0 != except }
        if let room = incident.room, room != except, !targets.contains(room) { targets.append(room) }
        guard !targets.isEmpty else { return 0 }
        let reply = Reply.text(call.services.masker.mask(text()))
        var told = 0
        for room in targets {
            do {
                _ = try await messenger.send(reply, to: room, thread: nil)
                told += 1
            } catch {
                logger.warning("cannot tell \(room) about \(incident.name): \(error)")
            }
        }
        return told
    }

    /// Makes the incident's dedicated room on the declaring platform, inviting the declarer and the
    /// commander, when the configuration asks for one and the platform can; returns `platform:room`.
    static func open(_ incident: Incident, call: BuiltinCall) async -> String? {
        let settings = call.services.incidents
        guard settings.createRooms, let messenger = call.services.messenger.messenger else { return nil }
        let name = roomName(incident, prefix: settings.roomPrefix)
        var people = Set([incident.declaredBy])
        if let commander = incident.roles["commander"] { people.insert(commander) }
        let invite = people.sorted().flatMap { user in
            (call.services.directory.users[user]?.identities ?? []).filter { $0.platform == call.platform }.map(\.id)
        }
        do {
            guard
                let room = try await messenger.createRoom(
                    platform: call.platform, name: name,
                    topic: "\(incident.name) (\(incident.severity)): \(incident.title)", inviting: invite,
                    near: call.room)
            else { return nil }
            return "\(call.platform):\(room)"
        } catch {
            logger.warning("cannot make a room for \(incident.name) on \(call.platform): \(error)")
            return nil
        }
    }

    /// `inc-42-checkout-errors-on-eu`: lowercase letters, digits and dashes, at most 60 characters.
    static func roomName(_ incident: Incident, prefix: String) -> String {
        var slug = ""
        for character in incident.title.lowercased() {
            if character.isASCII && (character.isLetter || character.isNumber) {
                slug.append(character)
            } else if !slug.hasSuffix("-") {
                slug.append("-")
            }
        }
        let base = "\(prefix)-\(incident.number ?? 0)"
        let trimmed = slug.trimmingCharacters(in: CharacterSet(charactersIn: "-"))
        return String((trimmed.isEmpty ? base : "\(base)-\(trimmed)").prefix(60))
            .trimmingCharacters(in: CharacterSet(charactersIn: "-"))
    }
}
