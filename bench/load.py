"""The bench's load client: closed-loop clients that send a command, wait for its answer, and send
the next. Prints one JSON line of results.

    load.py irc   --server H:P --bot NICK --clients 8 --n 1000 --pid PID
    load.py http  --url URL[,URL…] [--token T] --body message|alert --clients 8 --n 1000 --pid PID[,PID…] [--db-parent PID]
    load.py ws    --url http://H:P/connector/websocket --clients 8 --n 1000 --pid PID   (opsdroid)
    load.py ready --server H:P --bot NICK --started-file F  (seconds from the bot's start to its first answer)

Every command is `greet cNkM bench` and counts only when the answer names `cNkM`. CPU is the bot's
utime+stime+cutime+cstime from /proc/PID/stat over the measured part (children count: an exec
action's programs are part of the bot's cost). A run stops after N commands or --max-seconds.
"""
import argparse
import asyncio
import json
import os
import sys
import time
import uuid

TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    """One process's CPU, or the sum over a comma-separated list (the replicas of one run)."""
    if not pid:
        return 0.0
    if isinstance(pid, str):
        return sum(cpu_seconds(int(p)) for p in pid.split(",") if p)
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except FileNotFoundError:  # a database backend that ended
        return 0.0
    return sum(int(x) for x in fields[11:15]) / TICK  # utime stime cutime cstime


def children_cpu(parent):
    """CPU of each child of `parent` (PostgreSQL's postmaster: one backend per connection), by pid."""
    if not parent:
        return {}
    found = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except (FileNotFoundError, ProcessLookupError):
                continue
            if int(fields[1]) == parent:
                found[int(entry)] = sum(int(x) for x in fields[11:13]) / TICK  # utime stime
    return found


def rss_kib(pid):
    if isinstance(pid, str):
        return sum(rss_kib(int(p)) for p in pid.split(",") if p)
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class Budget:
    """Hands out command numbers until N are taken or the deadline passes."""

    def __init__(self, n, seconds):
        self.left, self.deadline = n, None
        self.seconds = seconds

    def start(self):
        self.deadline = time.monotonic() + self.seconds

    def take(self):
        if self.left <= 0 or time.monotonic() > self.deadline:
            return False
        self.left -= 1
        return True


class IRCClient:
    def __init__(self, host, port, nick):
        self.host, self.port, self.nick = host, port, nick

    async def connect(self):
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        self.writer.write(f"NICK {self.nick}\r\nUSER {self.nick} 0 * :bench\r\n".encode())
        while True:
            parts = await self.line()
            if parts[1] == "001":
                return

    async def line(self):
        while True:
            raw = await self.reader.readline()
            if not raw:
                raise ConnectionError("IRC server closed the connection")
            parts = raw.decode(errors="replace").rstrip("\r\n").split(" ", 3)
            if parts[0] == "PING":
                self.writer.write(f"PONG {parts[1]}\r\n".encode())
                continue
            if len(parts) >= 2:
                return parts

    def send(self, bot, text):
        self.writer.write(f"PRIVMSG {bot} :{text}\r\n".encode())

    async def answer(self, bot, token):
        """Waits for a PRIVMSG or NOTICE from the bot that names `token`; None when the bot is not there."""
        while True:
            parts = await self.line()
            if parts[1] == "401":  # no such nick: the bot is not connected (yet)
                return None
            if parts[1] in ("PRIVMSG", "NOTICE") and parts[0][1:].split("!")[0] == bot and token in parts[-1]:
                return parts[-1][1:]


def summary(args, latencies, lost, seconds, cpu, extra=None):
    latencies.sort()
    done = len(latencies)

    def pct(p):
        return round(latencies[min(done - 1, int(p * done))] * 1000, 2) if done else None

    result = {
        "label": args.label, "workload": args.workload, "clients": args.clients, "ok": done, "lost": lost,
        "seconds": round(seconds, 3), "per_second": round(done / seconds, 1) if seconds else 0,
        "p50_ms": pct(0.50), "p99_ms": pct(0.99), "max_ms": round(latencies[-1] * 1000, 2) if done else None,
        "cpu_ms_per_op": round(cpu * 1000 / done, 3) if done and args.pid else None,
    }
    if args.pid:
        result["rss_kib"] = rss_kib(args.pid)
    if args.db_parent and done:
        result["db_cpu_ms_per_op"] = round(args.db_cpu * 1000 / done, 3)
    if "," in (args.url or ""):
        result["replicas"] = len(args.url.split(","))
    result.update(extra or {})
    print(json.dumps(result), flush=True)


async def run_closed_loop(args, open_client, one):
    """Opens the clients, warms up, then measures."""
    clients = [await open_client(i) for i in range(args.clients)]
    for i, client in enumerate(clients):
        for w in range(args.warmup):
            await one(client, f"w{i}k{w}")
    budget = Budget(args.n, args.max_seconds)
    latencies, lost = [], [0]

    async def worker(i, client):
        k = 0
        while budget.take():
            k += 1
            t = time.perf_counter()
            try:
                ok = await asyncio.wait_for(one(client, f"c{i}k{k}"), args.timeout)
            except (asyncio.TimeoutError, ConnectionError):
                ok = False
            if ok:
                latencies.append(time.perf_counter() - t)
            else:
                lost[0] += 1

    cpu0 = cpu_seconds(args.pid)
    db0 = children_cpu(args.db_parent)
    budget.start()
    t0 = time.perf_counter()
    await asyncio.gather(*(worker(i, c) for i, c in enumerate(clients)))
    seconds = time.perf_counter() - t0
    cpu = cpu_seconds(args.pid) - cpu0
    # The database's share: what its backends spent meanwhile (one that started during the run from 0).
    args.db_cpu = sum(now - db0.get(p, 0.0) for p, now in children_cpu(args.db_parent).items())
    return latencies, lost[0], seconds, cpu, clients


async def irc_main(args):
    host, port = args.server.rsplit(":", 1)
    tag = uuid.uuid4().hex[:5]

    async def open_client(i):
        client = IRCClient(host, int(port), f"b{tag}{i}")
        await client.connect()
        return client

    async def one(client, token):
        client.send(args.bot, f"{args.prefix}{args.command} {token} bench")
        return await client.answer(args.bot, token) is not None

    latencies, lost, seconds, cpu, clients = await run_closed_loop(args, open_client, one)
    for client in clients:
        client.writer.write(b"QUIT :done\r\n")
        client.writer.close()
    summary(args, latencies, lost, seconds, cpu)


def alert_payload(token, alerts):
    items = [{
        "status": "firing",
        "labels": {"alertname": "BenchAlert", "instance": f"{token}-{j}", "severity": "warning"},
        "annotations": {"summary": f"bench alert {token}-{j}"},
        "startsAt": "2026-11-27T00:00:00Z", "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus.example/graph", "fingerprint": f"{abs(hash(token)) & 0xffffffffffff:012x}{j:04x}",
    } for j in range(alerts)]
    return {
        "version": "4", "groupKey": f"{{}}:{{alertname=\"BenchAlert\",instance=\"{token}\"}}", "truncatedAlerts": 0,
        "status": "firing", "receiver": "parley", "groupLabels": {"alertname": "BenchAlert"},
        "commonLabels": {"alertname": "BenchAlert"}, "commonAnnotations": {},
        "externalURL": "http://alertmanager.example", "alerts": items,
    }


async def http_main(args):
    import aiohttp

    headers = {"Authorization": f"Bearer {args.token}"} if args.token else {}
    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=args.clients), headers=headers)
    # Several URLs (replicas): client i sends to URL i mod their number, as a round-robin balancer would.
    urls = args.url.split(",")

    async def open_client(i):
        return session, urls[i % len(urls)]

    async def one(client, token):
        client, url = client
        if args.body == "alert":
            body = alert_payload(token, args.alerts_per_payload)
        else:
            body = {"text": f"{args.prefix}{args.command} {token} bench"}
        async with client.post(url, json=body) as response:
            text = await response.text()
            if response.status >= 300:
                if not one.reported:
                    print(f"load.py: {url} answered {response.status}: {text[:200]}", file=sys.stderr)
                    one.reported = True
                return False
            return args.body == "alert" or token in text

    one.reported = False
    latencies, lost, seconds, cpu, _ = await run_closed_loop(args, open_client, one)
    await session.close()
    extra = {"alerts_per_payload": args.alerts_per_payload} if args.body == "alert" else None
    if args.body == "alert":
        extra["alerts_sent"] = (len(latencies) + args.clients * args.warmup) * args.alerts_per_payload
        extra["alerts_per_second"] = round(len(latencies) * args.alerts_per_payload / seconds, 1)
    summary(args, latencies, lost, seconds, cpu, extra)


async def ws_main(args):
    import aiohttp

    session = aiohttp.ClientSession()

    async def open_client(i):
        async with session.post(args.url) as response:
            socket = json.loads(await response.text())["socket"]
        ws = await session.ws_connect(f"{args.url.replace('http', 'ws', 1)}/{socket}")
        return ws, socket

    async def one(client, token):
        ws, socket = client
        # JSON with the socket id, so the reply comes back to this socket and not the first one
        await ws.send_str(json.dumps({"message": f"{args.prefix}{args.command} {token} bench", "user": "bench", "socket": socket}))
        while True:
            msg = await ws.receive()
            if msg.type != aiohttp.WSMsgType.TEXT:
                raise ConnectionError("websocket closed")
            if token in msg.data:
                return True

    latencies, lost, seconds, cpu, sockets = await run_closed_loop(args, open_client, one)
    for ws, _ in sockets:
        await ws.close()
    await session.close()
    summary(args, latencies, lost, seconds, cpu)


async def ready_main(args):
    """Polls the bot over IRC from a client connected before the bot started; prints the time from
    the bot's start (epoch seconds, read from --started-file, written just before the bot is
    started) to its first answer."""
    host, port = args.server.rsplit(":", 1)
    client = IRCClient(host, int(port), f"r{uuid.uuid4().hex[:6]}")
    await client.connect()
    deadline = time.time() + args.max_seconds
    k = 0
    while time.time() < deadline:
        k += 1
        token = f"ready{k}"
        client.send(args.bot, f"{args.prefix}{args.command} {token} bench")
        try:
            # any ready answer counts: a bot that queued an earlier poll while starting is ready too
            if await asyncio.wait_for(client.answer(args.bot, "ready"), 0.1) is not None:
                answered = time.time()
                with open(args.started_file) as f:
                    started = float(f.read())
                print(json.dumps({"label": args.label, "workload": "ready", "ready_s": round(answered - started, 3)}))
                return
        except asyncio.TimeoutError:
            pass
        await asyncio.sleep(0.02)
    print(json.dumps({"label": args.label, "workload": "ready", "ready_s": None}))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["irc", "http", "ws", "ready"])
    parser.add_argument("--server")
    parser.add_argument("--bot")
    parser.add_argument("--url")
    parser.add_argument("--token")
    parser.add_argument("--body", choices=["message", "alert"], default="message")
    parser.add_argument("--alerts-per-payload", type=int, default=1)
    parser.add_argument("--prefix", default="")
    parser.add_argument("--command", default="greet", help="the command word (greet-exec: Parley's exec variant)")
    parser.add_argument("--clients", type=int, default=1)
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--max-seconds", type=float, default=30)
    parser.add_argument("--timeout", type=float, default=10)
    parser.add_argument("--pid", help="the bot's pid, or several comma-separated (replicas): their CPU is summed")
    parser.add_argument("--db-parent", type=int, help="PostgreSQL's postmaster: its backends' CPU is reported apart")
    parser.add_argument("--started-file")
    parser.add_argument("--label", default="")
    parser.add_argument("--workload", default="")
    args = parser.parse_args()
    asyncio.run({"irc": irc_main, "http": http_main, "ws": ws_main, "ready": ready_main}[args.mode](args))


if __name__ == "__main__":
    main()
