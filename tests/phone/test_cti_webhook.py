"""The signed CTI webhook: a call from ringing to a ticket, callbacks, and what is refused."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from rest_framework.test import APIClient

from contactcentre.intake.phone.models import CallEvent, CallSession
from contactcentre.tickets.models import ContactPhone, Message, Ticket, TicketEvent
from tests.factories import ContactFactory, TicketFactory
from tests.phone.helpers import URL, post_event, signed_headers, stored_counts

pytestmark = pytest.mark.django_db
CALLER = "070-174 06 01"
CALLER_E164 = "+46701740601"


@pytest.fixture
def client() -> APIClient:
    return APIClient()


@pytest.fixture
def known_caller(db):
    contact = ContactFactory(name="Karin Lund")
    ContactPhone.objects.create(contact=contact, number=CALLER_E164)
    open_ticket = TicketFactory(contact=contact, subject="Bygglov altan", status="open")
    TicketFactory(contact=contact, subject="Gammalt ärende", status="closed")
    return contact, open_ticket


def test_a_call_from_ringing_to_a_resolved_ticket(client, agent, known_caller, django_capture_on_commit_callbacks):
    contact, open_ticket = known_caller
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        r = post_event(client, {"event": "call.ringing", "call_id": "c-1", "caller": CALLER, "agent": "anna"})
    assert r.status_code == 200, r.content
    call = CallSession.objects.get(call_id="c-1")
    assert (call.state, call.caller_e164, call.contact, call.agent) == ("ringing", CALLER_E164, contact, agent)
    assert len(callbacks) == 1  # the screen-pop leaves after commit (frame content: websocket test)

    r = post_event(client, {"event": "call.answered", "call_id": "c-1", "agent": "anna"})
    assert r.status_code == 200 and r.json()["state"] == "answered"

    r = post_event(client, {"event": "call.ended", "call_id": "c-1", "summary": "Frågade om sophämtning; förklarade hämtdagar.",
                            "outcome": "informed", "resolved_during_call": True, "duration_seconds": 184})
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["ticket_created"] is True and body["state"] == "ended"
    ticket = Ticket.objects.get(reference=body["ticket"])
    assert ticket != open_ticket
    assert (ticket.channel, ticket.status, ticket.first_contact_resolution) == ("phone", "resolved", True)
    assert ticket.contact == contact and ticket.assignee == agent
    message = ticket.messages.get(direction="inbound")
    assert "sophämtning" in message.body_text and "Utfall: informed" in message.body_text
    assert message.meta["call_id"] == "c-1" and message.meta["agent"] == "anna"
    assert message.meta["resolved_during_call"] is True and message.meta["duration_seconds"] == 184
    call.refresh_from_db()
    assert (call.ticket, call.outcome, call.resolved_during_call, call.duration_seconds) == (ticket, "informed", True, 184)
    assert call.answered_at and call.ended_at
    assert list(call.events.values_list("event", flat=True)) == ["call.ringing", "call.answered", "call.ended"]


def test_ended_on_an_existing_ticket_adds_the_summary_there(client, agent, known_caller):
    contact, open_ticket = known_caller
    post_event(client, {"event": "call.answered", "call_id": "c-2", "caller": CALLER, "agent": "anna"})
    r = post_event(client, {"event": "call.ended", "call_id": "c-2", "summary": "Kompletterade med ritning.",
                            "ticket_reference": open_ticket.reference.lower(), "resolved_during_call": True})
    assert r.status_code == 200, r.content
    assert r.json()["ticket"] == open_ticket.reference and r.json()["ticket_created"] is False
    open_ticket.refresh_from_db()
    assert open_ticket.status == "resolved"
    # Resolved on a follow-up call: a resolution, but not at first contact.
    assert open_ticket.first_contact_resolution is False
    assert open_ticket.messages.filter(body_text__contains="ritning").exists()
    assert Ticket.objects.count() == 2


def test_a_call_without_resolution_leaves_an_open_ticket_with_the_agent(client, agent):
    post_event(client, {"event": "call.answered", "call_id": "c-3", "caller": "08-123 456 78", "agent": "anna"})
    r = post_event(client, {"event": "call.ended", "call_id": "c-3", "summary": "Vill ha återkoppling om bygglov.",
                            "outcome": "follow_up"})
    ticket = Ticket.objects.get(reference=r.json()["ticket"])
    assert ticket.status in ("open", "escalated") and ticket.first_contact_resolution is None
    assert ticket.contact.phones.get().number == "+46812345678"


def test_a_hang_up_without_summary_records_only_the_call(client, agent):
    post_event(client, {"event": "call.answered", "call_id": "c-4", "caller": CALLER, "agent": "anna"})
    r = post_event(client, {"event": "call.ended", "call_id": "c-4"})
    assert r.status_code == 200 and r.json()["ticket"] is None
    assert Ticket.objects.count() == 0 and CallSession.objects.get().state == "ended"


@time_machine.travel("2026-03-03 09:15:00+01:00", tick=False)
def test_a_missed_call_opens_a_callback_ticket_with_its_own_due_time(client, settings):
    settings.PHONE_CALLBACK_DUE_HOURS = 2
    r = post_event(client, {"event": "call.missed", "call_id": "m-1", "caller": CALLER})
    assert r.status_code == 200, r.content
    ticket = Ticket.objects.get(reference=r.json()["ticket"])
    assert (ticket.channel, ticket.category, ticket.priority, ticket.status) == ("phone", "callback", "high", "new")
    assert ticket.first_response_due_at == timezone.now() + timedelta(hours=2)
    assert ticket.subject == "Återuppringning: missat samtal från 070-174 06 01"
    assert ticket.contact.phones.get().number == CALLER_E164
    assert "Missat samtal" in ticket.messages.get().body_text
    assert TicketEvent.objects.filter(ticket=ticket, kind="callback").exists()

    # The voicemail the caller then left joins the same callback ticket.
    r = post_event(client, {"event": "voicemail", "call_id": "m-1", "caller": CALLER, "transcript": "Hej, ring mig om parkeringstillstånd.",
                            "recording_url": "https://pbx.example.org/rec/m-1.wav"})
    assert r.status_code == 200 and r.json()["ticket"] == ticket.reference and r.json()["ticket_created"] is False
    voicemail = ticket.messages.get(body_text__contains="parkeringstillstånd")
    assert voicemail.meta["recording_url"] == "https://pbx.example.org/rec/m-1.wav"
    assert CallSession.objects.get(call_id="m-1").state == "voicemail"

    # A second attempt by the same caller is owed the same call back, not another ticket.
    r = post_event(client, {"event": "call.missed", "call_id": "m-2", "caller": "+46 70 174 06 01"})
    assert r.json()["ticket"] == ticket.reference
    assert Ticket.objects.count() == 1 and ticket.messages.count() == 3


@time_machine.travel("2026-03-03 22:40:00+01:00", tick=False)
def test_a_voicemail_alone_opens_a_callback_ticket(client):
    r = post_event(client, {"event": "voicemail", "call_id": "v-1", "caller": "+358401234567",
                            "recording_url": "https://pbx.example.org/rec/v-1.wav"})
    ticket = Ticket.objects.get(reference=r.json()["ticket"])
    assert ticket.category == "callback" and ticket.first_response_due_at == timezone.now() + timedelta(hours=4)
    assert "Röstmeddelande (ingen transkribering)" in ticket.messages.get().body_text


def test_a_withheld_number_without_message_leaves_no_ticket(client):
    r = post_event(client, {"event": "call.missed", "call_id": "m-3", "caller": "anonymous"})
    assert r.status_code == 200 and r.json()["ticket"] is None
    assert Ticket.objects.count() == 0 and CallSession.objects.get().state == "missed"


# --- refused: nothing is stored --------------------------------------------------------------

RINGING = {"event": "call.ringing", "call_id": "x-1", "caller": CALLER}


def _raw(client, body: bytes, headers: dict[str, str]):
    return client.post(URL, data=body, content_type="application/json", **headers)


@pytest.mark.parametrize("case", ["tampered", "bad_signature", "wrong_secret", "expired", "future", "missing", "no_prefix"])
def test_unverifiable_deliveries_are_refused_with_401_and_store_nothing(client, case, settings):
    body = json.dumps(RINGING).encode()
    headers = signed_headers(body)
    if case == "tampered":
        body = body.replace(b"x-1", b"x-2")
    elif case == "bad_signature":
        headers["HTTP_X_CC_SIGNATURE"] = "sha256=" + "0" * 64
    elif case == "wrong_secret":
        headers = signed_headers(body, secret="not-the-secret")
    elif case == "expired":
        headers = signed_headers(body, ts=int(time.time()) - 360)
    elif case == "future":
        headers = signed_headers(body, ts=int(time.time()) + 360)
    elif case == "missing":
        headers = {}
    elif case == "no_prefix":
        headers["HTTP_X_CC_SIGNATURE"] = headers["HTTP_X_CC_SIGNATURE"].removeprefix("sha256=")
    before = stored_counts()
    r = _raw(client, body, headers)
    assert r.status_code == 401, r.content
    assert r["WWW-Authenticate"].startswith("HMAC-SHA256")
    assert stored_counts() == before == {k: 0 for k in before}


def test_a_timestamp_just_inside_the_window_is_accepted(client):
    assert post_event(client, RINGING, ts=int(time.time()) - 290).status_code == 200


def test_the_previous_secret_still_verifies_during_a_rotation(client, settings):
    settings.CTI_WEBHOOK_PREVIOUS_SECRET = "old-secret"
    assert post_event(client, RINGING, secret="old-secret").status_code == 200


@pytest.mark.parametrize("fresh_timestamp", [False, True])
def test_a_replay_is_refused_with_409_and_stores_nothing(client, agent, fresh_timestamp):
    payload = {"event": "call.missed", "call_id": "r-1", "caller": CALLER}
    body = json.dumps(payload).encode()
    headers = signed_headers(body)
    assert _raw(client, body, headers).status_code == 200
    before = stored_counts()
    # The identical delivery, or the same event re-signed with a new timestamp.
    r = _raw(client, body, signed_headers(body) if fresh_timestamp else headers)
    assert r.status_code == 409 and r.json()["code"] == "replayed"
    assert stored_counts() == before
    assert CallEvent.objects.filter(call__call_id="r-1").count() == 1


def test_a_payload_the_event_type_does_not_allow_is_400_and_stores_nothing(client):
    for payload in ({"event": "call.exploded", "call_id": "b-1"}, {"event": "call.answered", "call_id": "b-1"},
                    {"event": "voicemail", "call_id": "b-1"}, ["not", "an", "object"]):
        r = post_event(client, payload)  # type: ignore[arg-type]
        assert r.status_code == 400, (payload, r.content)
    assert stored_counts() == {k: 0 for k in stored_counts()}


def test_resolution_without_a_known_agent_is_refused_and_can_be_retried(client, agent):
    payload = {"event": "call.ended", "call_id": "a-1", "caller": CALLER, "summary": "Löst.", "resolved_during_call": True}
    r = post_event(client, payload)
    assert r.status_code == 400 and r.json()["code"] == "agent_required"
    assert stored_counts() == {k: 0 for k in stored_counts()}
    # Nothing was recorded, so the corrected delivery is not a replay.
    r = post_event(client, payload | {"agent": "anna"})
    assert r.status_code == 200 and Ticket.objects.get().first_contact_resolution is True


def test_events_out_of_order_never_move_a_call_backwards(client, agent):
    post_event(client, {"event": "call.ended", "call_id": "o-1", "caller": CALLER, "agent": "anna"})
    post_event(client, {"event": "call.answered", "call_id": "o-1", "agent": "anna"})
    call = CallSession.objects.get()
    assert call.state == "ended" and call.answered_at is not None


def test_the_schema_documents_every_event_payload(agent_api):
    r = agent_api.get("/api/schema/", HTTP_ACCEPT="application/json")
    schema = json.loads(r.content)
    mapping = schema["components"]["schemas"]["CTIEventRequest"]["discriminator"]["mapping"]
    assert set(mapping) == {"call.ringing", "call.answered", "call.ended", "call.missed", "voicemail"}
    assert "ctiSignature" in schema["components"]["securitySchemes"]
    assert Message.objects.count() == 0
