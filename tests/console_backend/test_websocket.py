"""Presence, offers and agents online on /ws/agent/, through the real ASGI stack."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from rest_framework.authtoken.models import Token

from contactcentre.asgi import application
from contactcentre.intake.web import web_form_receive
from contactcentre.tickets.models import Ticket
from contactcentre.workdist.models import Offer
from tests.factories import DepartmentFactory, TicketFactory, UserFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


@pytest.fixture(autouse=True)
def _fast(settings) -> None:
    settings.WORKDIST_TYPING_TTL_S = 0.4
    settings.WORKDIST_ONLINE_COALESCE_S = 0.05
    settings.CONTACTCENTRE_ROUTER = "contactcentre.intake.ports.null_router"


@database_sync_to_async
def make_user(username: str, role: str = "agent", **kwargs: Any) -> str:
    user = UserFactory(username=username, role=role, languages=["sv"], **kwargs)
    return Token.objects.create(user=user).key


@database_sync_to_async
def make_ticket(**kwargs: Any) -> Ticket:
    return TicketFactory(**kwargs)


class Socket:
    def __init__(self, key: str) -> None:
        self.comm = WebsocketCommunicator(application, "/ws/agent/", headers=[(b"authorization", f"Token {key}".encode())])

    async def open(self) -> dict[str, Any]:
        connected, _ = await self.comm.connect(timeout=5)
        assert connected
        hello = await self.comm.receive_json_from(timeout=3)
        assert hello["type"] == "hello"
        return hello

    async def send(self, frame: dict[str, Any]) -> None:
        await self.comm.send_json_to(frame)

    async def expect(self, type_: str, timeout: float = 3.0, **match: Any) -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            frame = await self.comm.receive_json_from(timeout=max(0.05, deadline - loop.time()))
            if frame["type"] == type_ and all(frame.get(k) == v for k, v in match.items()):
                return frame

    async def close(self) -> None:
        await self.comm.disconnect()


async def test_two_agents_see_each_other_view_type_and_leave():
    anna, bertil = Socket(await make_user("anna")), Socket(await make_user("bertil"))
    ticket = await make_ticket()
    await anna.open()
    await bertil.open()
    try:
        await anna.send({"type": "presence.view", "ticket_id": ticket.pk})
        frame = await anna.expect("ticket.presence")
        assert frame == {"type": "ticket.presence", "ticket_id": ticket.pk, "viewers": ["anna"], "typing": []}

        await bertil.send({"type": "presence.view", "ticket_id": ticket.pk})
        both = {"type": "ticket.presence", "ticket_id": ticket.pk, "viewers": ["anna", "bertil"], "typing": []}
        assert await anna.expect("ticket.presence") == both
        assert await bertil.expect("ticket.presence") == both

        await bertil.send({"type": "presence.typing", "ticket_id": ticket.pk})
        assert (await anna.expect("ticket.presence"))["typing"] == ["bertil"]
        # Typing ends by itself after the TTL without further keystrokes.
        ended = await anna.expect("ticket.presence", timeout=2.0)
        assert ended["typing"] == [] and ended["viewers"] == ["anna", "bertil"]

        await bertil.close()
        gone = await anna.expect("ticket.presence")
        assert gone["viewers"] == ["anna"]
    finally:
        await anna.close()


async def test_presence_is_scope_checked():
    key = await make_user("cecilia", role="caseworker", department=await database_sync_to_async(DepartmentFactory)(code="bygglov"))
    ticket = await make_ticket()  # not escalated: not the caseworker's
    sock = Socket(key)
    hello = await sock.open()
    assert "agents_online" not in hello
    try:
        await sock.send({"type": "presence.view", "ticket_id": ticket.pk})
        assert (await sock.expect("error"))["detail"] == "No such ticket."
        await sock.send({"type": "presence.typing", "ticket_id": "x"})
        assert "ticket_id" in (await sock.expect("error"))["detail"]
    finally:
        await sock.close()


async def test_availability_offer_and_accept_over_the_socket():
    anna = Socket(await make_user("anna"))
    hello = await anna.open()
    assert hello["available"] is False
    assert [a["username"] for a in hello["agents_online"]] == ["anna"]
    try:
        await anna.send({"type": "availability", "available": True})
        assert (await anna.expect("availability"))["available"] is True

        @database_sync_to_async
        def new_ticket() -> Ticket:
            return web_form_receive(data={"email": "karin@example.org", "message": "Hej", "subject": "Staket"}).ticket

        ticket = await new_ticket()
        offer = await anna.expect("offer.created")
        assert offer["ticket"] == ticket.reference and offer["ticket_id"] == ticket.pk
        assert offer["kind"] == "ticket" and offer["subject"] == "Staket" and offer["expires_at"]

        await anna.send({"type": "offer.accept", "offer_id": offer["offer_id"]})
        result = await anna.expect("offer.accept.result")
        assert result["ok"] is True and result["ticket"] == ticket.reference
        claimed = await anna.expect("ticket.updated", ticket=ticket.reference)
        assert claimed["assignee"] == "anna"

        await anna.send({"type": "offer.accept", "offer_id": offer["offer_id"]})
        again = await anna.expect("offer.accept.result")
        assert again["ok"] is False and again["code"] == "offer_not_open"
    finally:
        await anna.close()


async def test_open_offers_are_sent_again_after_reconnect_and_withdrawn_on_leave():
    key = await make_user("anna")
    anna = Socket(key)
    await anna.open()
    await anna.send({"type": "availability", "available": True})
    await anna.expect("availability")
    ticket = await make_ticket()

    @database_sync_to_async
    def dispatch() -> None:
        from contactcentre.workdist.services import workdist_dispatch

        workdist_dispatch()

    await dispatch()
    first = await anna.expect("offer.created")
    await anna.close()  # the console closes: the next pass withdraws the offer
    await dispatch()
    offer = await database_sync_to_async(Offer.objects.get)(pk=first["offer_id"])
    assert offer.state == "withdrawn" and offer.ticket_id == ticket.pk

    # Back again (still "ready"): the work is offered anew and arrives with the reconnect.
    anna = Socket(key)
    await anna.open()
    await dispatch()
    again = await anna.expect("offer.created")
    assert again["ticket_id"] == ticket.pk and again["offer_id"] != first["offer_id"]
    await anna.close()
    reconnect = Socket(key)
    await reconnect.open()
    try:
        assert (await reconnect.expect("offer.created"))["offer_id"] == again["offer_id"]
    finally:
        await reconnect.close()


async def test_agents_online_reaches_others_when_someone_connects_or_leaves():
    anna = Socket(await make_user("anna"))
    await anna.open()
    bertil = Socket(await make_user("bertil"))
    hello = await bertil.open()
    assert {a["username"] for a in hello["agents_online"]} == {"anna", "bertil"}
    try:
        frame = await anna.expect("agents.online")
        assert {a["username"] for a in frame["agents"]} == {"anna", "bertil"}
        row = next(a for a in frame["agents"] if a["username"] == "bertil")
        assert set(row) == {"username", "name", "role", "available", "load", "capacity"}
        await bertil.send({"type": "availability", "available": True})
        frame = await anna.expect("agents.online")
        assert next(a for a in frame["agents"] if a["username"] == "bertil")["available"] is True
        await bertil.close()
        frame = await anna.expect("agents.online")
        assert [a["username"] for a in frame["agents"]] == ["anna"]
        # Bertil never got a copy of what his hello already said.
    finally:
        await anna.close()
