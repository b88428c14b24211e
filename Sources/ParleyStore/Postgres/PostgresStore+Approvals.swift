import Foundation
import ParleyCore
import PostgresNIO

extension PostgresStore {
    static let approvalColumns = """
        id, kind, run_id, command_id, text, command_hash, requester_user, requester_identity, room, platform, thread, \
        required, approver_roles, then_approvals, created_at, expires_at, status, decided_at, reason, step, plan_hash
        """

    static func approval(_ row: PostgresRandomAccessRow) throws -> ApprovalRequest {
        var request = ApprovalRequest(
            id: try row.value("id"), kind: GateKind(rawValue: try row.value("kind")) ?? .approval,
            runID: try row.value("run_id"), commandID: try row.value("command_id"), text: try row.value("text"),
            commandHash: try row.value("command_hash"), requesterUser: try row.value("requester_user"),
            requesterIdentity: try row.value("requester_identity"), room: try row.value("room"),
            platform: try row.value("platform"), thread: try row.value("thread"),
            required: try row.value("required", as: Int.self),
            approverRoles: JSONMaps.list(try row.value("approver_roles")),
            thenApprovals: try row.value("then_approvals", as: Int.self), createdAt: try row.value("created_at"),
            expiresAt: try row.value("expires_at"),
            status: GateStatus(rawValue: try row.value("status")) ?? .expired, decidedAt: try row.value("decided_at"),
            reason: try row.value("reason"), step: try row.value("step", as: Int?.self))
        request.planHash = try row.value("plan_hash")
        return request
    }

    public func insertApproval(_ request: ApprovalRequest) async throws {
        let clean = StoredText.clean
        _ = try await rows(
            """
            INSERT INTO approval (\(unescaped: Self.approvalColumns)) VALUES (\(request.id), \(request.kind.rawValue), \
            \(request.runID), \(request.commandID), \(clean(request.text)), \(request.commandHash), \
            \(request.requesterUser.map(clean)), \(clean(request.requesterIdentity)), \(clean(request.room)), \
            \(request.platform), \(request.thread.map(clean)), \(request.required), \
            \(JSONMaps.text(request.approverRoles)), \(request.thenApprovals), \(request.createdAt), \
            \(request.expiresAt), \(request.status.rawValue), \(request.decidedAt), \(clean(request.reason)), \
            \(request.step), \(request.planHash))
            """)
    }

    public func approval(id: String) async throws -> ApprovalRequest? {
        try await rows("SELECT \(unescaped: Self.approvalColumns) FROM approval WHERE id = \(id)").first.map(
            Self.approval)
    }

    public func addVote(_ vote: ApprovalVote) async throws -> Bool {
        try await !rows(
            """
            INSERT INTO approval_vote (approval_id, voter, identity, approve, reason, at) VALUES (\(vote.approvalID), \
            \(StoredText.clean(vote.voter)), \(StoredText.clean(vote.identity)), \(vote.approve), \
            \(StoredText.clean(vote.reason)), \(vote.at)) ON CONFLICT DO NOTHING RETURNING voter
            """
        ).isEmpty
    }

    public func votes(approvalID: String) async throws -> [ApprovalVote] {
        try await rows(
            """
            SELECT approval_id, voter, identity, approve, reason, at FROM approval_vote \
            WHERE approval_id = \(approvalID) ORDER BY at, voter
            """
        ).map { row in
            ApprovalVote(
                approvalID: try row.value("approval_id"), voter: try row.value("voter"),
                identity: try row.value("identity"), approve: try row.value("approve"), reason: try row.value("reason"),
                at: try row.value("at"))
        }
    }

    public func settleApproval(id: String, status: GateStatus, reason: String, at date: Date) async throws -> Bool {
        try await !rows(
            """
            UPDATE approval SET status = \(status.rawValue), reason = \(StoredText.clean(reason)), decided_at = \(date) \
            WHERE id = \(id) AND status = 'pending' RETURNING id
            """
        ).isEmpty
    }

    public func releaseApproval(id: String, reason: String, at date: Date, owner: String) async throws -> RunRecord? {
        try await transaction { transaction in
            let settled = try await transaction.rows(
                """
                UPDATE approval SET status = 'approved', reason = \(StoredText.clean(reason)), decided_at = \(date) \
                WHERE id = \(id) AND status = 'pending' RETURNING run_id
                """)
            guard let runID = try settled.first?.value("run_id", as: Int64.self) else { return nil }
            return try await transaction.rows(
                """
                UPDATE run SET status = CASE WHEN status IN ('awaiting_approval', 'awaiting_confirmation') \
                THEN 'running' ELSE status END, \
                owner = CASE WHEN status IN ('awaiting_approval', 'awaiting_confirmation') THEN \(owner) ELSE owner END, \
                epoch = CASE WHEN status IN ('awaiting_approval', 'awaiting_confirmation') THEN epoch + 1 ELSE epoch END \
                WHERE id = \(runID) RETURNING \(unescaped: PostgresRuns.columns)
                """
            ).first.map(PostgresRuns.record)
        }
    }

    public func pendingApprovals() async throws -> [ApprovalRequest] {
        try await rows(
            "SELECT \(unescaped: Self.approvalColumns) FROM approval WHERE status = 'pending' ORDER BY created_at, id"
        ).map(Self.approval)
    }

    public func decidedApprovals(limit: Int) async throws -> [ApprovalRequest] {
        try await rows(
            """
            SELECT \(unescaped: Self.approvalColumns) FROM approval WHERE status <> 'pending' \
            ORDER BY decided_at DESC NULLS LAST, id DESC LIMIT \(max(0, limit))
            """
        ).map(Self.approval)
    }

    public func metadata(_ key: String) async throws -> String? {
        try await rows("SELECT value FROM metadata WHERE key = \(key)").first?.value("value")
    }

    public func setMetadata(_ key: String, _ value: String) async throws {
        _ = try await rows(
            """
            INSERT INTO metadata (key, value) VALUES (\(key), \(StoredText.clean(value))) \
            ON CONFLICT (key) DO UPDATE SET value = excluded.value
            """)
    }

    // MARK: Passwords, sessions, tokens

    public func passwordHash(userName: String) async throws -> String? {
        try await rows("SELECT hash FROM credential WHERE user_name = \(userName)").first?.value("hash")
    }

    public func setPasswordHash(_ hash: String, userName: String) async throws {
        try await transaction { transaction in
            try await transaction.execute(
                """
                INSERT INTO credential (user_name, hash, updated_at) VALUES (\(userName), \(hash), \(Date())) \
                ON CONFLICT (user_name) DO UPDATE SET hash = excluded.hash, updated_at = excluded.updated_at
                """)
            // A new password ends every session of the old one.
            try await transaction.execute("DELETE FROM session WHERE user_name = \(userName)")
        }
    }

    public func hasAnyPassword() async throws -> Bool {
        try await !rows("SELECT 1 AS one FROM credential LIMIT 1").isEmpty
    }

    public func insertSession(_ session: SessionRecord) async throws {
        try await transaction { transaction in
            try await transaction.execute("DELETE FROM session WHERE expires_at < \(Date())")
            try await transaction.execute(
                """
                INSERT INTO session (token_hash, user_name, csrf_token, created_at, expires_at) VALUES \
                (\(session.tokenHash), \(session.userName), \(session.csrfToken), \(session.createdAt), \
                \(session.expiresAt))
                """)
        }
    }

    public func session(tokenHash: String, now: Date) async throws -> SessionRecord? {
        try await rows(
            """
            SELECT token_hash, user_name, csrf_token, created_at, expires_at FROM session \
            WHERE token_hash = \(tokenHash) AND expires_at > \(now)
            """
        ).first.map { row in
            SessionRecord(
                tokenHash: try row.value("token_hash"), userName: try row.value("user_name"),
                csrfToken: try row.value("csrf_token"), createdAt: try row.value("created_at"),
                expiresAt: try row.value("expires_at"))
        }
    }

    public func deleteSession(tokenHash: String) async throws {
        _ = try await rows("DELETE FROM session WHERE token_hash = \(tokenHash)")
    }

    static let tokenColumns = "id, secret_hash, user_name, scopes, name, created_at, revoked_at, last_used_at"

    static func token(_ row: PostgresRandomAccessRow) throws -> APITokenRecord {
        APITokenRecord(
            id: try row.value("id"), secretHash: try row.value("secret_hash"), userName: try row.value("user_name"),
            scopes: JSONMaps.list(try row.value("scopes")), name: try row.value("name"),
            createdAt: try row.value("created_at"), revokedAt: try row.value("revoked_at"),
            lastUsedAt: try row.value("last_used_at"))
    }

    public func insertToken(_ token: APITokenRecord) async throws {
        _ = try await rows(
            """
            INSERT INTO api_token (\(unescaped: Self.tokenColumns)) VALUES (\(token.id), \(token.secretHash), \
            \(token.userName), \(JSONMaps.text(token.scopes)), \(StoredText.clean(token.name)), \(token.createdAt), \
            \(token.revokedAt), \(token.lastUsedAt))
            """)
    }

    public func token(id: String) async throws -> APITokenRecord? {
        try await rows("SELECT \(unescaped: Self.tokenColumns) FROM api_token WHERE id = \(id)").first.map(Self.token)
    }

    public func tokens() async throws -> [APITokenRecord] {
        try await rows("SELECT \(unescaped: Self.tokenColumns) FROM api_token ORDER BY created_at, id").map(Self.token)
    }

    public func revokeToken(id: String, at date: Date) async throws -> Bool {
        try await !rows(
            "UPDATE api_token SET revoked_at = \(date) WHERE id = \(id) AND revoked_at IS NULL RETURNING id"
        ).isEmpty
    }

    public func touchToken(id: String, at date: Date) async throws {
        _ = try await rows("UPDATE api_token SET last_used_at = \(date) WHERE id = \(id)")
    }

    // MARK: Locks and steps

    public func acquireLock(_ lock: LockRecord) async throws -> LockRecord? {
        try await transaction { transaction in
            let taken = try await transaction.rows(
                """
                INSERT INTO run_lock (name, run_id, holder, acquired_at) VALUES (\(lock.name), \(lock.runID), \
                \(StoredText.clean(lock.holder)), \(lock.acquiredAt)) ON CONFLICT DO NOTHING RETURNING name
                """)
            guard taken.isEmpty else { return nil }
            return try await transaction.rows(
                "SELECT name, run_id, holder, acquired_at FROM run_lock WHERE name = \(lock.name)"
            ).first.map { row in
                LockRecord(
                    name: try row.value("name"), runID: try row.value("run_id"), holder: try row.value("holder"),
                    acquiredAt: try row.value("acquired_at"))
            }
        }
    }

    public func releaseLock(name: String, runID: Int64) async throws {
        _ = try await rows("DELETE FROM run_lock WHERE name = \(name) AND run_id = \(runID)")
    }

    public func releaseStaleLocks() async throws -> Int {
        try await rows(
            """
            DELETE FROM run_lock WHERE run_id NOT IN (SELECT id FROM run WHERE status IN \
            ('running', 'awaiting_approval', 'awaiting_confirmation')) RETURNING name
            """
        ).count
    }

    public func saveStep(_ step: StepRecord, epoch: Int64?) async throws -> Bool {
        // Fenced: the run's row, still at this epoch, is share-locked for the write, so a take-over
        // (which moves the epoch on) waits for it or, committed first, makes it write nothing. Both
        // numbers are integers, written into the text as such.
        let fence = epoch.map { " FROM run WHERE id = \(step.runID) AND epoch = \($0) FOR SHARE" } ?? ""
        return try await !rows(
            """
            INSERT INTO run_step (run_id, path, name, status, attempts, started_at, finished_at, output, outputs, \
            message) SELECT \(step.runID), \(step.path), \(StoredText.clean(step.name)), \(step.status.rawValue), \
            \(step.attempts), \(step.startedAt), \(step.finishedAt), \(StoredText.clean(step.output)), \
            \(JSONText.object(step.outputs.mapValues(StoredText.clean))), \(StoredText.clean(step.message))\(unescaped: fence) \
            ON CONFLICT (run_id, path) DO UPDATE SET name = excluded.name, status = excluded.status, \
            attempts = excluded.attempts, started_at = excluded.started_at, finished_at = excluded.finished_at, \
            output = excluded.output, outputs = excluded.outputs, message = excluded.message RETURNING run_id
            """
        ).isEmpty
    }

    public func steps(runID: Int64) async throws -> [StepRecord] {
        try await rows(
            """
            SELECT run_id, path, name, status, attempts, started_at, finished_at, output, outputs, message \
            FROM run_step WHERE run_id = \(runID) ORDER BY started_at NULLS FIRST, path
            """
        ).map { row in
            StepRecord(
                runID: try row.value("run_id"), path: try row.value("path"), name: try row.value("name"),
                status: StepStatus(rawValue: try row.value("status")) ?? .interrupted,
                attempts: try row.value("attempts", as: Int.self), startedAt: try row.value("started_at"),
                finishedAt: try row.value("finished_at"), output: try row.value("output"),
                outputs: JSONMaps.map(try row.value("outputs")), message: try row.value("message"))
        }
    }

    public func adoptRun(id: Int64, owner: String, from previous: String?) async throws -> Bool {
        try await !rows(
            """
            UPDATE run SET owner = \(owner), epoch = epoch + 1 WHERE id = \(id) AND status = 'running' \
            AND owner IS NOT DISTINCT FROM \(previous) RETURNING id
            """
        ).isEmpty
    }
}
