import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Names this process as the owner of the runs it starts (`host/pid`), and tells whether another
/// owner is still alive, so a `parley run` beside a `parley serve` never takes the server's runs for
/// abandoned ones.
public enum ProcessOwner {
    /// This process.
    public static let current = "\(ProcessInfo.processInfo.hostName)/\(getpid())"

    /// True when `owner` names this host (or nothing: runs from before owners were recorded).
    public static func isOnThisHost(_ owner: String?) -> Bool {
        guard let owner else { return true }
        return owner.split(separator: "/").first.map(String.init) == ProcessInfo.processInfo.hostName
    }

    /// True when `owner` is a process on this host that still exists. Owners on other hosts are taken
    /// as alive: only they can settle their runs (several replicas come with the PostgreSQL store).
    public static func isAlive(_ owner: String) -> Bool {
        let parts = owner.split(separator: "/")
        guard parts.count == 2, let pid = Int32(parts[1]) else { return false }
        guard String(parts[0]) == ProcessInfo.processInfo.hostName else { return true }
        if owner == current { return false }
        return kill(pid, 0) == 0 || errno == EPERM
    }
}
