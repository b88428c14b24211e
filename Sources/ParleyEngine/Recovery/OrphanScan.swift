import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Finds the programs of runs whose process group was never noted: a Parley killed between starting
/// a program and writing its group to the store leaves it running with nothing on record. Every
/// program Parley starts carries its run in its environment (`PARLEY_RUN_ID` and
/// `PARLEY_RUN_OWNER`), and the kernel keeps a process's starting environment in
/// `/proc/PID/environ`, so the programs can be told apart from everything else on the machine.
enum OrphanScan {
    /// The variable naming the Parley process that started a program.
    static let ownerVariable = "PARLEY_RUN_OWNER"
    /// The most of one environment read; an environment is limited to a few MiB by the kernel.
    static let environmentLimit = 4 * 1024 * 1024

    /// A run to look for: its number and the owner that started its program.
    struct Wanted: Hashable {
        var runID: Int64
        var owner: String
    }

    /// Which run, if any of `wanted`, the environment (NUL-separated `NAME=value` entries) names.
    static func run(in environment: some Collection<UInt8>, among wanted: Set<Wanted>) -> Wanted? {
        var runID: Int64?
        var owner: String?
        for entry in environment.split(separator: 0) {
            let text = String(decoding: entry, as: UTF8.self)
            if text.hasPrefix("PARLEY_RUN_ID=") {
                runID = Int64(text.dropFirst("PARLEY_RUN_ID=".count))
            } else if text.hasPrefix(ownerVariable + "=") {
                owner = String(text.dropFirst(ownerVariable.count + 1))
            }
        }
        guard let runID, let owner else { return nil }
        let found = Wanted(runID: runID, owner: owner)
        return wanted.contains(found) ? found : nil
    }

    /// The process groups, by run, whose leaders were started for one of `wanted`. Only group
    /// leaders count (Parley starts each program leading a group of its own), never this process's
    /// own group; processes of other users cannot be read and are not Parley's.
    static func groups(of wanted: Set<Wanted>) -> [(Wanted, Int32)] {
        guard !wanted.isEmpty, let names = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else {
            return []
        }
        let own = getpgrp()
        var found: [(Wanted, Int32)] = []
        for name in names {
            guard let pid = Int32(name), pid > 1, let stat = ProcessStat.read(pid: pid), !stat.hasEnded,
                stat.processGroup == pid, pid != own,
                let environment = ProcFile.bytes("/proc/\(pid)/environ", limit: environmentLimit),
                let run = run(in: environment, among: wanted)
            else { continue }
            found.append((run, pid))
        }
        return found
    }
}
