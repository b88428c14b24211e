import Crypto
import Foundation
import Logging
import ParleyCore
import ParleyStore

/// Appends to the audit chain with group commit: appends that arrive while a batch is being written
/// wait for the next batch, so a burst of commands shares one transaction and one fsync.
///
/// Every caller gets its entry back only once it is durable. Secrets are masked before anything is
/// written. The head of the chain is signed on the schedule: once `every` entries follow the last
/// checkpoint, and before appending once the oldest unsigned entry is `interval` old. Both are counted
/// from the stored chain (the last checkpoint and the entries after it), not from this process, so a
/// restart or a crash does not reset them. Each checkpoint also goes to the witnesses.
/// Its fields are the commit queue, the checkpoint schedule and the witnesses: they share this actor so that
/// a checkpoint is signed over exactly the entries committed before it.
public actor AuditLog {
    private let store: any AuditStore
    private let masker: SecretMasker
    private let signingKey: Curve25519.Signing.PrivateKey?
    /// The schedule checkpoints are signed on.
    public let schedule: AuditSchedule
    private let witnesses: WitnessQueue
    private let now: @Sendable () -> Date
    private let logger: Logger
    private var pending: [(commit: AuditCommit, waiter: CheckedContinuation<AuditCommitResult, any Error>)] = []
    private var flushing = false
    /// What this log knows of the chain; read from the store at first use.
    private var position: ChainPosition?
    /// Entries appended by this process, for metrics.
    public private(set) var appendedCount = 0

    /// Where the chain stands: its last signed entry, its head, and when the oldest unsigned entry was
    /// appended (nil when unknown, then read again from the store).
    private struct ChainPosition {
        var lastSigned: Int64
        var head: Int64
        var firstUnsignedAt: Date?
        var unsigned: Int64 { head - lastSigned }
    }

    /// Creates a log over a store. `now` is the clock entries and checkpoints are stamped with.
    public init(
        store: any AuditStore, masker: SecretMasker, signingKey: Curve25519.Signing.PrivateKey?,
        schedule: AuditSchedule, witnesses: [any AuditWitness] = [], now: @escaping @Sendable () -> Date = { Date() },
        logger: Logger = Logger(label: "parley.audit")
    ) {
        self.store = store
        self.masker = masker
        self.signingKey = signingKey
        self.schedule = schedule
        self.witnesses = WitnessQueue(witnesses: witnesses, logger: logger)
        self.now = now
        self.logger = logger
    }

    /// Creates a log that signs every `checkpointEvery` entries or five minutes.
    public init(
        store: any AuditStore, masker: SecretMasker, signingKey: Curve25519.Signing.PrivateKey?, checkpointEvery: Int
    ) {
        self.init(
            store: store, masker: masker, signingKey: signingKey,
            schedule: AuditSchedule(
                every: Int64(checkpointEvery), intervalSeconds: AuditSchedule.standard.intervalSeconds))
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
            await signIfDue(adding: masked.drafts.count)
            let results = try await store.commitAudit([masked], at: now())
            await noteWritten(results)
            guard let result = results.first else { throw AuditLogError.notWritten }
            return try Self.written(result)
        }
        return try Self.written(
            try await withCheckedThrowingContinuation { waiter in
                pending.append((masked, waiter))
            })
    }

    /// A commit's result, or the error of a commit that was refused for a run taken over.
    private static func written(_ result: AuditCommitResult) throws -> AuditCommitResult {
        if let id = result.takenOverRun { throw StoreError.runTakenOver(id) }
        return result
    }

    /// After a write: whoever queued meanwhile is written next, as one batch.
    private func handOff() {
        if pending.isEmpty {
            flushing = false
        } else {
            Task { await self.flush() }
        }
    }

    /// Signs the current head of the chain now (at export, at shutdown, when due). Nil when the log is
    /// empty or there is no key.
    @discardableResult
    public func checkpoint() async throws -> AuditCheckpoint? {
        guard let signingKey, let head = try await store.lastAuditEntry() else { return nil }
        let checkpoint = try AuditCheckpoint.sign(
            seq: head.seq, hash: head.hash, key: signingKey, schedule: schedule, at: now())
        try await store.insertCheckpoint(checkpoint)
        // A batch written while this was signed stays counted: its entries are read again when needed.
        let known = max(position?.head ?? head.seq, head.seq)
        position = ChainPosition(lastSigned: head.seq, head: known, firstUnsignedAt: nil)
        await witnesses.send(checkpoint)
        return checkpoint
    }

    /// Signs the head when the schedule says it is due: `every` entries or more follow the last
    /// checkpoint (or will, with the `adding` entries about to be written), or the oldest of them is
    /// one interval old. Called before every append, at start and by the timer, so a chain left past
    /// due by a stopped or killed process is signed first thing, and no stretch grows past `every`.
    public func signIfDue(adding: Int = 0) async {
        guard signingKey != nil else { return }
        do {
            let position = try await currentPosition()
            guard position.unsigned > 0 else { return }
            let old = position.firstUnsignedAt.map { now().timeIntervalSince($0) >= Double(schedule.intervalSeconds) }
            if position.unsigned + Int64(adding) > schedule.every || old ?? true { try await checkpoint() }
        } catch {
            logger.error("cannot sign the audit checkpoint that is due: \(error)")
        }
    }

    /// Until cancelled: signs when due, at least four times per interval (at most a minute apart), and
    /// sends the witnesses what they missed.
    public func runTimer() async {
        let tick = min(max(schedule.intervalSeconds / 4, 1), 60)
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(tick))
            guard !Task.isCancelled else { return }
            await signIfDue()
            await witnesses.retry()
        }
    }

    /// Waits until the witnesses were sent every checkpoint so far (or a send to one failed, to be
    /// retried later): at shutdown, so that a short-lived process's last head reaches them.
    public func settleWitnesses() async {
        await witnesses.retry()
        await witnesses.settle()
    }

    /// The chain's position, read from the store when it is not known (at first use, and after a
    /// checkpoint, when another process may have appended since).
    private func currentPosition() async throws -> ChainPosition {
        if let position, position.firstUnsignedAt != nil { return position }
        let lastSigned = max(try await store.lastCheckpoint()?.seq ?? 0, position?.lastSigned ?? 0)
        let head = try await store.lastAuditEntry()?.seq ?? 0
        var known = ChainPosition(lastSigned: lastSigned, head: max(head, lastSigned), firstUnsignedAt: nil)
        if head > lastSigned {
            // An entry whose time cannot be read counts as old: the chain is signed rather than left.
            let first = try await store.auditEntry(seq: lastSigned + 1)
            known.firstUnsignedAt = first.flatMap { AuditClock.parse($0.at) } ?? .distantPast
        }
        position = known
        return known
    }

    private func flush() async {
        while !pending.isEmpty {
            let batch = nextBatch()
            await signIfDue(adding: batch.reduce(0) { $0 + $1.commit.drafts.count })
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

    /// The waiting commits, up to the schedule's batch limit of entries (at least one commit), so that a
    /// checkpoint is never more than one batch late.
    private func nextBatch() -> [(commit: AuditCommit, waiter: CheckedContinuation<AuditCommitResult, any Error>)] {
        var count = 0
        var taken = 0
        for item in pending {
            if taken > 0 && count + item.commit.drafts.count > schedule.batchLimit { break }
            count += item.commit.drafts.count
            taken += 1
        }
        let batch = Array(pending.prefix(taken))
        pending.removeFirst(taken)
        return batch
    }

    private func write(
        _ batch: [(commit: AuditCommit, waiter: CheckedContinuation<AuditCommitResult, any Error>)]
    ) async throws {
        let results = try await store.commitAudit(batch.map(\.commit), at: now())
        await noteWritten(results)
        for (item, result) in zip(batch, results) { item.waiter.resume(returning: result) }
    }

    /// Counts what was written, and signs a checkpoint when one is due: before anyone is told their
    /// entry is written, so a checkpoint that is due exists.
    private func noteWritten(_ results: [AuditCommitResult]) async {
        let entries = results.flatMap(\.entries)
        appendedCount += entries.count
        guard signingKey != nil, let first = entries.first, let last = entries.last else { return }
        if var known = position {
            known.head = max(known.head, last.seq)
            if known.firstUnsignedAt == nil, first.seq == known.lastSigned + 1 {
                known.firstUnsignedAt = AuditClock.parse(first.at)
            }
            position = known
        }
        do {
            if try await currentPosition().unsigned >= schedule.every { try await checkpoint() }
        } catch {
            logger.error("cannot sign the audit checkpoint that is due: \(error)")
        }
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
