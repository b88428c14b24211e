import Foundation
import Logging
import ParleyCore
import ParleyStore

/// Runs commands on their cron schedules and posts the results. Each firing is claimed in the store
/// first, so when several replicas run, exactly one of them runs it.
public struct Scheduler: Sendable {
    let engine: Engine
    let messenger: any RoomMessenger
    let logger: Logger

    /// Creates a scheduler for the engine's configured schedules.
    public init(engine: Engine, messenger: any RoomMessenger, logger: Logger = Logger(label: "parley.schedules")) {
        self.engine = engine
        self.messenger = messenger
        self.logger = logger
    }

    /// Catches up on missed runs (per each schedule's `missed`), then runs schedules until cancelled.
    public func run(now: @Sendable () -> Date = { Date() }) async {
        let schedules = engine.config.schedules
        guard !schedules.isEmpty else { return }
        await catchUp(now: now())
        var next: [String: Date] = [:]
        for schedule in schedules { next[schedule.name] = schedule.cron.next(after: now(), in: schedule.timeZone) }
        while !Task.isCancelled {
            guard let soonest = next.values.min() else { return }
            let wait = soonest.timeIntervalSince(now())
            if wait > 0 {
                // Wake at least once a minute so a changed clock is noticed.
                try? await Task.sleep(for: .seconds(min(wait, 60)))
                continue
            }
            for schedule in schedules where next[schedule.name].map({ $0 <= now() }) == true {
                let fireTime = next[schedule.name]!
                next[schedule.name] = schedule.cron.next(after: fireTime, in: schedule.timeZone)
                await fire(schedule, at: fireTime)
            }
        }
    }

    /// For `missed: run_once` schedules whose last claimed run is older than their latest firing time,
    /// runs once now.
    public func catchUp(now: Date) async {
        for schedule in engine.config.schedules where schedule.missed == .runOnce {
            guard let last = try? await engine.store.lastScheduledRun(name: schedule.name),
                let due = schedule.cron.next(after: last, in: schedule.timeZone), due <= now
            else { continue }
            var latest = due
            while let following = schedule.cron.next(after: latest, in: schedule.timeZone), following <= now {
                latest = following
            }
            logger.info("schedule \(schedule.name) missed runs while Parley was down; running once now")
            await fire(schedule, at: latest)
        }
    }

    /// Claims and runs one firing; returns false when another process had claimed it.
    @discardableResult
    public func fire(_ schedule: Schedule, at fireTime: Date) async -> Bool {
        do {
            guard try await engine.store.claimScheduledRun(name: schedule.name, at: fireTime, by: ProcessOwner.current)
            else { return false }
        } catch {
            logger.error("cannot claim schedule \(schedule.name): \(error)")
            return false
        }
        _ = try? await engine.audit.append(
            AuditDraft(
                kind: .scheduled, actor: "schedule:\(schedule.name)", identity: schedule.identity.description,
                room: schedule.room ?? "", command: schedule.command, outcome: "due",
                detail: "cron \(schedule.cron) in \(schedule.timeZone.identifier), due \(AuditClock.format(fireTime))"))
        await messenger.runAsService(
            schedule.command, as: schedule.identity, postingTo: schedule.room, defaultRoom: "schedule",
            header: "⏰ \(schedule.name): `\(schedule.command)`", engine: engine, logger: logger)
        return true
    }
}
