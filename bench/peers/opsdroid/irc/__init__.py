"""A minimal IRC connector for opsdroid 0.31 (which ships none): plain TCP, private messages in,
replies out as PRIVMSG. Just enough for the benchmark; no TLS, no flood control, no reconnects."""
import asyncio
import logging

from opsdroid.connector import Connector, register_event
from opsdroid.events import Message

_LOGGER = logging.getLogger(__name__)
CONFIG_SCHEMA = {"server": str, "port": int, "nick": str}


class ConnectorIRC(Connector):
    """Connects to one IRC server and turns private messages into opsdroid messages."""

    def __init__(self, config, opsdroid=None):
        super().__init__(config, opsdroid=opsdroid)
        self.name = config.get("name", "irc")
        self.server = config.get("server", "127.0.0.1")
        self.port = int(config.get("port", 6667))
        self.nick = config.get("nick", "opsdroid")
        self.reader = None
        self.writer = None

    async def connect(self):
        self.reader, self.writer = await asyncio.open_connection(self.server, self.port)
        self.writer.write(f"NICK {self.nick}\r\nUSER {self.nick} 0 * :opsdroid\r\n".encode())
        await self.writer.drain()

    async def listen(self):
        while line := await self.reader.readline():
            parts = line.decode(errors="replace").rstrip("\r\n").split(" ", 3)
            if parts[0] == "PING":
                self.writer.write(f"PONG {parts[1]}\r\n".encode())
            elif len(parts) == 4 and parts[1] == "PRIVMSG" and parts[2] == self.nick:
                sender = parts[0][1:].split("!")[0]
                message = Message(text=parts[3][1:], user=sender, user_id=sender, target=sender, connector=self)
                await self.opsdroid.parse(message)

    @register_event(Message)
    async def send_message(self, message):
        for line in message.text.splitlines():
            self.writer.write(f"PRIVMSG {message.target} :{line}\r\n".encode())
        await self.writer.drain()

    async def disconnect(self):
        if self.writer:
            self.writer.close()
