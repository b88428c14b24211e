import Crypto
import Foundation

/// Where the adapter's `/sync` stream stands, kept in a small file in the data folder so that a
/// restart goes on from the last batch it handled: nothing is replayed, nothing skipped.
public struct MatrixSyncPosition: Sendable {
    /// The file, `matrix-sync-<hash of the user id>.json` in the data folder.
    public let path: String

    /// The position file for `userID` in `dataDirectory`.
    public init(dataDirectory: String, userID: String) {
        let digest = SHA256.hash(data: Data(userID.utf8)).prefix(8).map { String(format: "%02x", $0) }.joined()
        path = (dataDirectory as NSString).appendingPathComponent("matrix-sync-\(digest).json")
    }

    private struct Saved: Codable {
        var nextBatch: String

        enum CodingKeys: String, CodingKey {
            case nextBatch = "next_batch"
        }
    }

    /// The `next_batch` token last saved, or nil on the very first start.
    public func load() -> String? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        return try? JSONDecoder().decode(Saved.self, from: data).nextBatch
    }

    /// Saves `token`, replacing the file atomically so a crash leaves the old position or the new one.
    public func save(_ token: String) throws {
        let folder = (path as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try JSONEncoder().encode(Saved(nextBatch: token)).write(to: URL(fileURLWithPath: path), options: .atomic)
    }
}
