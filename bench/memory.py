#!/usr/bin/env python3
"""Memory under sustained load: does `parley serve` plateau, or grow per command?

    bench/memory.py --binary .build/release/parley [--seconds 240] [--clients 4] [--command "echo hi"]

Starts Parley on its own data directory and port, sends commands through POST /api/v1/messages
with keep-alive clients for `--seconds`, and samples the server's RSS (and, from /proc/PID/smaps_rollup,
how much of it is anonymous memory rather than file-backed pages) every `--every` seconds. Prints a
table and the growth per command over each half of the run: a plateau shows as a second half near zero.
Wrap the server in heaptrack with `--heaptrack` (then `heaptrack_print` the file it names).
Standard library only; nothing here asserts on time.
"""
import argparse, http.client, json, os, signal, socket, subprocess, sys, tempfile, threading, time


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def memory_kib(pid):
    values = {}
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                parts = line.split()
                if len(parts) >= 2 and parts[0].endswith(":") and parts[1].isdigit():
                    values[parts[0][:-1]] = int(parts[1])
    except OSError:
        pass
    return values.get("Rss", 0), values.get("Anonymous", 0)


def server_pid(process):
    """The parley process itself (heaptrack runs it as a child)."""
    try:
        out = subprocess.run(["pgrep", "-P", str(process.pid)], capture_output=True, text=True).stdout.split()
    except OSError:
        out = []
    return int(out[0]) if out else process.pid


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", default=".build/release/parley")
    parser.add_argument("--seconds", type=float, default=240)
    parser.add_argument("--every", type=float, default=10)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--command", default="greet bob ops", help="`echo hi` for a command without a program")
    parser.add_argument("--heaptrack", action="store_true")
    args = parser.parse_args()

    directory = tempfile.mkdtemp(prefix="parley-memory-")
    port = free_port()
    config = os.path.join(directory, "parley.yaml")
    with open(config, "w") as f:
        f.write(f"""data_dir: {directory}/data
server: {{ listen: "127.0.0.1:{port}" }}
users: {{ alice: {{ roles: [ops], identities: ["web:alice", "local:alice"] }} }}
roles: {{ ops: {{ allow: ["*"] }} }}
commands:
  greet:
    usage: "greet {{who}} {{where}}"
    action: {{ exec: ["printf", "Hello, %s! Welcome to %s.", "{{{{who}}}}", "{{{{where}}}}"] }}
""")
    binary = os.path.abspath(args.binary)
    token = subprocess.run([binary, "tokens", "create", "--user", "alice", "--scope", "commands", "--config", config],
                           capture_output=True, text=True, check=True).stdout
    token = next(word for word in token.split() if word.startswith("plt_"))
    command = [binary, "serve", "--config", config]
    if args.heaptrack:
        command = ["heaptrack", "-o", os.path.join(directory, "heaptrack")] + command
    log = open(os.path.join(directory, "serve.log"), "w")
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    try:
        for _ in range(600):
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                connection.request("GET", "/healthz")
                if connection.getresponse().status == 200:
                    break
            except OSError:
                time.sleep(0.1)
        pid = server_pid(process)
        body = json.dumps({"text": args.command}).encode()
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        done = [0]
        failed = [0]
        lock = threading.Lock()
        stop = time.monotonic() + args.seconds

        def client():
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            while time.monotonic() < stop:
                try:
                    connection.request("POST", "/api/v1/messages", body=body, headers=headers)
                    response = connection.getresponse()
                    response.read()
                    ok = response.status == 200
                except (OSError, http.client.HTTPException):
                    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                    ok = False
                with lock:
                    done[0] += ok
                    failed[0] += not ok

        threads = [threading.Thread(target=client, daemon=True) for _ in range(args.clients)]
        samples = [(0.0, 0, *memory_kib(pid))]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        while time.monotonic() < stop:
            time.sleep(min(args.every, max(0.0, stop - time.monotonic())))
            samples.append((time.monotonic() - started, done[0], *memory_kib(pid)))
        for thread in threads:
            thread.join()
        print(f"{'seconds':>8} {'commands':>9} {'RSS MiB':>8} {'anon MiB':>9}")
        for seconds, commands, rss, anonymous in samples:
            print(f"{seconds:8.0f} {commands:9d} {rss / 1024:8.1f} {anonymous / 1024:9.1f}")
        middle = samples[len(samples) // 2]
        for name, (a, b) in (("first half", (samples[1], middle)), ("second half", (middle, samples[-1]))):
            commands = b[1] - a[1]
            if commands > 0:
                print(f"{name}: {(b[2] - a[2]) * 1024 / commands:7.1f} bytes RSS, "
                      f"{(b[3] - a[3]) * 1024 / commands:7.1f} bytes anonymous per command over {commands} commands")
        print(f"failed requests: {failed[0]}; data and logs in {directory}")
    finally:
        # SIGTERM to Parley itself (under heaptrack, the child), so it stops cleanly and heaptrack
        # can account for what was never freed.
        try:
            os.kill(server_pid(process), signal.SIGTERM)
        except ProcessLookupError:
            pass
        process.wait(timeout=60)


if __name__ == "__main__":
    sys.exit(main())
