import Foundation
import ParleyCore
import ParleyEngine
import ParleyStore
import Synchronization
import Testing

/// Keeps what schedules post.
final class RecordingMessenger: RoomMessenger {
    let posts = Mutex<[(room: String, text: String)]>([])

    func send(_ reply: Reply, to room: String, thread: String?) async throws -> String? {
        posts.withLock { $0.append((room, reply.plainText)) }
        return nil
    }

    func edit(_ reference: String, in room: String, with reply: Reply) async throws -> Bool { false }
}

@Suite struct SchedulerTests {
    static func yaml(missed: String) -> String {
        """
        adapters:
          mattermost: { url: "http://127.0.0.1:1", bot_token: mm-bot-token-unused, verification_tokens: [mm-verify-unused] }
        schedules:
          morning:
            cron: "0 * * * *"
            timezone: Europe/Paris
            run: "report"
            as: "service:scheduler"
            room: "mattermost:ops"
            missed: \(missed)
        users:
          scheduler: { roles: [reporter], identities: ["service:scheduler"] }
        roles:
          reporter: { allow: [report] }
        commands:
          report:
            usage: report
            action: { exec: ["sh", "-c", "echo run >> reports; echo status green"] }
        """
    }

    @Test func exactlyOneReplicaRunsEachFiring() async throws {
        let directory = temporaryDirectory()
        let (first, _) = try makeEngine(Self.yaml(missed: "skip"), directory: directory)
        let (second, _) = try makeEngine(Self.yaml(missed: "skip"), directory: directory)
        let messenger = RecordingMessenger()
        let replicas = [
            Scheduler(engine: first, messenger: messenger), Scheduler(engine: second, messenger: messenger),
        ]
        let schedule = try #require(first.config.schedules.first)
        let due = try #require(schedule.cron.next(after: Date(), in: schedule.timeZone))
        let ran = await withTaskGroup(of: Bool.self) { group in
            for replica in replicas + replicas { group.addTask { await replica.fire(schedule, at: due) } }
            var count = 0
            for await result in group where result { count += 1 }
            return count
        }
        #expect(ran == 1)
        let reports = try String(contentsOfFile: directory + "/reports", encoding: .utf8)
        #expect(reports == "run\n")
        let posts = messenger.posts.withLock { $0 }
        #expect(posts.count == 1)
        #expect(posts.first?.room == "mattermost:ops")
        #expect(posts.first?.text.contains("⏰ morning: `report`") == true)
        #expect(posts.first?.text.contains("status green") == true)
    }

    @Test func missedRunsRunOnceOrNotAtAllAsConfigured() async throws {
        for (missed, expected) in [("run_once", 1), ("skip", 0)] {
            let directory = temporaryDirectory()
            let (engine, store) = try makeEngine(Self.yaml(missed: missed), directory: directory)
            let messenger = RecordingMessenger()
            let scheduler = Scheduler(engine: engine, messenger: messenger)
            let now = Date()
            // The last run was three hours ago: three hourly runs were missed while Parley was down.
            #expect(
                try await store.claimScheduledRun(name: "morning", at: now.addingTimeInterval(-3 * 3600), by: "old"))
            await scheduler.catchUp(now: now)
            #expect(messenger.posts.withLock { $0.count } == expected, "missed: \(missed)")
            if expected == 1 {
                let last = try #require(try await store.lastScheduledRun(name: "morning"))
                #expect(now.timeIntervalSince(last) < 3600, "caught up to the latest missed firing")
                // Catching up again does nothing more.
                await scheduler.catchUp(now: now)
                #expect(messenger.posts.withLock { $0.count } == 1)
            }
        }
    }

    @Test func schedulesAreCheckedWhenTheConfigurationIsRead() {
        func problems(_ yaml: String) -> [String] {
            do {
                _ = try makeEngine(yaml)
                return []
            } catch let error as ConfigError {
                return error.issues.map(\.message)
            } catch {
                return ["\(error)"]
            }
        }
        let bad = Self.yaml(missed: "later").replacingOccurrences(of: "0 * * * *", with: "0 25 * * *")
            .replacingOccurrences(of: "Europe/Paris", with: "Mars/Olympus").replacingOccurrences(
                of: "service:scheduler\"\n", with: "service:nobody\"\n")
        let found = problems(bad)
        #expect(found.contains("cron: hour 25 is out of range 0-23"), "\(found)")
        #expect(found.contains("unknown time zone 'Mars/Olympus'; write an IANA name such as Europe/Paris"))
        #expect(found.contains("missed must be skip or run_once, got 'later'"))
        #expect(found.contains { $0.hasPrefix("as 'service:nobody' is nobody") })
    }
}
