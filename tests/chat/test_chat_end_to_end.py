"""A resident (the widget's socket) and an agent (the console's socket) hold a chat end to end,
through the real ASGI stack: origin policy, channel layer, intake, ticket services, deliverer."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from django.core import mail

from contactcentre.intake.chat.models import ChatSession
from contactcentre.tickets.models import Message, Ticket, TicketEvent
from tests.conftest import client_for

from .helpers import agent_socket, make_agent, resident, resident_hello

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


@database_sync_to_async
def reply_via_rest(user, reference: str, body: str) -> int:
    response = client_for(user).post(f"/api/v1/tickets/{reference}/reply/", {"body": body}, format="json")
    assert response.status_code == 201, response.content
    return response.json()["id"]


@database_sync_to_async
def transcript(ticket_id: int) -> list[tuple[str, str, str]]:
    return [
        (m.direction, m.author.username if m.author else "", m.body_text)
        for m in Message.objects.filter(ticket_id=ticket_id).select_related("author").order_by("created_at", "id")
    ]


@database_sync_to_async
def load(model, **kw):
    return model.objects.get(**kw)


async def test_resident_and_agent_chat_end_to_end():
    anna, key = await make_agent()
    console = await agent_socket(key)
    widget = await resident()

    session = await resident_hello(widget)
    assert session["state"] == "bot" and session["resumed"] is False and session["transcript"] == []
    assert session["availability"] == {"available": True, "reason": ""}
    assert len(session["token"]) >= 40

    # The null router cannot answer: the resident is offered a person.
    await widget.send({"type": "message", "id": "m1", "text": "Hur lång tid tar ett bygglov för en altan?"})
    ack = await widget.expect("ack", id="m1")
    assert ack["duplicate"] is False
    echoed = await widget.expect_message("resident")
    assert echoed["id"] == ack["message_id"] and echoed["client_id"] == "m1"
    assert (await widget.expect("prompt"))["kind"] == "handover"
    created = await console.expect("ticket.created")
    assert created["channel"] == "chat"

    # "Talk to a person": the chat waits, every agent hears of it.
    await widget.send({"type": "handover"})
    assert (await widget.expect("state"))["state"] == "waiting_for_agent"
    waiting = await console.expect("chat.waiting")
    assert waiting["ticket"] == created["ticket"] and waiting["state"] == "waiting_for_agent"
    session_id = waiting["session_id"]

    # Anna accepts from the console; the resident is told who joined.
    await console.send({"type": "chat.accept", "session_id": session_id})
    result = await console.expect("chat.accept.result")
    assert result["ok"] is True and result["ticket"] == created["ticket"]
    accepted = await console.expect("chat.accepted")
    assert accepted["agent"] == "anna" and accepted["session_id"] == session_id
    joined = await widget.expect("state")
    assert joined == {"type": "state", "state": "with_agent", "agent": "Anna", "reason": "",
                      "reply_by_email": False, "email": ""}

    # Typing indicators, both ways.
    await widget.send({"type": "typing"})
    typing = await console.expect("chat.typing")
    assert typing["who"] == "resident" and typing["session_id"] == session_id
    await console.send({"type": "chat.typing", "session_id": session_id})
    assert await widget.expect("typing") == {"type": "typing", "who": "agent", "name": "Anna"}

    # The agent answers through the ordinary REST reply; the deliverer pushes it to the widget.
    reply_id = await reply_via_rest(anna, created["ticket"], "Hej! Handläggningstiden är oftast fyra veckor.")
    answer = await widget.expect_message("agent")
    assert answer == {"id": reply_id, "from": "agent", "name": "Anna", "ts": answer["ts"], "article": None,
                      "text": "Hej! Handläggningstiden är oftast fyra veckor.", "client_id": None}

    # The resident answers back; the agent's console hears of the new message.
    await widget.send({"type": "message", "id": "m2", "text": "Tack, då vet jag!"})
    await widget.expect("ack", id="m2")
    assert await widget.nothing("prompt")  # a person is on it: no bot prompts any more
    event = await console.expect("message.created", direction="inbound")
    assert event["ticket"] == created["ticket"]

    ticket = await load(Ticket, reference=created["ticket"])
    assert ticket.channel == "chat" and ticket.assignee_id == anna.pk and ticket.status == "open"
    assert await transcript(ticket.pk) == [
        ("inbound", "", "Hur lång tid tar ett bygglov för en altan?"),
        ("outbound", "anna", "Hej! Handläggningstiden är oftast fyra veckor."),
        ("inbound", "", "Tack, då vet jag!"),
    ]
    delivered = await load(Message, pk=reply_id)
    assert delivered.delivery_status == "sent"
    kinds = await database_sync_to_async(
        lambda: list(TicketEvent.objects.filter(ticket=ticket, kind__startswith="chat_").values_list("kind", flat=True))
    )()
    assert kinds == ["chat_waiting", "chat_accepted"]

    # The resident ends the chat; agents are told.
    await widget.send({"type": "end"})
    assert (await widget.expect("state"))["state"] == "ended"
    assert (await console.expect("chat.ended"))["session_id"] == session_id
    await widget.close()
    await console.close()


async def test_reload_resumes_the_same_conversation():
    anna, key = await make_agent()
    console = await agent_socket(key)
    widget = await resident()
    token = (await resident_hello(widget))["token"]
    await widget.send({"type": "message", "id": "q1", "text": "Var hämtar jag ut mitt parkeringstillstånd?"})
    ack = await widget.expect("ack")
    await widget.send({"type": "handover"})
    session_id = (await console.expect("chat.waiting"))["session_id"]
    await console.send({"type": "chat.accept", "session_id": session_id})
    reference = (await console.expect("chat.accept.result"))["ticket"]
    await widget.close()  # the page reloads (or the train goes into a tunnel)

    # The reply arrives while nobody is connected: it is on the ticket all the same.
    await reply_via_rest(anna, reference, "Du hämtar det i medborgarservice, plan 2.")
    offline = await console.expect("chat.resident")
    assert offline["online"] is False and offline["session_id"] == session_id

    widget = await resident()
    resumed = await resident_hello(widget, token=token)
    assert resumed["resumed"] is True and "token" not in resumed
    assert resumed["state"] == "with_agent" and resumed["agent"] == "Anna"
    assert [(m["from"], m["text"]) for m in resumed["transcript"]] == [
        ("resident", "Var hämtar jag ut mitt parkeringstillstånd?"),
        ("agent", "Du hämtar det i medborgarservice, plan 2."),
    ]
    assert (await console.expect("chat.resident"))["online"] is True

    # A message the widget re-sends after the drop (same client id) is stored once.
    await widget.send({"type": "message", "id": "q1", "text": "Var hämtar jag ut mitt parkeringstillstånd?"})
    again = await widget.expect("ack", id="q1")
    assert again["duplicate"] is True and again["message_id"] == ack["message_id"]

    # And the live link works on the resumed socket.
    await reply_via_rest(anna, reference, "Öppet 8-17.")
    assert (await widget.expect_message("agent"))["text"] == "Öppet 8-17."
    count = await database_sync_to_async(lambda: Message.objects.filter(ticket__reference=reference).count())()
    assert count == 3
    await widget.close()
    await console.close()


async def test_the_bot_answers_first_and_no_hands_over(answering):
    _anna, key = await make_agent()
    console = await agent_socket(key)
    widget = await resident()
    await resident_hello(widget)
    await widget.send({"type": "message", "id": "a1", "text": "När har återvinningscentralen öppet?"})
    answer = await widget.expect_message("bot")
    assert answer["article"] == "atervinningscentral-oppettider"
    assert answer["text"].startswith("Återvinningscentralens öppettider")
    assert await widget.expect("prompt") == {"type": "prompt", "kind": "feedback", "message_id": answer["id"]}

    await widget.send({"type": "feedback", "message_id": answer["id"], "helpful": False})
    assert (await widget.expect("feedback")) == {"type": "feedback", "message_id": answer["id"], "helpful": False}
    assert (await widget.expect("state"))["state"] == "waiting_for_agent"
    waiting = await console.expect("chat.waiting")

    session = await load(ChatSession, pk=waiting["session_id"])
    assert session.feedback_message_id is None
    feedback = await load(TicketEvent, ticket_id=session.ticket_id, kind="chat_feedback")
    assert feedback.data["helpful"] is False and feedback.data["article"] == "atervinningscentral-oppettider"
    # A second answer to the same question is refused, not double-counted.
    await widget.send({"type": "feedback", "message_id": answer["id"], "helpful": True})
    assert (await widget.expect("error"))["code"] == "no_feedback_pending"
    await widget.close()
    await console.close()


async def test_a_helpful_bot_answer_resolves_the_ticket_at_first_contact(answering):
    widget = await resident()
    await resident_hello(widget)
    await widget.send({"type": "message", "id": "a1", "text": "Öppettider för återvinning?"})
    answer = await widget.expect_message("bot")
    await widget.send({"type": "feedback", "message_id": answer["id"], "helpful": True})
    await widget.expect("feedback", helpful=True)
    ticket = await database_sync_to_async(lambda: Message.objects.get(pk=answer["id"]).ticket)()
    assert ticket.status == "resolved" and ticket.first_contact_resolution is True
    await widget.close()


async def test_typing_help_in_words_hands_over(chat_settings):
    _anna, key = await make_agent()
    console = await agent_socket(key)
    widget = await resident()
    await resident_hello(widget, language="en")
    await widget.send({"type": "message", "id": "h1", "text": "Can I talk to a human please"})
    assert (await widget.expect("state"))["state"] == "waiting_for_agent"
    assert (await console.expect("chat.waiting"))["language"] == "en"
    await widget.close()
    await console.close()


async def test_with_nobody_online_the_resident_gets_an_email_answer():
    widget = await resident()
    session = await resident_hello(widget)
    assert session["availability"] == {"available": False, "reason": "no_agent"}
    await widget.send({"type": "message", "id": "e1", "text": "Jag vill överklaga ett beslut om bygglov."})
    await widget.expect("ack")
    await widget.send({"type": "handover"})
    state = await widget.expect("state")
    assert state["state"] == "offline" and state["reason"] == "no_agent"

    await widget.send({"type": "email", "email": "not-an-address"})
    assert (await widget.expect("error"))["code"] == "invalid_email"
    await widget.send({"type": "email", "email": "Eva.Ek@Example.org", "name": "Eva Ek"})
    state = await widget.expect("state", reply_by_email=True)
    assert state["email"] == "eva.ek@example.org"

    message = await widget.expect_message("resident")
    ticket = await database_sync_to_async(
        lambda: Ticket.objects.select_related("contact").get(messages__id=message["id"])
    )()
    assert "svar-via-epost" in ticket.tags and ticket.status == "new"
    assert ticket.contact is not None and ticket.contact.name == "Eva Ek"

    # Later an agent answers the ticket from the queue: the answer goes out by e-mail.
    anna, _key = await make_agent()
    await reply_via_rest(anna, ticket.reference, "Du överklagar genom att skriva till Mark- och miljödomstolen.")
    assert len(mail.outbox) == 1
    sent = mail.outbox[0]
    assert sent.to == ["Eva Ek <eva.ek@example.org>"] and ticket.reference in sent.subject
    assert "Mark- och miljödomstolen" in sent.body
    await widget.close()


async def test_outside_opening_hours_the_chat_offers_email(chat_settings):
    chat_settings.CHAT_ALWAYS_OPEN = False
    # Hours that never open (a weekday without intervals is a closed day), whatever today is.
    chat_settings.CHAT_OPENING_HOURS = {"mon": []}
    _anna, key = await make_agent()
    console = await agent_socket(key)
    widget = await resident()
    session = await resident_hello(widget)
    assert session["availability"] == {"available": False, "reason": "closed"}
    await widget.send({"type": "message", "id": "c1", "text": "Hej, en fråga om förskola"})
    await widget.expect("ack")
    await widget.send({"type": "handover"})
    state = await widget.expect("state")
    assert state["state"] == "offline" and state["reason"] == "closed"
    # No agent was bothered with a chat nobody can take now; the ticket stays in the queue.
    assert await console.nothing("chat.waiting")
    assert await database_sync_to_async(lambda: Ticket.objects.filter(channel="chat", status="new").count())() == 1
    await widget.close()
    await console.close()
