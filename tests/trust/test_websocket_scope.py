"""The same scope checks over /ws/agent/ as over REST, and sockets that close when their
credentials go (logout, password change, deactivation)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client
from rest_framework.authtoken.models import Token

from contactcentre.asgi import application
from tests.trust.conftest import ROLES, STATES, World, is_staff, sees

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


@database_sync_to_async
def _token(world: World, role: str) -> str:
    if role == "anonymous":
        return ""
    return Token.objects.get_or_create(user=world.users[role])[0].key


async def _connect(key: str) -> tuple[WebsocketCommunicator, bool, Any]:
    headers = [(b"authorization", f"Token {key}".encode())] if key else [(b"origin", b"http://127.0.0.1:8000")]
    comm = WebsocketCommunicator(application, "/ws/agent/", headers=headers)
    connected, code = await comm.connect(timeout=5)
    return comm, connected, code


async def _frame(comm: WebsocketCommunicator, type_: str, timeout: float = 3.0) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        frame = await comm.receive_json_from(timeout=max(0.05, deadline - loop.time()))
        if frame.get("type") == type_:
            return frame


@pytest.mark.parametrize("role", ROLES)
async def test_connect(world: World, role: str) -> None:
    comm, connected, code = await _connect(await _token(world, "agent" if role == "disabled" else role)
                                           if role != "disabled" else await _disabled_token(world))
    try:
        assert connected == is_staff(role), code
    finally:
        await comm.disconnect()


@database_sync_to_async
def _disabled_token(world: World) -> str:
    # The fixture made this token before disabling the account.
    return Token.objects.get(user=world.users["disabled"]).key


@pytest.mark.parametrize("role", ["agent", "caseworker_own", "caseworker_other", "supervisor", "admin"])
async def test_watch_and_resync_follow_the_rest_scope(world: World, role: str) -> None:
    comm, connected, _ = await _connect(await _token(world, role))
    assert connected
    try:
        await _frame(comm, "hello")
        for state in STATES:
            ticket = world.tickets[state]
            await comm.send_json_to({"type": "watch", "ticket_id": ticket.pk})
            await comm.send_json_to({"type": "ping"})
            frame = await comm.receive_json_from(timeout=3)
            if sees(role, state):
                assert frame["type"] == "pong", (state, frame)
            else:
                assert frame["type"] == "error", (state, frame)
                await _frame(comm, "pong")
        await comm.send_json_to({"type": "resync", "since": 0})
        resync = await _frame(comm, "resync")
        refs = {e.get("ticket") for e in resync["events"]}
        for state in STATES:
            assert (world.tickets[state].reference in refs) == sees(role, state), state
    finally:
        await comm.disconnect()


async def test_a_foreign_watch_gets_no_frames_of_that_ticket(world: World) -> None:
    from contactcentre.tickets import services

    comm, connected, _ = await _connect(await _token(world, "caseworker_own"))
    assert connected
    try:
        await _frame(comm, "hello")
        foreign = world.tickets["escalated_other"]
        await comm.send_json_to({"type": "watch", "ticket_id": foreign.pk})
        await _frame(comm, "error")

        @database_sync_to_async
        def change() -> None:
            services.ticket_note(ticket_id=foreign.pk, actor=world.users["agent"], body="Intern anteckning")

        await change()
        await comm.send_json_to({"type": "ping"})
        while (frame := await comm.receive_json_from(timeout=3))["type"] != "pong":
            assert frame.get("ticket") != foreign.reference, frame
    finally:
        await comm.disconnect()


# --- sockets close when credentials go -----------------------------------------------------------

async def _closed_with(comm: WebsocketCommunicator, code: int, timeout: float = 3.0) -> bool:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        output = await comm.receive_output(timeout=max(0.05, deadline - loop.time()))
        if output["type"] == "websocket.close":
            return output.get("code") == code
    return False


async def test_logout_closes_the_users_sockets(world: World) -> None:
    comm, connected, _ = await _connect(await _token(world, "agent"))
    assert connected
    await _frame(comm, "hello")

    @database_sync_to_async
    def log_in_and_out() -> int:
        client = Client()
        assert client.login(username="anna", password="correct-horse-battery")
        return client.post("/accounts/logout/").status_code

    assert await log_in_and_out() == 302
    assert await _closed_with(comm, 4401)
    await comm.disconnect()


async def test_a_password_change_closes_sockets_and_kills_the_token(world: World) -> None:
    key = await _token(world, "agent")
    comm, connected, _ = await _connect(key)
    assert connected
    await _frame(comm, "hello")
    other, _, _ = await _connect(await _token(world, "supervisor"))
    await _frame(other, "hello")

    @database_sync_to_async
    def change_password() -> None:
        user = world.users["agent"]
        user.set_password("a-new-long-passphrase")
        user.save()

    await change_password()
    assert await _closed_with(comm, 4401)
    await comm.disconnect()
    # Someone else's socket stays open.
    await other.send_json_to({"type": "ping"})
    assert (await _frame(other, "pong"))["type"] == "pong"
    await other.disconnect()
    again, connected, _ = await _connect(key)
    assert not connected
    await again.disconnect()


async def test_disabling_a_user_closes_their_sockets(world: World) -> None:
    key = await _token(world, "caseworker_own")
    comm, connected, _ = await _connect(key)
    assert connected
    await _frame(comm, "hello")

    @database_sync_to_async
    def disable() -> None:
        user = world.users["caseworker_own"]
        user.is_active = False
        user.save(update_fields=["is_active"])

    await disable()
    assert await _closed_with(comm, 4401)
    await comm.disconnect()
    again, connected, _ = await _connect(key)
    assert not connected
    await again.disconnect()
