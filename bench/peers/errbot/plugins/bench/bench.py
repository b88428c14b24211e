"""Errbot's side of the benchmark: the same command as Parley's, and the same webhooks."""
import json
import os

from errbot import BotPlugin, arg_botcmd, webhook
from flask import abort


class Bench(BotPlugin):
    """greet WHO WHERE; POST /hooks/alertmanager stores each alert's labels as a line."""

    def activate(self):
        super().activate()
        self.stored = open(os.environ["BENCH_ALERTS"], "a")
        self.token = os.environ.get("BENCH_HOOK_TOKEN", "")

    @arg_botcmd("where", type=str)
    @arg_botcmd("who", type=str)
    def greet(self, msg, who, where):
        """Greet someone somewhere."""
        return f"Hello, {who}! Welcome to {where}."

    # The closest Errbot has to a message API: a webhook on its HTTP server answering the same text.
    @webhook("/api/v1/messages", raw=True)
    def message(self, req):
        words = req.get_json()["text"].lstrip("!").split()
        return json.dumps({"reply": f"Hello, {words[1]}! Welcome to {words[2]}."})

    @webhook("/hooks/alertmanager", raw=True)
    def alertmanager(self, req):
        if req.headers.get("Authorization") != f"Bearer {self.token}":
            abort(401)
        body = req.get_json()
        for alert in body.get("alerts", []):
            self.stored.write(json.dumps(alert.get("labels", {}), sort_keys=True) + "\n")
        self.stored.flush()
        return json.dumps({"stored": len(body.get("alerts", []))})
