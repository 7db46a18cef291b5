"""The screen-pop reaches the answering agent's websocket through the real ASGI stack."""

from __future__ import annotations

import asyncio

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from contactcentre.asgi import application
from contactcentre.tickets.models import ContactPhone
from tests.factories import ContactFactory, TicketFactory, UserFactory
from tests.phone.helpers import post_event

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


@database_sync_to_async
def make_agent(username: str) -> str:
    return Token.objects.create(user=UserFactory(username=username, role="agent")).key


@database_sync_to_async
def known_caller() -> tuple[int, str]:
    contact = ContactFactory(name="Karin Lund")
    ContactPhone.objects.create(contact=contact, number="+46701740601")
    ticket = TicketFactory(contact=contact, subject="Bygglov altan", status="open")
    TicketFactory(contact=contact, subject="Klart sedan länge", status="closed")
    return contact.pk, ticket.reference


@database_sync_to_async
def cti(payload: dict) -> int:
    return post_event(APIClient(), payload).status_code


async def connect(key: str) -> WebsocketCommunicator:
    comm = WebsocketCommunicator(application, "/ws/agent/", headers=[(b"authorization", f"Token {key}".encode())])
    connected, _ = await comm.connect(timeout=5)
    assert connected
    assert (await comm.receive_json_from(timeout=3))["type"] == "hello"
    return comm


async def next_of_type(comm: WebsocketCommunicator, type_: str, timeout: float = 3.0) -> dict:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        frame = await comm.receive_json_from(timeout=max(0.05, deadline - asyncio.get_running_loop().time()))
        if frame["type"] == type_:
            return frame


async def test_the_offered_agent_gets_the_screen_pop_and_no_one_else():
    anna, bertil = await make_agent("anna"), await make_agent("bertil")
    contact_id, reference = await known_caller()
    comm_anna, comm_bertil = await connect(anna), await connect(bertil)
    try:
        assert await cti({"event": "call.ringing", "call_id": "ws-1", "caller": "070-174 06 01", "agent": "anna"}) == 200
        pop = await next_of_type(comm_anna, "call.ringing")
        assert pop["call_id"] == "ws-1" and pop["agent"] == "anna"
        assert pop["caller"] == "+46701740601" and pop["caller_display"] == "070-174 06 01"
        assert pop["contact"] == {"id": contact_id, "name": "Karin Lund"}
        assert pop["open_tickets"] == [{"reference": reference, "subject": "Bygglov altan", "status": "open"}]
        # Bertil is not offered this call: his socket stays quiet.
        assert await comm_bertil.receive_nothing(timeout=0.3)

        assert await cti({"event": "call.answered", "call_id": "ws-1", "agent": "anna"}) == 200
        assert (await next_of_type(comm_bertil, "call.answered"))["agent"] == "anna"
        assert await cti({"event": "call.ended", "call_id": "ws-1", "summary": "Svarade om bygglov.",
                          "resolved_during_call": True}) == 200
        created = await next_of_type(comm_bertil, "ticket.created")
        assert created["channel"] == "phone"
        ended = await next_of_type(comm_bertil, "call.ended")
        assert ended["ticket"] == created["ticket"]
    finally:
        await comm_anna.disconnect()
        await comm_bertil.disconnect()


async def test_an_unknown_caller_without_an_agent_pops_to_all_agents():
    keys = [await make_agent("anna"), await make_agent("bertil")]
    comms = [await connect(k) for k in keys]
    try:
        assert await cti({"event": "call.ringing", "call_id": "ws-2", "caller": "+46 8 555 123 45"}) == 200
        for comm in comms:
            pop = await next_of_type(comm, "call.ringing")
            assert pop["contact"] is None and pop["open_tickets"] == [] and pop["agent"] is None
    finally:
        for comm in comms:
            await comm.disconnect()
