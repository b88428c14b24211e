import Crypto
import Foundation
import ParleyCore
import ParleyStore

/// Appends to the audit chain with group commit: appends that arrive while a batch is being written
/// wait for the next batch, so a burst of commands shares one transaction and one fsync.
///
/// Every caller gets its entry back only once it is durable. Secrets are masked before anything is
/// written. Every `checkpointEvery` entries the head of the chain is signed with Parley's key.
public actor AuditLog {
    private let store: any AuditStore
    private let masker: SecretMasker
    private let signingKey: Curve25519.Signing.PrivateKey?
    private let checkpointEvery: Int
    private var pending: [(commit: AuditCommit, waiter: CheckedContinuation<AuditCommitResult, any Error>)] = []
    private var flushing = false
    private var sinceCheckpoint = 0
    /// Entries appended by this process, for metrics.
    public private(set) var appendedCount = 0

    /// Creates a log over a store.
    public init(
        store: any AuditStore, masker: SecretMasker, signingKey: Curve25519.Signing.PrivateKey?, checkpointEvery: Int
    ) {
        self.store = store
        self.masker = masker
        self.signingKey = signingKey
        self.checkpointEvery = max(1, checkpointEvery)
    }

    /// Appends one entry and returns it once it is on disk; with `run`, the run's new state is written in
    /// the same transaction.
    @discardableResult
    public func append(_ draft: AuditDraft, updating run: RunRecord? = nil) async throws -> AuditEntry {
        guard let entry = try await commit(AuditCommit(drafts: [draft], updatingRun: run)).entries.first else {
            throw AuditLogError.notWritten
        }
        return entry
    }

    /// Writes a message's records and the entries telling of them in one commit, shared with whatever
    /// else is being appended at the moment, and returns once it is on disk.
    public func commit(_ commit: AuditCommit) async throws -> AuditCommitResult {
        var masked = commit
        masked.drafts = commit.drafts.map(mask)
        guard flushing else {
            // Nobody is writing: this task writes its own commit, with no hand-off to another thread;
            // commits arriving meanwhile queue up and are written together right after it.
            flushing = true
            defer { handOff() }
            let results = try await store.commitAudit([masked], at: Date())
            await noteWritten(results)
            guard let result = results.first else { throw AuditLogError.notWritten }
            return result
        }
        return try await withCheckedThrowingContinuation { waiter in
            pending.append((masked, waiter))
        }
    }

    /// After a write: whoever queued meanwhile is written next, as one batch.
    private func handOff() {
        if pending.isEmpty {
            flushing = false
        } else {
            Task { await self.flush() }
        }
    }

    /// Signs the current head of the chain now (at export, at shutdown). Nil when the log is empty.
    @discardableResult
    public func checkpoint() async throws -> AuditCheckpoint? {
        guard let signingKey, let head = try await store.lastAuditEntry() else { return nil }
        let checkpoint = try AuditCheckpoint.sign(seq: head.seq, hash: head.hash, key: signingKey)
        try await store.insertCheckpoint(checkpoint)
        sinceCheckpoint = 0
        return checkpoint
    }

    private func flush() async {
        while !pending.isEmpty {
            let batch = pending
            pending = []
            do {
                try await write(batch)
            } catch  where batch.count > 1 {
                // One bad commit (a run that is not recorded) must not fail the others: one at a time.
                for item in batch {
                    do { try await write([item]) } catch { item.waiter.resume(throwing: error) }
                }
            } catch {
                for item in batch { item.waiter.resume(throwing: error) }
            }
        }
        flushing = false
    }

    private func write(
        _ batch: [(commit: AuditCommit, waiter: CheckedContinuation<AuditCommitResult, any Error>)]
    ) async throws {
        let results = try await store.commitAudit(batch.map(\.commit), at: Date())
        await noteWritten(results)
        for (item, result) in zip(batch, results) { item.waiter.resume(returning: result) }
    }

    /// Counts what was written, and signs a checkpoint when one is due: before anyone is told their
    /// entry is written, so a checkpoint that is due exists.
    private func noteWritten(_ results: [AuditCommitResult]) async {
        let written = results.reduce(0) { $0 + $1.entries.count }
        sinceCheckpoint += written
        appendedCount += written
        if sinceCheckpoint >= checkpointEvery { _ = try? await checkpoint() }
    }

    private func mask(_ draft: AuditDraft) -> AuditDraft {
        guard !masker.isEmpty else { return draft }
        var masked = draft
        masked.arguments = draft.arguments.mapValues(masker.mask)
        masked.detail = masker.mask(draft.detail)
        masked.outcome = masker.mask(draft.outcome)
        masked.decision = masker.mask(draft.decision)
        return masked
    }
}

/// Why an append did not return its entry.
public enum AuditLogError: Error, CustomStringConvertible {
    /// The store wrote nothing for it.
    case notWritten

    public var description: String { "the audit entry was not written" }
}

/// Parley's Ed25519 audit key, kept in the data directory (mode 0600) and created on first use.
public enum AuditKeys {
    /// The key file's name inside the data directory.
    public static let fileName = "audit-signing.key"

    /// Loads the key, creating it if there is none.
    public static func loadOrCreate(dataDirectory: String) throws -> Curve25519.Signing.PrivateKey {
        let path = (dataDirectory as NSString).appendingPathComponent(fileName)
        if let data = FileManager.default.contents(atPath: path),
            let raw = Data(
                base64Encoded: String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
        {
            return try Curve25519.Signing.PrivateKey(rawRepresentation: raw)
        }
        try FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true)
        let key = Curve25519.Signing.PrivateKey()
        let created = FileManager.default.createFile(
            atPath: path, contents: Data((key.rawRepresentation.base64EncodedString() + "\n").utf8),
            attributes: [.posixPermissions: 0o600])
        guard created else { throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: path]) }
        return key
    }

    /// The public key as base64, for auditors.
    public static func publicKeyText(_ key: Curve25519.Signing.PrivateKey) -> String {
        key.publicKey.rawRepresentation.base64EncodedString()
    }

    /// Reads a base64 public key.
    public static func publicKey(from text: String) -> Curve25519.Signing.PublicKey? {
        guard let raw = Data(base64Encoded: text.trimmingCharacters(in: .whitespacesAndNewlines)) else { return nil }
        return try? Curve25519.Signing.PublicKey(rawRepresentation: raw)
    }
}
