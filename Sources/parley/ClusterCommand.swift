import ArgumentParser
import Foundation
import ParleyCore
import ParleyStore

/// `parley cluster`: what the replicas sharing the store are doing — who leads which connection,
/// and whose runs are in flight.
struct ClusterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cluster",
        abstract:
            "Show the replicas sharing the store, which one leads each connection and the runs each has in flight.")
    @OptionGroup var configOptions: ConfigOptions

    func run() async throws {
        let config = try configOptions.load()
        let store = try await ConfigOptions.openStore(config)
        let replicas = try await store.replicas()
        let leases = try await store.leases()
        let running = try await store.runs(RunQuery(limit: 10_000, status: .running))
        await store.close()
        let now = Date()
        print("replicas:")
        if replicas.isEmpty { print("  none (no parley serve has sent a heartbeat to this store)") }
        for replica in replicas {
            let seen = max(0, Int(now.timeIntervalSince(replica.seenAt).rounded()))
            let state = replica.isAlive ? "alive" : "gone (its heartbeat ran out)"
            print(
                "  \(replica.id)  host \(replica.host)  version \(replica.version)  started \(AuditClock.format(replica.startedAt))  last heartbeat \(seen)s ago  \(state)"
            )
        }
        print("leases:")
        if leases.isEmpty { print("  none (no replica holds an exclusive connection)") }
        for lease in leases {
            let left = lease.expiresAt.timeIntervalSince(now)
            let state = left > 0 ? "expires in \(Int(left.rounded(.up)))s" : "free (expired or released)"
            print("  \(lease.name)  held by \(lease.holder)  epoch \(lease.epoch)  \(state)")
        }
        print("runs in flight:")
        let owners = Dictionary(grouping: running) { $0.owner ?? "(no owner)" }
        if owners.isEmpty { print("  none") }
        for (owner, runs) in owners.sorted(by: { $0.key < $1.key }) {
            print(
                "  \(owner): \(runs.count) (\(runs.compactMap(\.id).sorted().map { "run \($0)" }.joined(separator: ", ")))"
            )
        }
    }
}
