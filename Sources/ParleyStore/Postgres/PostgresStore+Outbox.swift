import Foundation
import PostgresNIO

extension PostgresStore {
    public func enqueueOutbound(
        platform: String, room: String, thread: String?, action: OutboxMessage.Action, reference: String?,
        body: String
    ) async throws -> Int64 {
        let rows = try await rows(
            """
            INSERT INTO outbox (platform, room, thread, action, reference, body, queued_at, state, due_at)
            VALUES (\(platform), \(room), \(thread), \(action.rawValue), \(reference), \(body), now(), 'queued', now())
            RETURNING id
            """)
        guard let id = try rows.first?.value("id", as: Int64.self) else { throw StoreError.unknownRun(nil) }
        return id
    }

    public func claimOutbound(platform: String, holder: String, ttl: Duration, limit: Int) async throws
        -> [OutboxMessage]
    {
        let seconds = ttl.seconds
        // SKIP LOCKED: two claimers at once (a leader and its successor for a moment) take different rows.
        return try await rows(
            """
            WITH due AS (
              SELECT id FROM outbox WHERE platform = \(platform) AND state = 'queued' AND due_at <= now()
                AND (claimed_until IS NULL OR claimed_until <= now())
              ORDER BY id LIMIT \(max(limit, 1)) FOR UPDATE SKIP LOCKED)
            UPDATE outbox SET claimed_by = \(holder), claimed_until = now() + make_interval(secs => \(seconds))
            FROM due WHERE outbox.id = due.id
            RETURNING outbox.id, platform, room, thread, action, reference, body, queued_at, attempts
            """
        ).map { row in
            OutboxMessage(
                id: try row.value("id"), platform: try row.value("platform"), room: try row.value("room"),
                thread: try row.value("thread"),
                action: OutboxMessage.Action(rawValue: try row.value("action", as: String.self)) ?? .send,
                reference: try row.value("reference"), body: try row.value("body"),
                queuedAt: try row.value("queued_at"), attempts: Int(try row.value("attempts", as: Int64.self)))
        }.sorted { $0.id < $1.id }
    }

    public func settleOutbound(id: Int64, outcome: OutboxOutcome) async throws {
        let (state, result) = outcome.stored
        try await transaction { transaction in
            try await transaction.execute(
                """
                UPDATE outbox SET state = \(state), result = \(result), settled_at = now(), claimed_by = NULL,
                  claimed_until = NULL
                WHERE id = \(id)
                """)
            try await transaction.execute(
                """
                DELETE FROM outbox WHERE id IN
                  (SELECT id FROM outbox WHERE state != 'queued' AND settled_at < now() - interval '1 day' LIMIT 100)
                """)
        }
    }

    public func retryOutbound(id: Int64, after delay: Duration, failure: String?) async throws {
        let seconds = delay.seconds
        let counted: Int64 = failure == nil ? 0 : 1
        _ = try await rows(
            """
            UPDATE outbox SET due_at = now() + make_interval(secs => \(seconds)), claimed_by = NULL,
              claimed_until = NULL, attempts = attempts + \(counted), result = coalesce(\(failure), result)
            WHERE id = \(id) AND state = 'queued'
            """)
    }

    public func outboundOutcome(id: Int64) async throws -> OutboxOutcome? {
        try await rows("SELECT state, result FROM outbox WHERE id = \(id)").first.map { row in
            OutboxOutcome(state: try row.value("state"), result: try row.value("result"))
        }
    }
}
