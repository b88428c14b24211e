import Foundation
import Hummingbird
import ParleyCore
import ParleyEngine
import ParleyStore

/// The console page and the dashboard: runs, approvals, audit, users and roles.
struct DashboardRoutes {
    let engine: Engine
    let store: any ParleyStorage
    let settings: ServerSettings
    let pages: PageTemplates

    func register(on router: Router<ParleyRequestContext>) {
        router.get("/") { _, context in page(context, .console, title: "Console") { _ in PageContent.none } }
        router.get("runs") { request, context in try await runs(request, context) }
        router.get("runs/{id}") { _, context in try await run(context) }
        router.get("approvals") { _, context in try await approvals(context) }
        router.post("approvals/{id}/{answer}") { request, context in try await answer(request, context) }
        router.get("audit") { request, context in try await audit(request, context) }
        router.get("users") { _, context in page(context, .users, title: "Users and roles") { _ in users() } }
        router.get("cluster") { _, context in try await cluster(context) }
    }

    /// A page for the signed-in person; the sign-in page for anyone else.
    private func page(
        _ context: ParleyRequestContext, _ name: PageTemplates.Name, title: String,
        content: (Authenticated) -> some Any
    ) -> Response {
        guard let auth = context.auth, auth.method == .session else { return HTML.redirect("/login") }
        return pages.response(name, title: title, auth: auth, content: content(auth))
    }

    struct RunsContent {
        struct Status {
            let name: String
            let selected: Bool
        }

        struct Row {
            let id: Int64
            let status: String
            let who: String
            let command: String
            let room: String
            let when: String
        }

        let filterUser: String
        let filterCommand: String
        let statuses: [Status]
        let runs: [Row]
    }

    private func runs(_ request: Request, _ context: ParleyRequestContext) async throws -> Response {
        let query = request.uri.queryParameters
        var runQuery = RunQuery(limit: 100)
        runQuery.userName = query["user"].map(String.init).flatMap { $0.isEmpty ? nil : $0 }
        runQuery.commandID = query["command"].map(String.init).flatMap { $0.isEmpty ? nil : $0 }
        runQuery.status = query["status"].flatMap { RunStatus(rawValue: String($0)) }
        let runs = try await store.runs(runQuery)
        return page(context, .runs, title: "Runs") { _ in
            RunsContent(
                filterUser: runQuery.userName ?? "", filterCommand: runQuery.commandID ?? "",
                statuses: ([""] + RunStatus.allCases.map(\.rawValue)).map {
                    RunsContent.Status(name: $0, selected: $0 == runQuery.status?.rawValue)
                },
                runs: runs.map { run in
                    RunsContent.Row(
                        id: run.id ?? 0, status: run.status.rawValue, who: run.userName ?? run.identity,
                        command: run.text,
                        room: run.room, when: AuditClock.format(run.createdAt))
                })
        }
    }

    struct RunContent {
        struct Field {
            let name: String
            let value: String
        }

        let id: Int64
        let fields: [Field]
        let timeline: TextTable
        /// The run's output; nil when it printed nothing.
        let output: String?
    }

    private func run(_ context: ParleyRequestContext) async throws -> Response {
        guard let id = context.parameters.get("id", as: Int64.self), let run = try await store.run(id: id) else {
            return page(context, .missingRun, title: "Run") { _ in PageContent.none }
        }
        let steps = try await store.auditEntries(AuditQuery(runID: id, limit: 10_000))
        return page(context, .run, title: "Run #\(id)") { _ in
            let fields: [RunContent.Field] = [
                .init(name: "status", value: run.status.rawValue),
                .init(name: "who", value: run.userName.map { "\($0) (\(run.identity))" } ?? run.identity),
                .init(name: "where", value: run.room), .init(name: "command", value: run.text),
                .init(name: "decision", value: "\(run.decision.rawValue): \(run.reason)"),
                .init(name: "exit status", value: run.exitCode.map(String.init) ?? ""),
                .init(name: "took", value: run.durationMilliseconds.map { "\($0) ms" } ?? ""),
            ]
            return RunContent(
                id: id, fields: fields.filter { !$0.value.isEmpty },
                timeline: TextTable(
                    ["seq", "at", "step", "by", "result"],
                    steps.map { ["#\($0.seq)", $0.at, $0.kind, $0.actor, $0.outcome.isEmpty ? $0.detail : $0.outcome] }
                ),
                output: run.output.isEmpty ? nil : run.output)
        }
    }

    struct ApprovalsContent {
        struct Pending {
            let id: String
            let command: String
            let requester: String
            let approvers: String
            let expires: String
            /// True for an approval request (approve / deny buttons); false for a confirmation.
            let needsApproval: Bool
        }

        let pending: [Pending]
        let decided: TextTable
    }

    private func approvals(_ context: ParleyRequestContext) async throws -> Response {
        try await engine.expireDueApprovals()
        let pending = try await store.pendingApprovals()
        let decided = try await store.decidedApprovals(limit: 50)
        return page(context, .approvals, title: "Approvals") { _ in
            ApprovalsContent(
                pending: pending.map {
                    ApprovalsContent.Pending(
                        id: $0.id, command: $0.text, requester: $0.requesterUser ?? $0.requesterIdentity,
                        approvers: $0.approverRoles.joined(separator: ", "), expires: AuditClock.format($0.expiresAt),
                        needsApproval: $0.kind == .approval)
                },
                decided: TextTable(
                    ["id", "command", "by", "status", "reason"],
                    decided.map {
                        [$0.id, $0.text, $0.requesterUser ?? $0.requesterIdentity, $0.status.rawValue, $0.reason]
                    }))
        }
    }

    private func answer(_ request: Request, _ context: ParleyRequestContext) async throws -> Response {
        guard let auth = context.auth, auth.method == .session else { return HTML.redirect("/login") }
        let form = try await HTMLForm.decode(HTMLForm.CSRFOnly.self, from: request, limit: settings.maxBodyBytes)
        try CSRF.check(form.csrf, against: auth)
        let id = context.parameters.get("id") ?? ""
        let verb = context.parameters.get("answer") == "approve" ? "approve" : "deny"
        _ = await engine.handle(
            Inbound(
                sender: Identity(platform: "web", id: auth.userName), room: "web", text: "\(verb) \(id)", isDirect: true
            ))
        return HTML.redirect("/approvals")
    }

    struct AuditContent {
        /// What is wrong with the chain; nil when it verified.
        let problem: String?
        let entryCount: Int64
        let checkpointCount: Int
        let filterUser: String
        let filterCommand: String
        let filterKind: String
        let entries: TextTable
    }

    private func audit(_ request: Request, _ context: ParleyRequestContext) async throws -> Response {
        guard let auth = context.auth, auth.method == .session else { return HTML.redirect("/login") }
        guard engine.authorization(for: Identity(platform: "web", id: auth.userName), command: "audit").isAllowed else {
            return page(context, .auditDenied, title: "Audit") { _ in PageContent.none }
        }
        let query = request.uri.queryParameters
        func value(_ name: Substring) -> String? { query[name].map(String.init).flatMap { $0.isEmpty ? nil : $0 } }
        let entries = try await store.auditEntries(
            AuditQuery(
                actor: value("user"), command: value("command"), kind: value("kind"), limit: 200, newestFirst: true))
        let key = try AuditKeys.load(engine.config.audit, dataDirectory: engine.config.dataDirectory)
        let verification = try await AuditVerification.verifyStore(
            store, publicKey: key.publicKey, schedule: engine.config.audit.schedule)
        return page(context, .audit, title: "Audit") { _ in
            AuditContent(
                problem: verification.problem?.description, entryCount: verification.entries,
                checkpointCount: verification.checkpoints, filterUser: value("user") ?? "",
                filterCommand: value("command") ?? "", filterKind: value("kind") ?? "",
                entries: TextTable(
                    ["seq", "at", "kind", "who", "where", "command", "arguments", "outcome", "detail"],
                    entries.map {
                        [
                            "#\($0.seq)", $0.at, $0.kind, $0.actor, $0.room, $0.command, $0.arguments, $0.outcome,
                            $0.detail,
                        ]
                    }))
        }
    }

    struct UsersContent {
        let users: TextTable
        let roles: TextTable
    }

    private func users() -> UsersContent {
        let directory = engine.directory
        let users = directory.allPrincipals.map { principal -> [String] in
            let user = principal.userName.flatMap { directory.users[$0] }
            return [
                principal.userName ?? "", principal.roles.joined(separator: ", "),
                user?.groups.joined(separator: ", ") ?? "",
                user?.identities.map(\.description).joined(separator: ", ") ?? "",
            ]
        }
        let roles = engine.policy.roles.values.sorted { $0.name < $1.name }.map {
            [$0.name, $0.allow.joined(separator: ", "), $0.deny.joined(separator: ", ")]
        }
        return UsersContent(
            users: TextTable(["user", "roles", "groups", "identities"], users),
            roles: TextTable(["role", "allows", "denies"], roles))
    }

    struct ClusterContent {
        let this: String
        let at: String
        // Nil when empty: templates see stored properties only (Mirror), so emptiness is a nil.
        let replicas: TextTable?
        let leases: TextTable?
        let runs: TextTable?
    }

    /// `/cluster`: the replicas sharing the store, which one holds each connection, and the runs
    /// each has in flight — what `parley cluster` prints.
    private func cluster(_ context: ParleyRequestContext) async throws -> Response {
        guard context.auth?.method == .session else { return HTML.redirect("/login") }
        let replicas = try await store.replicas()
        let leases = try await store.leases()
        let running = try await store.runs(RunQuery(limit: 1000, status: .running))
        let now = Date()
        let replicaRows = replicas.map { replica -> [String] in
            let seen = max(0, Int(now.timeIntervalSince(replica.seenAt).rounded()))
            return [
                replica.id, replica.host, replica.version, AuditClock.format(replica.startedAt), "\(seen) s ago",
                replica.isAlive ? "alive" : "gone (its heartbeat ran out)",
                "\(running.filter { $0.owner == replica.id }.count)",
            ]
        }
        let leaseRows = leases.map { lease -> [String] in
            let left = lease.expiresAt.timeIntervalSince(now)
            let name = lease.name.hasPrefix("adapter:") ? String(lease.name.dropFirst(8)) : lease.name
            return [
                name, lease.holder, "\(lease.epoch)",
                left > 0 ? "held, expires in \(Int(left.rounded(.up))) s" : "free (expired or released)",
            ]
        }
        let runRows = running.map { run -> [String] in
            ["#\(run.id ?? 0)", run.text, run.userName ?? run.identity, run.owner ?? "(no owner)", "\(run.epoch)"]
        }
        let content = ClusterContent(
            this: ProcessOwner.current, at: AuditClock.format(now),
            replicas: replicaRows.isEmpty
                ? nil
                : TextTable(
                    ["replica", "host", "version", "started", "last heartbeat", "state", "runs in flight"], replicaRows),
            leases: leaseRows.isEmpty ? nil : TextTable(["connection", "held by", "epoch", "state"], leaseRows),
            runs: runRows.isEmpty ? nil : TextTable(["run", "command", "who", "replica", "epoch"], runRows))
        return page(context, .cluster, title: "Cluster") { _ in content }
    }
}
