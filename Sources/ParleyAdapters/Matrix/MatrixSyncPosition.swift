import Crypto
import Foundation
import ParleyEngine

/// Where the adapter's `/sync` stream stands, kept in the store every replica shares, so that a
/// restart — or another replica taking the connection over — goes on from the last batch handled:
/// nothing is skipped, and what is handled twice (a batch handled but not yet saved when its
/// replica died) is dropped by the event keys.
public struct MatrixSyncPosition: Sendable {
    /// The store key: `matrix-sync:<user id>`.
    public let key: String
    /// Where a Parley before 2026-12 kept it: `matrix-sync-<hash of the user id>.json` in the data
    /// folder. Read once when the store has no position yet, so that an upgrade skips nothing.
    public let legacyPath: String
    let handler: any MessageHandler

    /// The position of `userID`'s stream.
    public init(handler: any MessageHandler, userID: String) {
        self.handler = handler
        key = "matrix-sync:" + userID
        let digest = SHA256.hash(data: Data(userID.utf8)).prefix(8).map { String(format: "%02x", $0) }.joined()
        legacyPath = (handler.config.dataDirectory as NSString).appendingPathComponent("matrix-sync-\(digest).json")
    }

    private struct Saved: Codable {
        var nextBatch: String

        enum CodingKeys: String, CodingKey {
            case nextBatch = "next_batch"
        }
    }

    /// The `next_batch` token last saved, or nil on the very first start.
    public func load() async throws -> String? {
        if let saved = try await handler.adapterState(key) { return saved }
        guard let data = FileManager.default.contents(atPath: legacyPath) else { return nil }
        return try? JSONDecoder().decode(Saved.self, from: data).nextBatch
    }

    /// Saves `token`: the store holds the old position or the new one, never half of either.
    public func save(_ token: String) async throws {
        try await handler.setAdapterState(key, token)
    }
}
