import Foundation
import ParleyCore
import ParleyStore

/// `who is on call`, `oncall schedule`, `oncall override`, `oncall overrides`, `oncall unoverride`:
/// the schedules of `oncall:` with the overrides people made in chat (stored, shared by replicas).
enum OnCallCommands {
    static let all: [BuiltinCommand] = [
        BuiltinCommand(
            "who is on call [for {schedule}]", also: ["oncall who [{schedule}]"], id: "oncall.who",
            help: "Who is on call now, and who is next", examples: ["who is on call", "who is on call for payments"],
            changesNothing: true
        ) { try await IncidentCommands.answer($0, who) },
        BuiltinCommand(
            "oncall schedule {schedule} [--next {span:duration}]", id: "oncall.schedule",
            help: "A schedule's shifts for the next days (7 by default), in its time zone",
            examples: ["oncall schedule payments --next 14d"], changesNothing: true
        ) { try await IncidentCommands.answer($0, schedule) },
        BuiltinCommand(
            "oncall override [--schedule {schedule}] {person} {range:text}", id: "oncall.override",
            help: "Put someone on call for a while in place of the schedule: FROM to TO, in its time zone",
            examples: ["oncall override carol 2026-12-24 18:00 to 2026-12-27 09:00", "oncall override bob now to +4h"]
        ) { try await IncidentCommands.answer($0, override) },
        BuiltinCommand(
            "oncall swap [--schedule {schedule}] {shifts:text}", id: "oncall.swap",
            help: "Swap two shifts: the people on call at two moments take each other's shift",
            examples: ["oncall swap 2026-12-24 10:00 with 2026-12-31 10:00"]
        ) { try await IncidentCommands.answer($0, swap) },
        BuiltinCommand(
            "oncall overrides [{schedule}]", id: "oncall.overrides", help: "List the overrides still to come",
            changesNothing: true
        ) { try await IncidentCommands.answer($0, overrides) },
        BuiltinCommand(
            "oncall unoverride {id:int(1..)}", id: "oncall.unoverride", help: "Remove an override",
            examples: ["oncall unoverride 3"]
        ) { try await IncidentCommands.answer($0, unoverride) },
    ]

    /// The schedule named, or the only one when none is named.
    static func schedule(named name: String?, _ call: BuiltinCall) throws -> OnCallSchedule {
        let schedules = call.services.oncall.schedules
        guard !schedules.isEmpty else { throw BuiltinFailure("no on-call schedule is configured (oncall: schedules:)") }
        if let name {
            guard let found = call.services.oncall.schedule(named: name) else {
                throw BuiltinFailure(
                    "no schedule '\(name)'; schedules: \(schedules.map(\.name).joined(separator: ", "))")
            }
            return found
        }
        guard schedules.count == 1 else {
            throw BuiltinFailure(
                "which schedule? \(schedules.map(\.name).joined(separator: ", ")) (add --schedule NAME)")
        }
        return schedules[0]
    }

    static func overrides(of schedule: OnCallSchedule, after: Date, _ call: BuiltinCall) async throws
        -> [OnCallOverride]
    {
        try await call.services.store.overrides(schedule: schedule.name, endingAfter: after).map(\.override)
    }

    static func local(_ date: Date, _ zone: TimeZone) -> String { OnCallViews.local(date, zone) }
}

/// How on-call times read, in chat and on the web console.
public enum OnCallViews {
    /// `Tue 24 Dec 18:00 CET`, in the schedule's zone.
    public static func local(_ date: Date, _ zone: TimeZone) -> String {
        var style = Date.FormatStyle(date: .omitted, time: .omitted, timeZone: zone)
        style = style.weekday(.abbreviated).day(.twoDigits).month(.abbreviated).hour(.twoDigits(amPM: .omitted))
            .minute(.twoDigits).timeZone(.specificName(.short))
        return date.formatted(style.locale(Locale(identifier: "en_GB")))
    }
}

extension OnCallCommands {

    static func who(_ call: BuiltinCall) async throws -> Reply {
        let schedules =
            call["schedule"] == nil ? call.services.oncall.schedules : [try schedule(named: call["schedule"], call)]
        guard !schedules.isEmpty else { return .text("no on-call schedule is configured (oncall: schedules:)") }
        let now = Date()
        var rows: [[String]] = []
        for schedule in schedules {
            let overrides = try await overrides(of: schedule, after: now, call)
            let shifts = schedule.shifts(from: now, to: now.addingTimeInterval(31 * 86400), overrides: overrides)
            let current = shifts.first
            let next = shifts.dropFirst().first { $0.person != current?.person }
            rows.append([
                schedule.name, current?.person ?? "nobody", current.map { "\($0.source)" } ?? "",
                current.map { local($0.end, schedule.timeZone) } ?? "", next?.person ?? "—",
            ])
        }
        return Reply([.table(header: ["schedule", "on call", "as", "until", "next"], rows: rows)])
    }

    static func schedule(_ call: BuiltinCall) async throws -> Reply {
        let schedule = try schedule(named: call["schedule"], call)
        let seconds = call["span"].flatMap(DurationText.seconds) ?? 7 * 86400
        guard seconds > 0, seconds <= 92 * 86400 else { return .text("--next may reach 92 days at most, as in 14d") }
        let now = Date()
        let shifts = schedule.shifts(
            from: now, to: now.addingTimeInterval(Double(seconds)),
            overrides: try await overrides(of: schedule, after: now, call))
        let rows = shifts.prefix(200).map { shift in
            [
                local(shift.start, schedule.timeZone), local(shift.end, schedule.timeZone), shift.person ?? "nobody",
                "\(shift.source)",
            ]
        }
        var blocks: [ReplyBlock] = [
            .text("\(schedule.name) (\(schedule.timeZone.identifier)), next \(AlertCommands.span(seconds))"),
            .table(header: ["from", "to", "on call", "as"], rows: rows),
        ]
        if shifts.count > 200 { blocks.append(.text("… \(shifts.count - 200) more shifts; ask for less with --next")) }
        return Reply(blocks)
    }

    static func override(_ call: BuiltinCall) async throws -> Reply {
        let schedule = try schedule(named: call["schedule"], call)
        let person = try IncidentCommands.person(call["person"] ?? "", call)
        let range = call["range"] ?? ""
        let parts = range.components(separatedBy: " to ")
        guard parts.count == 2 else {
            return .text("write FROM to TO, as in `oncall override carol 2026-12-24 18:00 to 2026-12-27 09:00`")
        }
        let now = Date()
        let start: ChatTime
        let end: ChatTime
        do {
            start = try ChatTime(parsing: parts[0], in: schedule.timeZone, now: now)
            end = try ChatTime(parsing: parts[1], in: schedule.timeZone, now: now)
        } catch {
            return .text("\(error)")
        }
        guard start.date < end.date else { return .text("the override must end after it starts") }
        guard end.date > now else { return .text("that override is over already") }
        guard end.date.timeIntervalSince(start.date) <= 92 * 86400 else {
            return .text("an override may last 92 days at most; change the schedule's layers for longer")
        }
        let record = try await call.services.store.addOverride(
            OnCallOverrideRecord(
                schedule: schedule.name,
                override: OnCallOverride(person: person, start: start.date, end: end.date, madeBy: call.actor),
                createdAt: now))
        let notes = [start.note, end.note].compactMap { $0 }
        return .text(
            "🔁 override \(record.id ?? 0): \(person) is on call for \(schedule.name) from \(local(start.date, schedule.timeZone)) to \(local(end.date, schedule.timeZone))"
                + (notes.isEmpty ? "" : " (\(notes.joined(separator: "; ")))"))
    }

    static func swap(_ call: BuiltinCall) async throws -> Reply {
        let schedule = try schedule(named: call["schedule"], call)
        let parts = (call["shifts"] ?? "").components(separatedBy: " with ")
        guard parts.count == 2 else {
            return .text("write two moments, as in `oncall swap 2026-12-24 10:00 with 2026-12-31 10:00`")
        }
        let now = Date()
        let overrides = try await overrides(of: schedule, after: now.addingTimeInterval(-92 * 86400), call)
        var shifts: [OnCallShift] = []
        for part in parts {
            let moment: ChatTime
            do {
                moment = try ChatTime(parsing: part, in: schedule.timeZone, now: now)
            } catch {
                return .text("\(error)")
            }
            // The whole shift the moment falls in: looked for within a day either side, then merged.
            let around = schedule.shifts(
                from: moment.date.addingTimeInterval(-92 * 86400), to: moment.date.addingTimeInterval(92 * 86400),
                overrides: overrides)
            guard let shift = around.first(where: { $0.start <= moment.date && moment.date < $0.end }) else {
                return .text("nobody's shift covers \(part)")
            }
            shifts.append(shift)
        }
        let swapped: [OnCallOverride]
        do {
            swapped = try OnCallOverride.swap(shifts[0], shifts[1], madeBy: call.actor)
        } catch {
            return .text("\(error)")
        }
        guard swapped.allSatisfy({ $0.end > now }) else { return .text("one of those shifts is over already") }
        var ids: [String] = []
        for override in swapped {
            let record = try await call.services.store.addOverride(
                OnCallOverrideRecord(schedule: schedule.name, override: override, createdAt: now))
            ids.append("\(record.id ?? 0)")
        }
        let zone = schedule.timeZone
        return .text(
            "🔁 swapped on \(schedule.name): \(swapped[0].person) takes \(local(swapped[0].start, zone))–\(local(swapped[0].end, zone)), "
                + "\(swapped[1].person) takes \(local(swapped[1].start, zone))–\(local(swapped[1].end, zone)) (overrides \(ids.joined(separator: ", ")))"
        )
    }

    static func overrides(_ call: BuiltinCall) async throws -> Reply {
        let schedules =
            call["schedule"] == nil ? call.services.oncall.schedules : [try schedule(named: call["schedule"], call)]
        let now = Date()
        var rows: [[String]] = []
        for schedule in schedules {
            for record in try await call.services.store.overrides(schedule: schedule.name, endingAfter: now) {
                rows.append([
                    "\(record.id ?? 0)", schedule.name, record.override.person,
                    local(record.override.start, schedule.timeZone), local(record.override.end, schedule.timeZone),
                    record.override.madeBy,
                ])
            }
        }
        guard !rows.isEmpty else { return .text("No overrides to come.") }
        return Reply([.table(header: ["#", "schedule", "on call", "from", "to", "made by"], rows: rows)])
    }

    static func unoverride(_ call: BuiltinCall) async throws -> Reply {
        guard let id = call["id"].flatMap(Int64.init), try await call.services.store.removeOverride(id: id) else {
            return .text("there is no override \(call["id"] ?? ""); `oncall overrides` lists them")
        }
        return .text("override \(id) removed")
    }
}

extension Engine {
    /// Posts each schedule's handoffs of the last ten minutes to its `handoff_room`, each once
    /// (claimed in the store, so replicas that look at once post it once). Returns the notices sent.
    @discardableResult
    public func announceHandoffs(now: Date = Date()) async throws -> [String] {
        var sent: [String] = []
        for schedule in config.oncall.schedules {
            guard let room = schedule.handoffRoom else { continue }
            let from = now.addingTimeInterval(-600)
            let overrides = try await store.overrides(schedule: schedule.name, endingAfter: from).map(\.override)
            for handoff in schedule.handoffs(from: from, to: now.addingTimeInterval(1), overrides: overrides) {
                let key = "oncall-handoff:\(schedule.name):\(Int64(handoff.at.timeIntervalSince1970))"
                guard try await store.firstSighting(of: key) else { continue }
                let until = schedule.shifts(
                    from: handoff.at, to: handoff.at.addingTimeInterval(31 * 86400), overrides: overrides
                ).first
                let text =
                    "🔄 \(schedule.name) on call: \(handoff.from ?? "nobody") → \(handoff.to ?? "nobody") (\(handoff.source))"
                    + (until.map { ", until \(OnCallCommands.local($0.end, schedule.timeZone))" } ?? "")
                if let messenger = messengerSlot.messenger {
                    do {
                        _ = try await messenger.send(.text(text), to: room, thread: nil)
                    } catch {
                        logger.warning("cannot post the \(schedule.name) handoff to \(room): \(error)")
                    }
                }
                sent.append(text)
            }
        }
        return sent
    }
}
