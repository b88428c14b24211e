import Foundation
import Logging
import ParleyStore

/// Whether the owner of a run is alive, judged from the replicas' heartbeats in the store and, on
/// this host, from the process table. An owner is dead when
/// - it is a process on this host that has ended (a crash is seen at once, without waiting for its
///   heartbeat to run out), or
/// - it is a replica whose heartbeat ran out by the store's clock, wherever it runs and even if its
///   process still exists: a replica paused (SIGSTOP) or cut off from the database past its heartbeat
///   is taken for dead, and the epochs of its runs move on so that it cannot change them later.
///
/// An owner that never heartbeat (a `parley run` on the command line) is judged by the process
/// table on this host and taken as alive on another one, as before replicas were recorded.
struct OwnerLiveness: Sendable {
    /// Replica id → heartbeat current.
    let replicas: [String: Bool]

    /// The replicas as the store knows them now; without them (the store cannot say), only the
    /// process table judges.
    static func current(_ store: any ReplicaStore, logger: Logger) async -> OwnerLiveness {
        do {
            let seen = try await store.replicas()
            return OwnerLiveness(
                replicas: Dictionary(seen.map { ($0.id, $0.isAlive) }, uniquingKeysWith: { a, b in a || b }))
        } catch {
            logger.warning(
                "cannot read the replicas' heartbeats; judging run owners by this host's processes: \(error)")
            return OwnerLiveness(replicas: [:])
        }
    }

    func isAlive(_ owner: String) -> Bool {
        if owner == ProcessOwner.current { return true }
        if ProcessOwner.isOnThisHost(owner) && !ProcessOwner.isAlive(owner) { return false }
        return replicas[owner] ?? ProcessOwner.isAlive(owner)
    }
}
