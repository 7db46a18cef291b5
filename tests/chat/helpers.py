"""Driving /ws/chat/ and /ws/agent/ through the real ASGI stack."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from rest_framework.authtoken.models import Token

from contactcentre.asgi import application
from tests.factories import UserFactory

ORIGIN = (b"origin", b"http://127.0.0.1:8000")


class Socket:
    """A communicator with an inbox: frames that arrive before the one awaited are kept, so a
    test can wait for frames in whatever order the channel layer delivers them."""

    def __init__(self, path: str, headers: list[tuple[bytes, bytes]], client: tuple[str, int] = ("10.0.0.1", 50000)) -> None:
        self.comm = WebsocketCommunicator(application, path, headers=headers)
        # The scope is read when the application task first runs: set the peer address now.
        self.comm.scope["client"] = client
        self.inbox: list[dict[str, Any]] = []
        self.connected = False
        self.close_code: int | None = None

    async def connect(self) -> bool:
        self.connected, self.close_code = await self.comm.connect(timeout=5)
        return self.connected

    async def send(self, frame: dict[str, Any]) -> None:
        await self.comm.send_json_to(frame)

    async def expect(self, type_: str, timeout: float = 3.0, **match: Any) -> dict[str, Any]:
        def matches(frame: dict[str, Any]) -> bool:
            return frame.get("type") == type_ and all(frame.get(k) == v for k, v in match.items())

        for i, frame in enumerate(self.inbox):
            if matches(frame):
                return self.inbox.pop(i)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AssertionError(f"no {type_} {match} frame; got {self.inbox}")
            try:
                output = await self.comm.receive_output(timeout=remaining)
            except TimeoutError:
                raise AssertionError(f"no {type_} {match} frame; got {self.inbox}") from None
            if output["type"] == "websocket.close":
                self.close_code = output.get("code")
                raise AssertionError(f"socket closed ({self.close_code}) waiting for {type_}; got {self.inbox}")
            frame = json.loads(output["text"])
            if matches(frame):
                return frame
            self.inbox.append(frame)

    async def expect_message(self, sender: str, timeout: float = 3.0) -> dict[str, Any]:
        for i, frame in enumerate(self.inbox):
            if frame.get("type") == "message" and frame["message"]["from"] == sender:
                return self.inbox.pop(i)["message"]
        while True:
            frame = await self.expect("message", timeout=timeout)
            if frame["message"]["from"] == sender:
                return frame["message"]
            self.inbox.append(frame)

    async def nothing(self, type_: str, timeout: float = 0.3) -> bool:
        """No ``type_`` frame arrives within ``timeout`` (others are kept in the inbox).

        ``receive_nothing`` never times out the application (``receive_output`` would cancel it)."""
        if any(frame.get("type") == type_ for frame in self.inbox):
            return False
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            if await self.comm.receive_nothing(timeout=max(0.01, deadline - loop.time())):
                return True
            frame = await self.comm.receive_json_from()
            if frame.get("type") == type_:
                return False
            self.inbox.append(frame)
        return True

    async def close(self) -> None:
        await self.comm.disconnect()


async def resident(client: tuple[str, int] = ("10.0.0.1", 50000), origin: tuple[bytes, bytes] | None = ORIGIN) -> Socket:
    sock = Socket("/ws/chat/", [origin] if origin else [], client=client)
    await sock.connect()
    return sock


async def resident_hello(sock: Socket, token: str | None = None, language: str = "sv") -> dict[str, Any]:
    await sock.send({"type": "hello", "token": token, "language": language})
    return await sock.expect("session")


@database_sync_to_async
def make_agent(username: str = "anna", first_name: str = "Anna", role: str = "agent") -> tuple[Any, str]:
    user = UserFactory(username=username, first_name=first_name, role=role)
    return user, Token.objects.get_or_create(user=user)[0].key


async def agent_socket(key: str) -> Socket:
    sock = Socket("/ws/agent/", [(b"authorization", f"Token {key}".encode())])
    assert await sock.connect()
    await sock.expect("hello")
    return sock
