import Foundation
import ParleyCore
import ParleyEngine
import ParleyStore
import Testing

/// What a restart does with the runs a dead Parley left `running`, and with their programs.
@Suite struct RecoveryTests {
    static let yaml = commands("  noop: { usage: noop, action: { exec: [\"true\"] } }\n")
    /// An owner that is certainly dead: the old form with this process's pid is an earlier Parley's.
    let deadOwner = "\(ProcessInfo.processInfo.hostName)/\(getpid())"

    /// `sleep 30` leading its own process group, as the exec executor starts programs. The caller
    /// stops and reaps it with `end`.
    func program(environment: [String] = []) throws -> ProcessStat {
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP))
        posix_spawnattr_setpgroup(&attributes, 0)
        let arguments = ["/bin/sleep", "30"]
        let argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        let envp: [UnsafeMutablePointer<CChar>?] = environment.map { strdup($0) } + [nil]
        defer { for pointer in envp { free(pointer) } }
        var pid: pid_t = 0
        guard posix_spawn(&pid, "/bin/sleep", nil, &attributes, argv, envp) == 0,
            let stat = ProcessStat.read(pid: pid), stat.processGroup == pid
        else { throw MissingRun() }
        return stat
    }

    func end(_ pid: Int32) {
        kill(pid, SIGKILL)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
    }

    func isRunning(_ pid: Int32) -> Bool { ProcessStat.read(pid: pid).map { !$0.hasEnded } ?? false }

    func abandonedRun(owner: String?, group: Int32?, startTime: Int64?) -> RunRecord {
        var run = RunRecord(
            userName: "alice", identity: "local:alice", room: "terminal", text: "noop", commandID: "noop",
            decision: .allowed, status: .running, owner: owner)
        run.processGroup = group
        run.processStartTime = startTime
        return run
    }

    @Test func aDeadOwnersProgramIsStoppedAndItsRunInterruptedAndAudited() async throws {
        let (engine, store) = try makeEngine(Self.yaml)
        let stat = try program()
        defer { end(stat.pid) }
        let run = try await store.insertRun(
            abandonedRun(owner: deadOwner, group: stat.pid, startTime: Int64(stat.startTime)))
        let interrupted = try await engine.recoverAbandonedRuns()
        #expect(interrupted.map(\.id) == [run.id])
        for _ in 0..<300 where isRunning(stat.pid) { try await Task.sleep(for: .milliseconds(10)) }
        #expect(!isRunning(stat.pid), "the dead owner's program is stopped")
        #expect(try await store.requireRun(run.id).status == .interrupted)
        let entries = try await store.auditEntries(AuditQuery(afterSeq: 0, limit: 100)).filter { $0.runID == run.id }
        #expect(entries.map(\.kind) == ["interrupted"])
        // Once settled, a run is never settled again.
        #expect(try await engine.recoverAbandonedRuns().isEmpty)
    }

    @Test func aGroupWhoseLeaderStartedAtAnotherTimeIsNeverStopped() async throws {
        let (engine, store) = try makeEngine(Self.yaml)
        let stat = try program()
        defer { end(stat.pid) }
        // The note names this group number, but a program that started earlier: the number was reused.
        let run = try await store.insertRun(
            abandonedRun(owner: deadOwner, group: stat.pid, startTime: Int64(stat.startTime) - 1))
        #expect(try await engine.recoverAbandonedRuns().map(\.id) == [run.id])
        #expect(isRunning(stat.pid), "an unrelated process that was given the number keeps running")
        #expect(try await store.requireRun(run.id).status == .interrupted)
    }

    @Test func aProgramWhoseGroupWasNeverNotedIsFoundByItsEnvironmentAndStopped() async throws {
        // Parley was killed after starting the program and before noting its group.
        let (engine, store) = try makeEngine(Self.yaml)
        let run = try await store.insertRun(abandonedRun(owner: deadOwner, group: nil, startTime: nil))
        let id = try #require(run.id)
        let orphan = try program(environment: ["PARLEY_RUN_ID=\(id)", "PARLEY_RUN_OWNER=\(deadOwner)"])
        defer { end(orphan.pid) }
        // The same run number from another Parley (another data directory), and a program of no run.
        let other = try program(environment: ["PARLEY_RUN_ID=\(id)", "PARLEY_RUN_OWNER=elsewhere/1/2/3"])
        defer { end(other.pid) }
        let plain = try program()
        defer { end(plain.pid) }
        #expect(try await engine.recoverAbandonedRuns().map(\.id) == [run.id])
        for _ in 0..<300 where isRunning(orphan.pid) { try await Task.sleep(for: .milliseconds(10)) }
        #expect(!isRunning(orphan.pid), "the dead owner's unnoted program is stopped")
        #expect(isRunning(other.pid) && isRunning(plain.pid), "programs of other runs keep running")
        #expect(try await store.requireRun(run.id).status == .interrupted)
    }

    @Test func programsCarryTheirRunAndOwnerInTheirEnvironment() async throws {
        let (engine, _) = try makeEngine(
            commands(#"  env: { usage: env, action: { exec: ["sh", "-c", "echo $PARLEY_RUN_ID $PARLEY_RUN_OWNER"] } }"#)
        )
        let response = try #require(await engine.handle(say("env")))
        let id = try #require(response.runID)
        #expect(response.reply.plainText.contains("\(id) \(ProcessOwner.current)"))
    }

    @Test func aRunThatNeverStartedItsProgramIsInterruptedWhenItsOwnerIsDead() async throws {
        let (engine, store) = try makeEngine(Self.yaml)
        let run = try await store.insertRun(abandonedRun(owner: deadOwner, group: nil, startTime: nil))
        #expect(try await engine.recoverAbandonedRuns().map(\.id) == [run.id])
        #expect(try await store.requireRun(run.id).status == .interrupted)
    }

    @Test func runsOfLiveOwnersAreLeftRunning() async throws {
        let (engine, store) = try makeEngine(Self.yaml)
        let stat = try program()
        defer { end(stat.pid) }
        let other = "\(ProcessInfo.processInfo.hostName)/\(stat.pid)/\(stat.startTime)/\(ProcessOwner.bootID ?? "")"
        let mine = try await store.insertRun(abandonedRun(owner: ProcessOwner.current, group: nil, startTime: nil))
        let theirs = try await store.insertRun(
            abandonedRun(owner: other, group: stat.pid, startTime: Int64(stat.startTime)))
        #expect(try await engine.recoverAbandonedRuns().isEmpty)
        #expect(try await store.requireRun(mine.id).status == .running)
        #expect(try await store.requireRun(theirs.id).status == .running)
        #expect(isRunning(stat.pid))
    }

    @Test func aRunIsTakenOverByOneProcessOnly() async throws {
        let (_, store) = try makeEngine(Self.yaml)
        let run = try await store.insertRun(abandonedRun(owner: deadOwner, group: nil, startTime: nil))
        let id = try #require(run.id)
        #expect(try await store.adoptRun(id: id, owner: "first/1", from: deadOwner))
        #expect(try await !store.adoptRun(id: id, owner: "second/2", from: deadOwner))
        #expect(try await store.requireRun(id).owner == "first/1")
    }
}

/// A replica that was slow, not dead, while another took its runbook over: its next step never
/// starts, and what it would record of the step it was in is refused.
@Suite struct TakenOverRunbookTests {
    @Test func aRunbookTakenOverMidStepStartsNothingMoreAndRecordsNothingMore() async throws {
        let directory = temporaryDirectory()
        let side = directory + "/side.log"
        let gate = directory + "/gate"
        let (engine, store) = try makeEngine(
            commands(
                """
                  release:
                    usage: release
                    runbook:
                      steps:
                        - name: build
                          action: { exec: ["sh", "-c", "echo build >> \(side); while [ ! -e \(gate) ]; do sleep 0.05; done"] }
                        - name: ship
                          action: { exec: ["sh", "-c", "echo ship >> \(side)"] }
                """), directory: directory)
        _ = try await engine.start()
        let answer = Task { await engine.handle(say("release")) }
        // The build step runs; then a survivor takes the run over (this replica was cut off).
        var running: RunRecord?
        for _ in 0..<500 where running == nil {
            running = try await store.runs(RunQuery(limit: 1, status: .running)).first
            if running != nil, try await store.steps(runID: running?.id ?? 0).first?.status != .running {
                running = nil
            }
            if running == nil { try await Task.sleep(for: .milliseconds(10)) }
        }
        let run = try #require(running, "the runbook started")
        let id = try #require(run.id)
        #expect(try await store.adoptRun(id: id, owner: "survivor/2", from: ProcessOwner.current))
        #expect(FileManager.default.createFile(atPath: gate, contents: nil))
        _ = await answer.value
        // Nothing more started here; the step record is the survivor's to write.
        #expect(try String(contentsOfFile: side, encoding: .utf8) == "build\n")
        let steps = try await store.steps(runID: id)
        #expect(steps.map(\.name) == ["build"])
        #expect(steps.first?.status == .running, "the slow replica's 'succeeded' was refused")
        let after = try await store.requireRun(id)
        #expect(after.owner == "survivor/2" && after.status == .running && after.epoch == run.epoch + 1)
    }
}
