import Foundation

/// A named lease: who holds it, until when, and its epoch, which grows by one each time the lease
/// changes hands (a fencing token: a holder that lost it can tell, and so can the store).
public struct LeaseRecord: Sendable, Equatable, Codable {
    public var name: String
    public var holder: String
    public var epoch: Int64
    public var acquiredAt: Date
    public var expiresAt: Date

    public init(name: String, holder: String, epoch: Int64, acquiredAt: Date, expiresAt: Date) {
        self.name = name
        self.holder = holder
        self.epoch = epoch
        self.acquiredAt = acquiredAt
        self.expiresAt = expiresAt
    }
}

/// Leases that elect one replica for a job (holding a chat connection), stored so that every
/// replica sharing the store agrees. Expiry is judged by the store's clock (PostgreSQL's `now()`),
/// never by the replicas' clocks, which may differ.
public protocol LeaseStore: Sendable {
    /// Takes lease `name` for `holder` until `ttl` from now, or renews it when `holder` has it.
    /// It is taken when free, expired, or held by a holder `isDead` picks (a crashed process on this
    /// host need not be waited out). Returns the lease as now held, or nil when someone else holds it.
    func acquireLease(name: String, holder: String, ttl: Duration, isDead: @escaping @Sendable (String) -> Bool)
        async throws
        -> LeaseRecord?
    /// Gives the lease up, if `holder` has it, so that another replica can take it at once.
    func releaseLease(name: String, holder: String) async throws
    /// Every lease, by name (expired ones too: `expiresAt` tells).
    func leases() async throws -> [LeaseRecord]
}

extension Duration {
    /// The duration in seconds, as a fraction.
    var seconds: Double {
        let (whole, fraction) = components
        return Double(whole) + Double(fraction) / 1e18
    }
}
