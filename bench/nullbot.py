"""The harness floor: answers `greet WHO WHERE` over IRC and the JSON message API, and takes
Alertmanager webhooks, with no parsing beyond a split, no policy and no audit.

    python nullbot.py --irc 127.0.0.1:6667 --nick nullbot --http 127.0.0.1:8181 --alerts FILE
"""
import argparse
import asyncio
import json

from aiohttp import web


def answer(text):
    words = text.lstrip("!").split()
    if len(words) == 3 and words[0] == "greet":
        return f"Hello, {words[1]}! Welcome to {words[2]}."
    return None


async def irc(host, port, nick):
    while True:
        try:
            reader, writer = await asyncio.open_connection(host, port)
            break
        except OSError:
            await asyncio.sleep(0.05)
    writer.write(f"NICK {nick}\r\nUSER {nick} 0 * :null bot\r\n".encode())
    while line := await reader.readline():
        parts = line.decode(errors="replace").rstrip("\r\n").split(" ", 3)
        if parts[0] == "PING":
            writer.write(f"PONG {parts[1]}\r\n".encode())
        elif len(parts) == 4 and parts[1] == "PRIVMSG" and parts[2] == nick:
            reply = answer(parts[3][1:])
            if reply:
                sender = parts[0][1:].split("!")[0]
                writer.write(f"PRIVMSG {sender} :{reply}\r\n".encode())


def http_app(alert_file):
    stored = open(alert_file, "a") if alert_file else None

    async def message(request):
        body = await request.json()
        return web.json_response({"reply": answer(body["text"])})

    async def alerts(request):
        body = await request.json()
        for alert in body.get("alerts", []):
            stored.write(json.dumps(alert.get("labels", {}), sort_keys=True) + "\n")
        stored.flush()
        return web.json_response({"stored": len(body.get("alerts", []))})

    app = web.Application()
    app.router.add_post("/api/v1/messages", message)
    app.router.add_post("/hooks/alertmanager", alerts)
    return app


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--irc")
    parser.add_argument("--nick", default="nullbot")
    parser.add_argument("--http")
    parser.add_argument("--alerts")
    args = parser.parse_args()
    tasks = []
    if args.http:
        host, port = args.http.rsplit(":", 1)
        runner = web.AppRunner(http_app(args.alerts), access_log=None)
        await runner.setup()
        await web.TCPSite(runner, host, int(port)).start()
    if args.irc:
        host, port = args.irc.rsplit(":", 1)
        tasks.append(asyncio.create_task(irc(host, int(port), args.nick)))
    await asyncio.gather(*tasks) if tasks else await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main())
