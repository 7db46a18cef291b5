"""Twilio voice status callbacks, signed with Twilio's own RequestValidator."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from rest_framework.test import APIClient
from twilio.request_validator import RequestValidator

from contactcentre.intake.phone.models import CallSession
from contactcentre.tickets.models import Ticket
from tests.phone.helpers import stored_counts

pytestmark = pytest.mark.django_db
TOKEN = "twilio-test-auth-token-0123456789"
PATH = "/api/v1/intake/phone/twilio/"


@pytest.fixture(autouse=True)
def _twilio(settings) -> None:
    settings.TWILIO_AUTH_TOKEN = TOKEN
    settings.TWILIO_WEBHOOK_BASE_URL = ""


def callback(client: APIClient, params: dict[str, str], *, query: str = "", token: str = TOKEN,
             url: str | None = None, tamper: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    """POST form-encoded as Twilio does, signed over the URL Twilio called (``url``, default ours)."""
    path = PATH + (f"?{query}" if query else "")
    signature = RequestValidator(token).compute_signature(url or f"http://testserver{path}", params)
    return client.generic("POST", path, data=urlencode(params | (tamper or {})),
                          content_type="application/x-www-form-urlencoded", HTTP_X_TWILIO_SIGNATURE=signature)


def status(sid: str, call_status: str, **extra: str) -> dict[str, str]:
    return {"AccountSid": "AC" + "0" * 32, "CallSid": sid, "CallStatus": call_status, "Direction": "inbound",
            "From": "+46701740601", "To": "+46846500000", "ApiVersion": "2010-04-01", **extra}


def test_a_twilio_call_rings_is_answered_and_ends(agent):
    client = APIClient()
    r = callback(client, status("CA1", "ringing"), query="agent=anna")
    assert r.status_code == 200, r.content
    call = CallSession.objects.get()
    assert (call.call_id, call.provider, call.state, call.caller_e164, call.agent) == ("twilio:CA1", "twilio", "ringing", "+46701740601", agent)
    assert callback(client, status("CA1", "in-progress")).json()["state"] == "answered"
    r = callback(client, status("CA1", "completed", CallDuration="42"))
    assert r.json()["state"] == "ended" and r.json()["ticket"] is None
    call.refresh_from_db()
    assert call.duration_seconds == 42 and call.events.count() == 3


def test_a_twilio_no_answer_opens_a_callback_ticket():
    r = callback(APIClient(), status("CA2", "no-answer"))
    assert r.status_code == 200
    ticket = Ticket.objects.get(reference=r.json()["ticket"])
    assert ticket.category == "callback" and ticket.first_response_due_at is not None


def test_a_twilio_recording_is_a_voicemail_on_the_callback_ticket():
    client = APIClient()
    first = callback(client, status("CA3", "no-answer")).json()["ticket"]
    r = callback(client, status("CA3", "completed", RecordingUrl="https://api.twilio.com/rec/RE1",
                                TranscriptionText="Ring mig om snöröjningen.", TranscriptionStatus="completed"))
    assert r.status_code == 200 and r.json()["ticket"] == first
    assert Ticket.objects.get(reference=first).messages.filter(body_text__contains="snöröjningen").exists()


def test_outbound_legs_and_queued_calls_are_ignored():
    client = APIClient()
    assert callback(client, status("CA4", "no-answer", Direction="outbound-api")).json()["ignored"] is True
    assert callback(client, status("CA5", "queued")).json()["ignored"] is True
    assert CallSession.objects.count() == 0


@pytest.mark.parametrize("case", ["tampered", "wrong_token", "wrong_url", "unsigned", "not_configured"])
def test_unverified_twilio_callbacks_are_refused_and_store_nothing(case, settings):
    client = APIClient()
    params = status("CA6", "no-answer")
    kwargs: dict = {}
    if case == "tampered":
        kwargs["tamper"] = {"From": "+46700000000"}
    elif case == "wrong_token":
        kwargs["token"] = "someone-elses-token"
    elif case == "wrong_url":
        kwargs["url"] = "https://evil.example.com" + PATH
    elif case == "not_configured":
        settings.TWILIO_AUTH_TOKEN = ""
    if case == "unsigned":
        r = client.generic("POST", PATH, data=urlencode(params), content_type="application/x-www-form-urlencoded")
    else:
        r = callback(client, params, **kwargs)
    assert r.status_code == 401, r.content
    assert stored_counts() == {k: 0 for k in stored_counts()}


def test_the_public_url_is_what_is_verified_behind_a_proxy(settings):
    settings.TWILIO_WEBHOOK_BASE_URL = "https://kontakt.solna.example.org"
    r = callback(APIClient(), status("CA7", "ringing"), url="https://kontakt.solna.example.org" + PATH)
    assert r.status_code == 200


def test_a_replayed_twilio_callback_is_409():
    client = APIClient()
    assert callback(client, status("CA8", "busy")).status_code == 200
    before = stored_counts()
    assert callback(client, status("CA8", "busy")).status_code == 409
    assert stored_counts() == before
