"""/ws/agent/ through the real ASGI stack (auth middleware, origin policy, channel layer)."""

import asyncio

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client
from rest_framework.authtoken.models import Token

from contactcentre.asgi import application
from contactcentre.intake.web import web_form_receive
from contactcentre.tickets import services
from tests.factories import DepartmentFactory, TicketFactory, UserFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]
ORIGIN = (b"origin", b"http://127.0.0.1:8000")


def token_headers(key: str, origin: bool = False) -> list[tuple[bytes, bytes]]:
    headers = [(b"authorization", f"Token {key}".encode())]
    return [*headers, ORIGIN] if origin else headers


@database_sync_to_async
def make_agent(username="anna", role="agent", department=None) -> str:
    user = UserFactory(username=username, role=role, department=department)
    return Token.objects.create(user=user).key


@database_sync_to_async
def submit(**data):
    return web_form_receive(data={"email": "anna@example.org", "message": "Hej", **data}).ticket


async def connect(headers) -> tuple[WebsocketCommunicator, bool]:
    comm = WebsocketCommunicator(application, "/ws/agent/", headers=headers)
    connected, _ = await comm.connect(timeout=5)
    return comm, connected


async def next_event(comm: WebsocketCommunicator, type_: str, timeout: float = 3.0) -> dict:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        frame = await comm.receive_json_from(timeout=max(0.05, deadline - asyncio.get_running_loop().time()))
        if frame["type"] == type_:
            return frame


async def test_anonymous_connections_are_refused():
    comm, connected = await connect([ORIGIN])
    assert not connected
    await comm.disconnect()


async def test_a_bad_token_is_refused():
    comm, connected = await connect(token_headers("not-a-token"))
    assert not connected
    await comm.disconnect()


async def test_session_cookie_needs_an_allowed_origin():
    @database_sync_to_async
    def session_cookie() -> str:
        UserFactory(username="anna", role="agent")
        client = Client()
        assert client.login(username="anna", password="correct-horse-battery")
        return client.cookies["sessionid"].value

    cookie = (b"cookie", f"sessionid={await session_cookie()}".encode())
    comm, connected = await connect([cookie, ORIGIN])
    assert connected
    hello = await comm.receive_json_from()
    assert hello["type"] == "hello" and hello["user"] == "anna"
    await comm.disconnect()

    for origin in [(b"origin", b"https://evil.example.com"), None]:
        comm, connected = await connect([cookie] + ([origin] if origin else []))
        assert not connected, origin
        await comm.disconnect()


async def test_token_client_with_foreign_origin_is_refused():
    key = await make_agent()
    comm, connected = await connect([*token_headers(key), (b"origin", b"https://evil.example.com")])
    assert not connected
    await comm.disconnect()


async def test_a_new_web_ticket_reaches_connected_agents_after_commit():
    key = await make_agent()
    comm, connected = await connect(token_headers(key))
    assert connected
    hello = await comm.receive_json_from()
    assert hello["type"] == "hello"

    ticket = await submit(subject="Bygglov för altan")
    event = await next_event(comm, "ticket.created")
    assert event["ticket"] == ticket.reference
    assert event["status"] == "new"
    assert event["id"] > hello["last_event_id"]
    assert {"type", "ticket", "status", "department", "assignee", "ts"} <= set(event)
    await comm.disconnect()


async def test_claims_are_seen_by_other_agents():
    key_a = await make_agent("anna")
    key_b = await make_agent("bertil")
    ticket = await submit()
    comm_b, _ = await connect(token_headers(key_b))
    await comm_b.receive_json_from()

    @database_sync_to_async
    def claim():
        services.ticket_claim(ticket_id=ticket.pk, actor=Token.objects.get(key=key_a).user)

    await claim()
    event = await next_event(comm_b, "ticket.updated")
    assert event["ticket"] == ticket.reference and event["assignee"] == "anna" and event["status"] == "open"
    await comm_b.disconnect()


async def test_caseworkers_get_only_their_departments_escalations():
    @database_sync_to_async
    def setup():
        return DepartmentFactory(code="bygglov"), DepartmentFactory(code="miljotillsyn")

    bygg, miljo = await setup()
    key_cw = await make_agent("cecilia", role="caseworker", department=bygg)
    key_agent = await make_agent("anna")
    comm, connected = await connect(token_headers(key_cw))
    assert connected
    await comm.receive_json_from()

    ticket_a = await submit(email="a@example.org")
    ticket_b = await submit(email="b@example.org")

    @database_sync_to_async
    def escalate(ticket, code):
        services.ticket_escalate(ticket_id=ticket.pk, actor=Token.objects.get(key=key_agent).user, department_code=code)

    await escalate(ticket_b, "miljotillsyn")
    await escalate(ticket_a, "bygglov")
    event = await next_event(comm, "ticket.updated")
    assert event["ticket"] == ticket_a.reference and event["department"] == "bygglov"
    # Nothing else arrives: not the new tickets, not the other department's escalation.
    assert await comm.receive_nothing(timeout=0.3)
    await comm.disconnect()


async def test_resync_replays_missed_events_in_order():
    key = await make_agent()
    comm, _ = await connect(token_headers(key))
    hello = await comm.receive_json_from()
    await comm.disconnect()

    t1 = await submit(email="one@example.org")
    t2 = await submit(email="two@example.org")

    comm, _ = await connect(token_headers(key))
    await comm.receive_json_from()
    await comm.send_json_to({"type": "resync", "since": hello["last_event_id"]})
    frame = await next_event(comm, "resync")
    assert [e["ticket"] for e in frame["events"] if e["type"] == "ticket.created"] == [t1.reference, t2.reference]
    ids = [e["id"] for e in frame["events"]]
    assert ids == sorted(ids)
    await comm.send_json_to({"type": "resync", "since": "x"})
    assert (await next_event(comm, "error"))["detail"]
    await comm.disconnect()


async def test_watching_a_ticket_does_not_duplicate_frames():
    key = await make_agent()
    ticket = await submit()
    comm, _ = await connect(token_headers(key))
    await comm.receive_json_from()
    await comm.send_json_to({"type": "watch", "ticket_id": ticket.pk})

    @database_sync_to_async
    def note():
        services.ticket_note(ticket_id=ticket.pk, actor=Token.objects.get(key=key).user, body="Intern notering")

    await note()
    event = await next_event(comm, "message.created")
    assert event["direction"] == "note"
    assert await comm.receive_nothing(timeout=0.3)
    await comm.disconnect()


async def test_nothing_is_broadcast_when_the_transaction_rolls_back():
    key = await make_agent()
    comm, _ = await connect(token_headers(key))
    await comm.receive_json_from()

    @database_sync_to_async
    def failing_change():
        from django.db import transaction

        ticket = TicketFactory()
        try:
            with transaction.atomic():
                services.ticket_note(ticket_id=ticket.pk, actor=Token.objects.get(key=key).user, body="x")
                raise RuntimeError("boom")
        except RuntimeError:
            pass

    await failing_change()
    assert await comm.receive_nothing(timeout=0.3)
    await comm.disconnect()
