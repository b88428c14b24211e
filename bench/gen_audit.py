"""Appends N entries to a Parley audit chain, straight into its SQLite database, hashing each one
exactly as Parley does (AuditEntry.canonicalEncoding / computedHash), so `parley audit verify`
walks a valid chain. Continues from the chain's current head (run `parley audit verify` once first
so the database and its tables exist, and its signing key). With the key, every 100th entry gets a
checkpoint signed as Parley signs them (Ed25519 over "parley-audit-checkpoint-v2|seq|hash|at|100|300",
PyNaCl), as the default schedule requires: verify checks those signatures too, as it would on a
real log.

    python gen_audit.py DATA_DIR/parley.sqlite 1000000 [DATA_DIR/audit-signing.key]
"""
import base64
import hashlib
import json
import sqlite3
import sys
import time


def canonical(fields):
    text = "parley-audit-v1" + "".join(f"|{len(f.encode())}:{f}" for f in fields)
    return text.encode()


def main():
    path, count = sys.argv[1], int(sys.argv[2])
    signer = None
    if len(sys.argv) > 3:
        from nacl.signing import SigningKey  # PyNaCl

        with open(sys.argv[3]) as f:
            signer = SigningKey(base64.b64decode(f.read().strip()))  # the key's 32-byte seed, as Parley keeps it
    checkpoints = []
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = OFF")  # a generator's speed; the verify run is what is measured
    head = db.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
    seq, previous = head if head else (0, "0" * 64)
    at = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
    kinds = ["received", "started", "finished"]
    db.execute("BEGIN")
    rows = []
    for i in range(count):
        seq += 1
        kind = kinds[i % 3]
        arguments = json.dumps({"where": "bench", "who": f"c{i // 3}"}, sort_keys=True, separators=(",", ":"))
        outcome = "succeeded" if kind == "finished" else ""
        run_id = i // 3 + 1
        fields = [str(seq), at, kind, "bench", "api:bench", "api", "greet", arguments,
                  "allowed by role bench" if kind != "received" else "", outcome, str(run_id), ""]
        digest = hashlib.sha256(previous.encode() + canonical(fields)).hexdigest()
        rows.append((seq, at, kind, "bench", "api:bench", "api", "greet", arguments, fields[8], outcome, run_id, "",
                     previous, digest))
        previous = digest
        if signer is not None and seq % 100 == 0:
            message = f"parley-audit-checkpoint-v2|{seq}|{digest}|{at}|100|300".encode()
            signature = base64.b64encode(signer.sign(message).signature).decode()
            checkpoints.append((seq, digest, at, signature, 100, 300))
        if len(rows) == 50_000:
            db.executemany("INSERT INTO audit VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)", rows)
            rows = []
    if rows:
        db.executemany("INSERT INTO audit VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)", rows)
    db.executemany(
        "INSERT INTO auditCheckpoint (seq, hash, at, signature, every, intervalSeconds) VALUES (?,?,?,?,?,?)",
        checkpoints)
    db.execute("COMMIT")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    print(seq)


if __name__ == "__main__":
    main()
