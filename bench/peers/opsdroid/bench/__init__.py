"""opsdroid's side of the benchmark: the same command as Parley's, and the same webhook."""
import json

from aiohttp import web
from opsdroid.matchers import match_regex, match_webhook
from opsdroid.skill import Skill


class BenchSkill(Skill):
    """greet WHO WHERE; POST /skill/bench/alertmanager stores each alert's labels as a line."""

    def __init__(self, opsdroid, config):
        super().__init__(opsdroid, config)
        self.stored = open(config["alerts"], "a")

    @match_regex(r"!?greet (?P<who>\S+) (?P<where>\S+)$", matching_condition="fullmatch")
    async def greet(self, message):
        await message.respond(f"Hello, {message.regex['who']}! Welcome to {message.regex['where']}.")

    @match_webhook("alertmanager")
    async def alertmanager(self, event):
        body = await event.json()
        for alert in body.get("alerts", []):
            self.stored.write(json.dumps(alert.get("labels", {}), sort_keys=True) + "\n")
        self.stored.flush()
        return web.json_response({"stored": len(body.get("alerts", []))})
