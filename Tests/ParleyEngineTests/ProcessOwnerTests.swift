import Foundation
import ParleyCore
import ParleyEngine
import ParleyStore
import Testing

/// Reading `/proc/PID/stat`, whatever a program named itself.
@Suite struct ProcessStatParsingTests {
    /// A real line's shape: pid, (comm), state, then fields 4 … 52; field 22 is the start time.
    func line(
        pid: String = "4242", comm: String = "sleep", state: String = "S", group: String = "4242",
        start: String = "98765"
    )
        -> String
    {
        var fields = [state, "1", group, group, "0", "-1", "4194560"]  // fields 3 … 9
        fields += Array(repeating: "0", count: 12)  // fields 10 … 21
        fields.append(start)  // field 22
        fields += Array(repeating: "7", count: 30)  // fields 23 … 52
        return "\(pid) (\(comm)) " + fields.joined(separator: " ") + "\n"
    }

    @Test func aPlainLineGivesItsPidStateGroupAndStartTime() throws {
        let stat = try #require(ProcessStat(parsing: line(comm: "sleep")))
        #expect(stat == ProcessStat(pid: 4242, state: "S", processGroup: 4242, startTime: 98765))
        #expect(!stat.hasEnded)
    }

    @Test func aNameWithSpacesAndParenthesesDoesNotShiftTheFields() throws {
        for comm in ["my prog", ") Z 1 2 3 (", "a) (b", "((", "))", "x) R 99 99 99 0 0 0", " ", ""] {
            let stat = try #require(ProcessStat(parsing: line(comm: comm)), "comm \(comm)")
            #expect(stat.state == "S", "comm \(comm)")
            #expect(stat.processGroup == 4242, "comm \(comm)")
            #expect(stat.startTime == 98765, "comm \(comm)")
        }
    }

    @Test func zombiesAndDeadProcessesHaveEnded() throws {
        #expect(try #require(ProcessStat(parsing: line(comm: "sh", state: "Z"))).hasEnded)
        #expect(try #require(ProcessStat(parsing: line(comm: "sh", state: "X"))).hasEnded)
        #expect(try #require(ProcessStat(parsing: line(comm: "sh", state: "R"))).hasEnded == false)
    }

    @Test func numbersThatDoNotFitAreRefusedNotTrappedOn() {
        #expect(ProcessStat(parsing: line(start: "18446744073709551616")) == nil)  // UInt64.max + 1
        #expect(ProcessStat(parsing: line(start: String(repeating: "9", count: 5000))) == nil)
        #expect(ProcessStat(parsing: line(group: "2147483648")) == nil)  // Int32.max + 1
        #expect(ProcessStat(parsing: line(pid: "99999999999")) == nil)
        #expect(ProcessStat(parsing: line(pid: "-5")) == nil)
        #expect(ProcessStat(parsing: line(start: "-1")) == nil)
        #expect(ProcessStat(parsing: line(start: "12x")) == nil)
        #expect(ProcessStat(parsing: line(start: "18446744073709551615"))?.startTime == UInt64.max)
    }

    @Test func garbageIsRefused() {
        let lines = [
            "", ")", "(", "()", "1 ()", "1 (x)", "1 (x) S", "abc (x) S 1 2 3", "1 (x) SS 1 2 3 4 5 6 7 8 9",
            "1 (x) S" + String(repeating: " ", count: 40), "1 (x) 5 1 1 1 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 1 0",
            "(x) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20",
            "1 )x( S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17",
            String(repeating: ")", count: 10_000), "\u{0}\u{1}\u{2}",
            "1 (é) ü 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17",
        ]
        for text in lines { #expect(ProcessStat(parsing: text) == nil, "\(text.prefix(60))") }
    }

    @Test func randomBytesNeverCrashTheParser() {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("0123456789 ()ZSRX-\n\u{FFFD}a".unicodeScalars)
        for _ in 0..<2000 {
            let length = Int.random(in: 0..<200, using: &generator)
            var text = String.UnicodeScalarView()
            for _ in 0..<length { text.append(alphabet.randomElement(using: &generator)!) }
            _ = ProcessStat(parsing: String(text))
        }
    }

    @Test func thisProcessReadsAsRunning() throws {
        let stat = try #require(ProcessStat.read(pid: getpid()))
        #expect(stat.pid == getpid())
        #expect(!stat.hasEnded)
        #expect(ProcessStat.read(pid: 0) == nil)
        #expect(ProcessStat.read(pid: -1) == nil)
    }
}

/// Whether the process that owns a run is still there.
@Suite struct ProcessOwnerTests {
    let host = ProcessInfo.processInfo.hostName

    /// Starts `sleep` as a child that nobody reaps until `reap` is called.
    func child(_ arguments: [String] = ["/bin/sleep", "30"]) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: arguments[0])
        process.arguments = Array(arguments.dropFirst())
        try process.run()
        return process
    }

    func owner(_ pid: Int32, start: UInt64?, boot: String? = ProcessOwner.bootID) -> String {
        guard let start, let boot else { return "\(host)/\(pid)" }
        return "\(host)/\(pid)/\(start)/\(boot)"
    }

    @Test func thisProcessIsAliveAndNamesItsStartAndBoot() throws {
        #expect(ProcessOwner.isAlive(ProcessOwner.current))
        let start = try #require(ProcessStat.read(pid: getpid())).startTime
        #expect(ProcessOwner.current == owner(getpid(), start: start))
    }

    @Test func aLiveProcessWithTheRecordedStartTimeIsAliveAndAnyOtherStartTimeIsNot() throws {
        let process = try child()
        defer { process.terminate() }
        let start = try #require(ProcessStat.read(pid: process.processIdentifier)).startTime
        #expect(ProcessOwner.isAlive(owner(process.processIdentifier, start: start)))
        // The same pid with another start time is a later process that was given the number.
        #expect(!ProcessOwner.isAlive(owner(process.processIdentifier, start: start + 1)))
        #expect(!ProcessOwner.isAlive(owner(process.processIdentifier, start: start, boot: "another-boot")))
    }

    @Test func aKilledProcessNotYetReapedIsDead() async throws {
        // Foundation reaps its children on its own; a process started with posix_spawn is not.
        var pid: pid_t = 0
        let arguments = ["/bin/sleep", "30"]
        let argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        #expect(posix_spawn(&pid, "/bin/sleep", nil, nil, argv, nil) == 0)
        let start = try #require(ProcessStat.read(pid: pid)).startTime
        let name = owner(pid, start: start)
        #expect(ProcessOwner.isAlive(name))
        kill(pid, SIGKILL)
        for _ in 0..<200 where ProcessStat.read(pid: pid)?.hasEnded != true {
            try await Task.sleep(for: .milliseconds(10))
        }
        if ProcessStat.read(pid: pid)?.hasEnded == true {
            #expect(kill(pid, 0) == 0, "the zombie still answers kill(pid, 0)")
        }
        #expect(!ProcessOwner.isAlive(name), "a zombie is not alive")
        #expect(!ProcessOwner.isAlive(owner(pid, start: nil)), "nor in the old host/pid form")
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        #expect(!ProcessOwner.isAlive(name))
    }

    @Test func ownersInTheOldFormStayReadable() throws {
        let process = try child()
        defer { process.terminate() }
        #expect(ProcessOwner.isAlive(owner(process.processIdentifier, start: nil)))
        // This process writes the new form, so the old form with its pid is an earlier Parley's.
        #expect(!ProcessOwner.isAlive(owner(getpid(), start: nil)))
        #expect(!ProcessOwner.isAlive("\(host)/not-a-pid"))
        #expect(!ProcessOwner.isAlive("garbage"))
        #expect(!ProcessOwner.isAlive("\(host)/1/99999999999999999999999/boot"))
        #expect(ProcessOwner.isAlive("other-host.example/1"), "other hosts settle their own runs")
    }
}
