import Foundation
import GRDB
import ParleyCore

/// The SQLite schema, as named migrations. Append new ones; never edit a released one.
enum SQLiteMigrations {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("2026-11-26 runs") { db in
            try db.create(table: "run") { table in
                table.autoIncrementedPrimaryKey("id")
                table.column("createdAt", .datetime).notNull()
                table.column("finishedAt", .datetime)
                table.column("userName", .text)
                table.column("identity", .text).notNull()
                table.column("room", .text).notNull()
                table.column("thread", .text)
                table.column("text", .text).notNull()
                table.column("commandID", .text)
                table.column("arguments", .text).notNull()
                table.column("decision", .text).notNull()
                table.column("reason", .text).notNull()
                table.column("status", .text).notNull()
                table.column("exitCode", .integer)
                table.column("durationMilliseconds", .integer)
                table.column("output", .text).notNull()
                table.column("outputTruncated", .boolean).notNull()
            }
            try db.create(index: "run_status", on: "run", columns: ["status"])
            try db.create(index: "run_user", on: "run", columns: ["userName", "id"])
        }
        migrator.registerMigration("2026-11-26 seen events") { db in
            try db.create(table: "seenEvent") { table in
                table.primaryKey("key", .text)
                table.column("seenAt", .datetime).notNull()
            }
        }
        migrator.registerMigration("2026-11-26 audit") { db in
            try db.create(table: "audit") { table in
                table.primaryKey("seq", .integer)
                table.column("at", .text).notNull()
                table.column("kind", .text).notNull()
                table.column("actor", .text).notNull()
                table.column("identity", .text).notNull()
                table.column("room", .text).notNull()
                table.column("command", .text).notNull()
                table.column("arguments", .text).notNull()
                table.column("decision", .text).notNull()
                table.column("outcome", .text).notNull()
                table.column("runID", .integer)
                table.column("detail", .text).notNull()
                table.column("previousHash", .text).notNull()
                table.column("hash", .text).notNull()
            }
            try db.create(table: "auditCheckpoint") { table in
                table.primaryKey("seq", .integer)
                table.column("hash", .text).notNull()
                table.column("at", .text).notNull()
                table.column("signature", .text).notNull()
            }
        }
        migrator.registerMigration("2026-11-26 approvals") { db in
            try db.create(table: "approval") { table in
                table.primaryKey("id", .text)
                table.column("kind", .text).notNull()
                table.column("runID", .integer).notNull()
                table.column("commandID", .text).notNull()
                table.column("text", .text).notNull()
                table.column("commandHash", .text).notNull()
                table.column("requesterUser", .text)
                table.column("requesterIdentity", .text).notNull()
                table.column("room", .text).notNull()
                table.column("platform", .text).notNull()
                table.column("thread", .text)
                table.column("required", .integer).notNull()
                table.column("approverRoles", .text).notNull()
                table.column("thenApprovals", .integer).notNull()
                table.column("createdAt", .datetime).notNull()
                table.column("expiresAt", .datetime).notNull()
                table.column("status", .text).notNull()
                table.column("decidedAt", .datetime)
                table.column("reason", .text).notNull()
            }
            try db.create(index: "approval_status", on: "approval", columns: ["status"])
            try db.create(table: "approvalVote") { table in
                table.column("approvalID", .text).notNull().references("approval")
                table.column("voter", .text).notNull()
                table.column("identity", .text).notNull()
                table.column("approve", .boolean).notNull()
                table.column("reason", .text).notNull()
                table.column("at", .datetime).notNull()
                table.primaryKey(["approvalID", "voter"])
            }
        }
        migrator.registerMigration("2026-11-26 metadata") { db in
            try db.create(table: "metadata") { table in
                table.primaryKey("key", .text)
                table.column("value", .text).notNull()
            }
        }
        migrator.registerMigration("2026-11-26 authentication") { db in
            try db.create(table: "credential") { table in
                table.primaryKey("userName", .text)
                table.column("hash", .text).notNull()
                table.column("updatedAt", .datetime).notNull()
            }
            try db.create(table: "session") { table in
                table.primaryKey("tokenHash", .text)
                table.column("userName", .text).notNull()
                table.column("csrfToken", .text).notNull()
                table.column("createdAt", .datetime).notNull()
                table.column("expiresAt", .datetime).notNull()
            }
            try db.create(table: "apiToken") { table in
                table.primaryKey("id", .text)
                table.column("secretHash", .text).notNull()
                table.column("userName", .text).notNull()
                table.column("scopes", .text).notNull()
                table.column("name", .text).notNull()
                table.column("createdAt", .datetime).notNull()
                table.column("revokedAt", .datetime)
                table.column("lastUsedAt", .datetime)
            }
        }
        migrator.registerMigration("2026-11-26 run owner") { db in
            try db.alter(table: "run") { table in table.add(column: "owner", .text) }
        }
        migrator.registerMigration("2026-11-26 locks") { db in
            try db.create(table: "runLock") { table in
                table.primaryKey("name", .text)
                table.column("runID", .integer).notNull()
                table.column("holder", .text).notNull()
                table.column("acquiredAt", .datetime).notNull()
            }
        }
        migrator.registerMigration("2026-11-26 runbook steps") { db in
            try db.create(table: "runStep") { table in
                table.column("runID", .integer).notNull()
                table.column("path", .text).notNull()
                table.column("name", .text).notNull()
                table.column("status", .text).notNull()
                table.column("attempts", .integer).notNull()
                table.column("startedAt", .datetime)
                table.column("finishedAt", .datetime)
                table.column("output", .text).notNull()
                table.column("outputs", .text).notNull()
                table.column("message", .text).notNull()
                table.primaryKey(["runID", "path"])
            }
            try db.alter(table: "approval") { table in table.add(column: "step", .integer) }
        }
        migrator.registerMigration("2026-11-26 run process group") { db in
            try db.alter(table: "run") { table in table.add(column: "processGroup", .integer) }
        }
        migrator.registerMigration("2026-11-26 approval plan hash") { db in
            try db.alter(table: "approval") { table in table.add(column: "planHash", .text) }
        }
        migrator.registerMigration("2026-11-27 alerts and schedules") { db in
            try db.create(table: "alert") { table in
                table.autoIncrementedPrimaryKey("id")
                table.column("fingerprint", .text).notNull().unique()
                table.column("source", .text).notNull()
                table.column("status", .text).notNull()
                table.column("labels", .text).notNull()
                table.column("annotations", .text).notNull()
                table.column("startsAt", .datetime)
                table.column("endsAt", .datetime)
                table.column("url", .text)
                table.column("firstSeen", .datetime).notNull()
                table.column("lastSeen", .datetime).notNull()
                table.column("received", .integer).notNull()
                table.column("acknowledgedBy", .text)
                table.column("acknowledgedAt", .datetime)
                table.column("acknowledgement", .text)
            }
            try db.create(index: "alertLastSeen", on: "alert", columns: ["lastSeen"])
            try db.create(table: "alertEvent") { table in
                table.autoIncrementedPrimaryKey("id")
                table.column("alertID", .integer).notNull()
                table.column("receivedAt", .datetime).notNull()
                table.column("status", .text).notNull()
                table.column("labels", .text).notNull()
                table.column("annotations", .text).notNull()
            }
            try db.create(table: "alertMessage") { table in
                table.column("fingerprint", .text).notNull()
                table.column("room", .text).notNull()
                table.column("messageRef", .text)
                table.column("postedAt", .datetime).notNull()
                table.column("count", .integer).notNull()
                table.column("status", .text).notNull()
                table.primaryKey(["fingerprint", "room"])
            }
            try db.create(table: "scheduledRun") { table in
                table.column("name", .text).notNull()
                table.column("fireTime", .datetime).notNull()
                table.column("owner", .text).notNull()
                table.column("claimedAt", .datetime).notNull()
                table.primaryKey(["name", "fireTime"])
            }
        }
        migrator.registerMigration("2026-12-01 audit checkpoint schedule") { db in
            // The schedule each checkpoint was signed under (NULL on checkpoints signed before).
            try db.alter(table: "auditCheckpoint") { table in
                table.add(column: "every", .integer)
                table.add(column: "intervalSeconds", .integer)
            }
        }
        migrator.registerMigration("2026-12-01 run process start time") { db in
            try db.alter(table: "run") { table in table.add(column: "processStartTime", .integer) }
        }
        migrator.registerMigration("2026-12-02 audit run index") { db in
            // A run page reads its run's entries; without an index that is a scan of the whole log.
            try db.create(index: "audit_run", on: "audit", columns: ["runID", "seq"])
        }
        migrator.registerMigration("2026-12-02 leases") { db in
            try db.create(table: "lease") { table in
                table.primaryKey("name", .text)
                table.column("holder", .text).notNull()
                table.column("epoch", .integer).notNull()
                table.column("acquiredAt", .datetime).notNull()
                table.column("expiresAt", .datetime).notNull()
            }
        }
        migrator.registerMigration("2026-12-03 run epochs and replicas") { db in
            try db.alter(table: "run") { table in table.add(column: "epoch", .integer).notNull().defaults(to: 0) }
            try db.create(table: "replica") { table in
                table.primaryKey("id", .text)
                table.column("host", .text).notNull()
                table.column("version", .text).notNull()
                table.column("startedAt", .datetime).notNull()
                table.column("seenAt", .datetime).notNull()
                table.column("expiresAt", .datetime).notNull()
            }
        }
        migrator.registerMigration("2026-12-03 outbox and shared limits") { db in
            try db.create(table: "outbox") { table in
                table.autoIncrementedPrimaryKey("id")
                table.column("platform", .text).notNull()
                table.column("room", .text).notNull()
                table.column("thread", .text)
                table.column("action", .text).notNull()
                table.column("reference", .text)
                table.column("body", .text).notNull()
                table.column("queuedAt", .datetime).notNull()
                table.column("attempts", .integer).notNull().defaults(to: 0)
                // queued, delivered or failed; a queued message is due at `dueAt` unless a holder's
                // claim on it lasts until `claimedUntil`.
                table.column("state", .text).notNull()
                table.column("dueAt", .datetime).notNull()
                table.column("claimedBy", .text)
                table.column("claimedUntil", .datetime)
                table.column("result", .text)
                table.column("settledAt", .datetime)
            }
            try db.create(index: "outbox_due", on: "outbox", columns: ["platform", "state", "dueAt"])
            try db.create(table: "limitHit") { table in
                table.autoIncrementedPrimaryKey("id")
                table.column("key", .text).notNull()
                table.column("at", .datetime).notNull()
            }
            try db.create(index: "limitHit_key", on: "limitHit", columns: ["key", "at"])
            try db.create(index: "limitHit_at", on: "limitHit", columns: ["at"])
            try db.create(table: "runSlot") { table in
                table.column("name", .text).notNull()
                table.column("runID", .integer).notNull()
                table.primaryKey(["name", "runID"])
            }
        }
        migrator.registerMigration("2026-12-04 seen event run") { db in
            // The run a message made, so that a retried API request (same Idempotency-Key) is told of it.
            try db.alter(table: "seenEvent") { table in table.add(column: "runID", .integer) }
        }
        migrator.registerMigration("2026-12-07 alert storms") { db in
            // A room's summary of the alerts beyond its budget, shared by the replicas.
            try db.create(table: "alertStorm") { table in
                table.column("room", .text).primaryKey()
                table.column("since", .datetime).notNull()
                table.column("posted", .boolean).notNull()
                table.column("messageRef", .text)
            }
            try db.create(table: "alertFold") { table in
                table.column("room", .text).notNull()
                table.column("fingerprint", .text).notNull()
                table.column("name", .text).notNull()
                table.primaryKey(["room", "fingerprint"])
            }
        }
        migrator.registerMigration("2026-12-08 incidents") { db in
            try db.create(table: "incident") { table in
                table.autoIncrementedPrimaryKey("number")
                table.column("severity", .text).notNull()
                table.column("title", .text).notNull()
                table.column("status", .text).notNull()
                table.column("declaredAt", .datetime).notNull()
                table.column("declaredBy", .text).notNull()
                table.column("declaredIn", .text).notNull()
                table.column("room", .text)
                table.column("resolvedAt", .datetime)
                table.column("closedAt", .datetime)
                table.column("lastUpdateAt", .datetime).notNull()
                table.column("reminders", .integer).notNull()
                table.column("auditFromSeq", .integer).notNull()
                table.column("summary", .text).notNull()
                table.column("roles", .text).notNull()
            }
            try db.create(index: "incident_status", on: "incident", columns: ["status", "number"])
            try db.create(table: "incidentEvent") { table in
                table.autoIncrementedPrimaryKey("id")
                table.column("incident", .integer).notNull()
                table.column("at", .datetime).notNull()
                table.column("actor", .text).notNull()
                table.column("kind", .text).notNull()
                table.column("text", .text).notNull()
                table.column("runID", .integer)
                table.column("auditSeq", .integer)
            }
            try db.create(index: "incidentEvent_incident", on: "incidentEvent", columns: ["incident", "id"])
            try db.create(table: "incidentTask") { table in
                table.autoIncrementedPrimaryKey("id")
                table.column("incident", .integer).notNull()
                table.column("text", .text).notNull()
                table.column("owner", .text)
                table.column("createdAt", .datetime).notNull()
                table.column("createdBy", .text).notNull()
                table.column("doneAt", .datetime)
                table.column("doneBy", .text)
            }
            try db.create(index: "incidentTask_incident", on: "incidentTask", columns: ["incident", "id"])
            try db.create(table: "incidentAlert") { table in
                table.column("incident", .integer).notNull()
                table.column("alertID", .integer).notNull()
                table.column("attachedAt", .datetime).notNull()
                table.primaryKey(["incident", "alertID"])
            }
        }
        migrator.registerMigration("2026-12-08 on-call overrides") { db in
            try db.create(table: "oncallOverride") { table in
                table.autoIncrementedPrimaryKey("id")
                table.column("schedule", .text).notNull()
                table.column("person", .text).notNull()
                table.column("startsAt", .datetime).notNull()
                table.column("endsAt", .datetime).notNull()
                table.column("madeBy", .text).notNull()
                table.column("createdAt", .datetime).notNull()
            }
            try db.create(index: "oncallOverride_schedule", on: "oncallOverride", columns: ["schedule", "endsAt"])
        }
        migrator.registerMigration("2026-12-08 pages") { db in
            try db.create(table: "page") { table in
                table.autoIncrementedPrimaryKey("id")
                table.column("key", .text).notNull()
                table.column("policy", .text).notNull()
                table.column("summary", .text).notNull()
                table.column("room", .text)
                table.column("level", .integer).notNull()
                table.column("round", .integer).notNull()
                table.column("nextAt", .datetime)
                table.column("status", .text).notNull()
                table.column("settledBy", .text)
                table.column("createdAt", .datetime).notNull()
                table.column("updatedAt", .datetime).notNull()
            }
            // One open page per key: a second alert notification or a retry finds the first.
            try db.execute(sql: "CREATE UNIQUE INDEX page_open_key ON page (key) WHERE status = 'open'")
            try db.create(index: "page_due", on: "page", columns: ["status", "nextAt"])
        }
        return migrator
    }
}
