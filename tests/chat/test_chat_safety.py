"""Anonymous chat is rate-limited, origin-checked, size-limited and shows a resident only their
own conversation; two agents accepting one chat never both win."""

from __future__ import annotations

import asyncio
import threading
from datetime import datetime
from zoneinfo import ZoneInfo

import httpx
import pytest
from channels.db import database_sync_to_async
from rest_framework.authtoken.models import Token

from contactcentre.intake.chat import services
from contactcentre.intake.chat.availability import opening_hours_open
from contactcentre.intake.chat.models import ChatSession
from contactcentre.tickets.models import Message, TicketEvent
from tests.conftest import client_for
from tests.factories import UserFactory

from .helpers import ORIGIN, Socket, agent_socket, make_agent, resident, resident_hello

STOCKHOLM = ZoneInfo("Europe/Stockholm")


def waiting_chat(text: str = "Jag behöver hjälp med min faktura") -> ChatSession:
    opened = services.chat_session_open(token=None, ip="10.1.1.1")
    services.chat_message_receive(session_id=opened.session.pk, text=text, client_id="x1")
    services.chat_handover_request(session_id=opened.session.pk)
    return ChatSession.objects.get(pk=opened.session.pk)


# --- only your own conversation ---------------------------------------------------------------

@pytest.mark.django_db(transaction=True)
async def test_a_forged_or_foreign_token_never_shows_another_conversation():
    alice = await resident(client=("10.0.0.1", 1))
    alice_session = await resident_hello(alice)
    await alice.send({"type": "message", "id": "p1", "text": "Mitt personnummer är 19800101-1234"})
    await alice.expect("ack")

    stored_hash = await database_sync_to_async(lambda: ChatSession.objects.get().token_hash)()
    alice_token = alice_session["token"]
    forged = [
        "A" * 43,                                  # well-formed but made up
        alice_token[:-1] + ("A" if alice_token[-1] != "A" else "B"),  # one character off
        stored_hash,                               # the database's hash is not a key
        alice_token + "x" * 80,                    # too long to be ours
        None,
        12345,
    ]
    for token in forged:
        mallory = await resident(client=("10.0.0.2", 2))
        session = await resident_hello(mallory, token=token)  # type: ignore[arg-type]
        assert session["resumed"] is False and session["transcript"] == [], token
        assert session["token"] != alice_token
        # Nor does anything of Alice's reach this socket later.
        await alice.send({"type": "message", "id": f"p{len(str(token))}", "text": "Hallå?"})
        await alice.expect("ack")
        assert await mallory.nothing("message")
        await mallory.close()

    assert await database_sync_to_async(ChatSession.objects.count)() == 1 + len(forged)
    await alice.close()


@pytest.mark.django_db(transaction=True)
async def test_an_ended_chat_cannot_be_resumed():
    widget = await resident()
    token = (await resident_hello(widget))["token"]
    await widget.send({"type": "message", "id": "e1", "text": "Hej"})
    await widget.expect("ack")
    await widget.send({"type": "end"})
    await widget.expect("state", state="ended")
    await widget.send({"type": "message", "id": "e2", "text": "Hej igen"})
    assert (await widget.expect("error"))["code"] == "chat_ended"
    await widget.close()

    widget = await resident()
    session = await resident_hello(widget, token=token)
    assert session["resumed"] is False and session["transcript"] == []
    await widget.close()


# --- origin policy -----------------------------------------------------------------------------

@pytest.mark.django_db(transaction=True)
async def test_the_widget_origin_policy(settings):
    settings.CHAT_WIDGET_ORIGINS = ["https://www.solna.example.org"]
    city = (b"origin", b"https://www.solna.example.org")
    for origin, allowed in [(ORIGIN, True), (city, True), ((b"origin", b"https://evil.example.com"), False), (None, False)]:
        sock = Socket("/ws/chat/", [origin] if origin else [])
        assert await sock.connect() is allowed, origin
        await sock.close()

    # The widget's origin opens the resident chat, not the agents' socket (cookie or not).
    agent = Socket("/ws/agent/", [city])
    assert not await agent.connect()
    await agent.close()


# --- rate limits and sizes --------------------------------------------------------------------

@pytest.mark.django_db(transaction=True)
async def test_new_sessions_are_rate_limited_per_address(settings):
    settings.CHAT_RATE_SESSIONS_PER_HOUR = 2
    tokens = []
    for _ in range(2):
        sock = await resident(client=("10.9.9.9", 1))
        tokens.append((await resident_hello(sock))["token"])
        await sock.close()

    sock = await resident(client=("10.9.9.9", 1))
    await sock.send({"type": "hello", "token": None})
    assert (await sock.expect("error"))["code"] == "rate_limited"
    output = await sock.comm.receive_output(timeout=2)
    assert output == {"type": "websocket.close", "code": 4429}
    await sock.close()

    # Resuming one's own chat is not a new session; another address is not affected.
    sock = await resident(client=("10.9.9.9", 1))
    assert (await resident_hello(sock, token=tokens[0]))["resumed"] is True
    await sock.close()
    sock = await resident(client=("10.8.8.8", 1))
    assert "token" in await resident_hello(sock)
    await sock.close()
    assert await database_sync_to_async(ChatSession.objects.count)() == 3


@pytest.mark.django_db(transaction=True)
async def test_messages_are_rate_limited_and_size_limited(settings):
    settings.CHAT_RATE_MESSAGES_PER_MINUTE = 3
    settings.CHAT_MAX_MESSAGE_CHARS = 100
    widget = await resident()
    await resident_hello(widget)

    await widget.send({"type": "message", "id": "big", "text": "x" * 101})
    error = await widget.expect("error")
    assert error["code"] == "too_long" and error["id"] == "big"
    await widget.comm.send_to(text_data='{"type": "message", "text": "' + "y" * 20_000 + '"}')
    assert (await widget.expect("error"))["code"] == "frame_too_large"

    # HTML is stored as the text it is, never as markup.
    await widget.send({"type": "message", "id": "h1", "text": "<img src=x onerror=alert(1)>"})
    ack = await widget.expect("ack")
    stored = await database_sync_to_async(Message.objects.get)(pk=ack["message_id"])
    assert stored.body_text == "<img src=x onerror=alert(1)>" and stored.body_html == ""

    for i in range(2):
        await widget.send({"type": "message", "id": f"n{i}", "text": f"Meddelande {i}"})
        await widget.expect("ack", id=f"n{i}")
    await widget.send({"type": "message", "id": "n9", "text": "Ett för mycket"})
    error = await widget.expect("error", id="n9")
    assert error["code"] == "rate_limited"
    assert await database_sync_to_async(Message.objects.count)() == 3
    await widget.close()


@pytest.mark.django_db(transaction=True)
async def test_frames_before_hello_and_unknown_frames_are_refused():
    widget = await resident()
    await widget.send({"type": "message", "text": "Hej"})
    assert (await widget.expect("error"))["code"] == "hello_first"
    await widget.send({"type": "ping"})
    await widget.expect("pong")
    await resident_hello(widget)
    await widget.send({"type": "handover"})
    assert (await widget.expect("error"))["code"] == "ask_first"
    await widget.send({"type": "launch_missiles"})
    assert (await widget.expect("error"))["code"] == "unknown_type"
    await widget.send({"type": "feedback", "message_id": "1", "helpful": "ja"})
    assert (await widget.expect("error"))["code"] == "invalid"
    await widget.close()
    assert await database_sync_to_async(Message.objects.count)() == 0


# --- accepting: exactly one agent wins ---------------------------------------------------------

@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("agents", [2, 6])
def test_concurrent_accepts_exactly_one_wins(live_server, settings, agents):
    settings.CHAT_REQUIRE_AGENT_ONLINE = False
    chat = waiting_chat()
    tokens = [Token.objects.create(user=UserFactory(username=f"racer{i}", role="agent")).key for i in range(agents)]
    barrier = threading.Barrier(agents)
    results: list[tuple[str, int]] = []
    lock = threading.Lock()

    def accept(token: str) -> None:
        with httpx.Client(base_url=live_server.url, headers={"Authorization": f"Token {token}"}, timeout=30) as client:
            barrier.wait()
            r = client.post(f"/api/v1/chats/{chat.pk}/accept/")
            with lock:
                results.append((token, r.status_code))

    threads = [threading.Thread(target=accept, args=(t,)) for t in tokens]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert sorted(code for _, code in results) == [200] + [409] * (agents - 1)
    winner = Token.objects.get(key=next(tok for tok, code in results if code == 200)).user
    chat.refresh_from_db()
    assert chat.state == "with_agent" and chat.accepted_by == winner
    assert chat.ticket.assignee == winner
    assert TicketEvent.objects.filter(ticket=chat.ticket, kind="chat_accepted").count() == 1


@pytest.mark.django_db(transaction=True)
async def test_two_consoles_accept_at_once_one_wins():
    _anna, key_a = await make_agent("anna", "Anna")
    _bertil, key_b = await make_agent("bertil", "Bertil")
    console_a, console_b = await agent_socket(key_a), await agent_socket(key_b)
    widget = await resident()
    await resident_hello(widget)
    await widget.send({"type": "message", "id": "r1", "text": "Hjälp med e-tjänsten"})
    await widget.expect("ack")
    await widget.send({"type": "handover"})
    session_id = (await console_a.expect("chat.waiting"))["session_id"]
    assert (await console_b.expect("chat.waiting"))["session_id"] == session_id

    await asyncio.gather(
        console_a.send({"type": "chat.accept", "session_id": session_id}),
        console_b.send({"type": "chat.accept", "session_id": session_id}),
    )
    results = [await console_a.expect("chat.accept.result"), await console_b.expect("chat.accept.result")]
    assert sorted(r["ok"] for r in results) == [False, True]
    loser = next(r for r in results if not r["ok"])
    assert loser["code"] == "chat_not_waiting"
    winner_name = "Anna" if results[0]["ok"] else "Bertil"
    assert (await widget.expect("state", state="with_agent"))["agent"] == winner_name

    for sock in (widget, console_a, console_b):
        await sock.close()


@pytest.mark.django_db
def test_caseworkers_cannot_take_chats(settings, caseworker):
    settings.CHAT_REQUIRE_AGENT_ONLINE = False
    chat = waiting_chat()
    response = client_for(caseworker).post(f"/api/v1/chats/{chat.pk}/accept/")
    assert response.status_code == 403
    chat.refresh_from_db()
    assert chat.state == "waiting_for_agent"


@pytest.mark.django_db
def test_the_waiting_list_endpoint(settings, agent, django_assert_num_queries):
    settings.CHAT_REQUIRE_AGENT_ONLINE = False
    chats = [waiting_chat(f"Fråga {i}") for i in range(3)]
    api = client_for(agent)
    api.get("/api/v1/chats/")  # warm the token lookup path
    with django_assert_num_queries(2):  # the token (with its user), then chats joined to ticket and agent
        response = api.get("/api/v1/chats/")
    assert response.status_code == 200
    assert [c["session_id"] for c in response.json()] == [c.pk for c in chats]
    assert response.json()[0]["ticket"] == chats[0].ticket.reference
    assert api.post(f"/api/v1/chats/{chats[0].pk}/accept/").json()["state"] == "with_agent"
    assert [c["session_id"] for c in api.get("/api/v1/chats/").json()] == [chats[1].pk, chats[2].pk]
    assert api.get("/api/v1/chats/", {"state": "with_agent"}).json()[0]["accepted_by"] == agent.username
    assert api.post(f"/api/v1/chats/{chats[0].pk}/end/").json()["state"] == "ended"
    assert api.get("/api/v1/chats/availability/").json() == {"available": True, "reason": ""}
    assert client_for(agent).post("/api/v1/chats/999999/accept/").status_code == 404


# --- opening hours (pure) ------------------------------------------------------------------------

HOURS = {"mon": [["08:00", "12:00"], ["13:00", "16:30"]], "sat": []}


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (datetime(2026, 3, 2, 9, 0, tzinfo=STOCKHOLM), True),      # Monday morning
        (datetime(2026, 3, 2, 12, 30, tzinfo=STOCKHOLM), False),   # lunch
        (datetime(2026, 3, 2, 16, 30, tzinfo=STOCKHOLM), False),   # closing time is closed
        (datetime(2026, 3, 2, 7, 59, tzinfo=STOCKHOLM), False),
        (datetime(2026, 3, 3, 9, 0, tzinfo=STOCKHOLM), False),     # Tuesday is not listed
        (datetime(2026, 3, 7, 9, 0, tzinfo=STOCKHOLM), False),     # Saturday closed
        (datetime(2026, 3, 2, 7, 30, tzinfo=ZoneInfo("UTC")), True),  # 08:30 in Stockholm
    ],
)
def test_opening_hours(moment, expected):
    assert opening_hours_open(HOURS, moment) is expected


def test_public_holidays_are_closed_and_no_hours_means_always_open():
    easter_monday = datetime(2026, 4, 6, 10, 0, tzinfo=STOCKHOLM)
    assert opening_hours_open(HOURS | {"mon": [["08:00", "17:00"]]}, easter_monday) is True
    assert opening_hours_open(HOURS | {"mon": [["08:00", "17:00"]]}, easter_monday, holiday_country="SE") is False
    assert opening_hours_open({}, easter_monday, holiday_country="SE") is True
    assert opening_hours_open({"mon": [["bad", "data"]]}, easter_monday) is False


@pytest.mark.django_db
def test_the_chat_departments_own_hours_win(settings, departments):
    from contactcentre.intake.chat.availability import chat_availability

    settings.CHAT_ALWAYS_OPEN = False
    settings.CHAT_REQUIRE_AGENT_ONLINE = False
    settings.CHAT_OPENING_HOURS = None  # the settings default would be "always open"
    monday_morning = datetime(2026, 3, 2, 9, 0, tzinfo=STOCKHOLM)
    assert chat_availability(now=monday_morning).available is True
    departments["kundtjanst"].opening_hours = {"mon": [["10:00", "15:00"]]}
    departments["kundtjanst"].save(update_fields=["opening_hours"])
    assert chat_availability(now=monday_morning).reason == "closed"
