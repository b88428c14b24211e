import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Names this process as the owner of the runs it starts, and tells whether another owner is still
/// alive, so a `parley run` beside a `parley serve` never takes the server's runs for abandoned ones,
/// and a restart after a crash never takes the dead server's runs for live ones.
///
/// An owner is `host/pid/starttime/bootid`: the pid alone is not enough, since a killed process
/// lingers as a zombie until it is reaped and its pid is later given to another process.
/// Owners written before start times were recorded read `host/pid`.
public enum ProcessOwner {
    /// This machine's boot, from `/proc/sys/kernel/random/boot_id` (nil without `/proc`).
    public static let bootID: String? = ProcFile.read("/proc/sys/kernel/random/boot_id").map {
        $0.trimmingCharacters(in: .whitespacesAndNewlines)
    }.flatMap { $0.isEmpty || $0.contains("/") ? nil : $0 }

    /// This process.
    public static let current: String = {
        let pid = getpid()
        let name = OwnerName(
            host: ProcessInfo.processInfo.hostName, pid: pid, startTime: ProcessStat.read(pid: pid)?.startTime,
            bootID: bootID)
        return name.description
    }()

    /// True when `owner` names this host (or nothing: runs from before owners were recorded).
    public static func isOnThisHost(_ owner: String?) -> Bool {
        guard let owner else { return true }
        return owner.split(separator: "/").first.map(String.init) == ProcessInfo.processInfo.hostName
    }

    /// True when `owner` is a process that still runs. Owners on other hosts are taken as alive: only
    /// they can settle their runs (several replicas come with the PostgreSQL store).
    ///
    /// On this host the owner is alive only when a process with its pid exists, has not ended (a
    /// zombie is dead), started at the recorded time and the machine has not rebooted since.
    public static func isAlive(_ owner: String) -> Bool {
        guard let name = OwnerName(owner) else { return false }
        guard name.host == ProcessInfo.processInfo.hostName else { return true }
        if let boot = name.bootID, let bootID, boot != bootID { return false }
        if owner == current { return true }
        guard let stat = ProcessStat.read(pid: name.pid) else {
            // Without /proc (not Linux) only the pid can be asked about.
            if ProcessStat.read(pid: getpid()) == nil { return kill(name.pid, 0) == 0 || errno == EPERM }
            return false
        }
        if stat.hasEnded { return false }
        if let start = name.startTime { return stat.startTime == start }
        // An owner from before start times were recorded: this process writes the new form, so its
        // own pid there is an earlier Parley's; any other existing pid is given the benefit of the doubt.
        return name.pid != getpid()
    }

    /// True when process group `group`, noted for a program that started at `startTime` (clock ticks
    /// after boot) for a run of `owner` created at `createdAt`, is still that program's group, so
    /// stopping it cannot hit an unrelated process that was later given the same number.
    public static func isProgramGroup(_ group: Int32, startTime: Int64?, owner: String?, runCreatedAt createdAt: Date)
        -> Bool
    {
        guard group > 1 else { return false }
        // After a reboot the number names some other group.
        if let boot = owner.flatMap(OwnerName.init)?.bootID {
            guard boot == bootID else { return false }
        } else {
            guard let booted = ProcessClock.bootTime(), booted <= createdAt else { return false }
        }
        guard let leader = ProcessStat.read(pid: group) else {
            // The leader is gone. Linux does not give a pid to a new process while a group of that number
            // still has members, so whatever is left in the group was started by the program.
            return true
        }
        if let startTime { return Int64(exactly: leader.startTime) == startTime }
        // A note from before start times were recorded: the leader must not have started before the run.
        guard let started = ProcessClock.wallClock(startTime: leader.startTime) else { return false }
        return started >= createdAt.addingTimeInterval(-2)
    }
}

/// An owner's parts: `host/pid/starttime/bootid`, or `host/pid` as written before start times.
struct OwnerName: CustomStringConvertible {
    var host: String
    var pid: Int32
    var startTime: UInt64?
    var bootID: String?

    init(host: String, pid: Int32, startTime: UInt64?, bootID: String?) {
        self.host = host
        self.pid = pid
        self.startTime = startTime
        self.bootID = bootID
    }

    init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 2 || parts.count == 4, let pid = Int32(parts[1]), pid > 0 else { return nil }
        host = parts[0]
        self.pid = pid
        if parts.count == 4 {
            guard let start = UInt64(parts[2]), !parts[3].isEmpty else { return nil }
            startTime = start
            bootID = parts[3]
        }
    }

    var description: String {
        guard let startTime, let bootID else { return "\(host)/\(pid)" }
        return "\(host)/\(pid)/\(startTime)/\(bootID)"
    }
}

/// Turns a start time in clock ticks after boot into a date.
enum ProcessClock {
    /// When the machine booted (`btime` in `/proc/stat`).
    static func bootTime() -> Date? {
        guard let stat = ProcFile.read("/proc/stat"),
            let line = stat.split(separator: "\n").first(where: { $0.hasPrefix("btime ") }),
            let boot = Double(line.dropFirst(6).trimmingCharacters(in: .whitespaces))
        else { return nil }
        return Date(timeIntervalSince1970: boot)
    }

    static func wallClock(startTime: UInt64) -> Date? {
        let ticks = sysconf(Int32(_SC_CLK_TCK))
        guard ticks > 0, let boot = bootTime() else { return nil }
        return boot.addingTimeInterval(Double(startTime) / Double(ticks))
    }
}
