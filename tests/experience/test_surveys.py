"""Surveys after resolution: once per ticket, never to opt-outs, GET never writes, and an
answer given on the public page shows in the indicators (JSON and CSV alike)."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from contactcentre.experience.models import SurveyInvitation, SurveyOptOut, SurveyResponse
from contactcentre.experience.services import surveys_sweep
from contactcentre.tickets.models import Ticket
from tests.conftest import client_for, web_enquiry

pytestmark = pytest.mark.django_db
LATER = timedelta(hours=2)


def resolve(client, reference: str, captured) -> None:  # type: ignore[no-untyped-def]
    with captured(execute=True):
        assert client.post(f"/api/v1/tickets/{reference}/resolve/", {}, format="json").status_code == 200


def survey_link(message) -> str:  # type: ignore[no-untyped-def]
    return re.search(r"http://\S+/enkat/[^/\s]+/", message.body).group(0).removeprefix("http://127.0.0.1:8000")


def test_one_survey_per_ticket_answered_on_the_public_page_reaches_the_indicators(
        null_router, api, agent, supervisor, django_capture_on_commit_callbacks, client):
    web_enquiry(api)
    ticket = Ticket.objects.get()
    staff = client_for(agent)
    mail.outbox.clear()
    resolve(staff, ticket.reference, django_capture_on_commit_callbacks)
    invitation = SurveyInvitation.objects.get()
    assert invitation.status == "scheduled" and invitation.send_after > timezone.now()  # e-mail waits an hour

    with django_capture_on_commit_callbacks(execute=True):
        assert surveys_sweep(now=timezone.now() + LATER)["dispatched"] == 1
    assert len(mail.outbox) == 1
    sent = mail.outbox[0]
    assert sent.to == ["anna.andersson@example.org"]
    assert sent.extra_headers["Auto-Submitted"] == "auto-generated"
    assert sent.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "Hur upplevde du vårt bemötande?" in sent.body

    # Reopened and resolved again: still the one survey, never a second mail.
    with django_capture_on_commit_callbacks(execute=True):
        assert staff.post(f"/api/v1/tickets/{ticket.reference}/reopen/", {}, format="json").status_code == 200
    resolve(staff, ticket.reference, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        surveys_sweep(now=timezone.now() + LATER * 2)
    assert SurveyInvitation.objects.count() == 1 and len(mail.outbox) == 1
    invitation.refresh_from_db()
    assert invitation.status == "sent" and invitation.via == "email"

    # The one-click rating: GET only preselects (bots pre-fetch links), the POST records.
    link = survey_link(sent)
    page = client.get(link + "?a=4")
    assert page.status_code == 200 and page["Referrer-Policy"] == "same-origin"
    assert re.search(r'name="bemotande" value="4"\s+checked', page.content.decode())
    assert SurveyResponse.objects.count() == 0
    posted = client.post(link, {"bemotande": "4", "tydlighet": "5", "enkelhet": "3", "fick_svar": "yes",
                                "fritext": "Snabbt och vänligt svar om bygglov", "lang": "sv"})
    assert posted.status_code == 302
    assert "Tack för ditt svar" in client.get(posted["Location"]).content.decode()
    assert client.post(link, {"bemotande": "1"}).status_code == 200  # already answered: nothing changes
    assert SurveyResponse.objects.count() == 1

    report = client_for(supervisor).get("/api/v1/reports/indicators/?group_by=channel").json()
    total = report["total"]
    assert total["contacts"] == 1
    assert total["satisfaction"]["bemotande"] == {"n": 1, "mean": 4.0,
                                                  "distribution": {"1": 0, "2": 0, "3": 0, "4": 1, "5": 0}}
    assert total["effort"] == {"n": 1, "mean": 3.0}
    assert total["satisfaction"]["fick_svar"]["yes"] == 1
    assert total["kkik_treatment_good"] == {"numerator": 1, "denominator": 1, "share": 1.0}
    assert total["survey_response_rate"] == {"numerator": 1, "denominator": 1, "share": 1.0}
    assert report["groups"][0]["key"] == "web" and report["groups"][0]["survey_response_rate"]["share"] == 1.0


def test_no_survey_to_someone_who_opted_out(null_router, api, agent, django_capture_on_commit_callbacks, client):
    staff = client_for(agent)
    web_enquiry(api)
    first = Ticket.objects.get()
    resolve(staff, first.reference, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        surveys_sweep(now=timezone.now() + LATER)
    optout = re.search(r"http://\S+/avregistrera/", mail.outbox[-1].body).group(0).removeprefix("http://127.0.0.1:8000")

    assert client.get(optout).status_code == 200 and not SurveyOptOut.objects.exists()  # GET never writes
    assert "inga fler enkäter" in client.post(optout).content.decode()  # RFC 8058: a bare POST, no CSRF token
    assert SurveyOptOut.objects.filter(address="anna.andersson@example.org").exists()

    web_enquiry(api, subject="En ny fråga", message="Var lämnar jag grovsopor?")
    second = Ticket.objects.exclude(pk=first.pk).get()
    resolve(staff, second.reference, django_capture_on_commit_callbacks)
    sent_before = len(mail.outbox)
    with django_capture_on_commit_callbacks(execute=True):
        surveys_sweep(now=timezone.now() + LATER)
    skipped = SurveyInvitation.objects.get(ticket=second)
    assert skipped.status == "skipped" and skipped.skip_reason == "opted_out"
    assert len(mail.outbox) == sent_before


def test_a_broken_or_expired_link_shows_a_page_not_an_error(client, settings):
    assert client.get("/enkat/not-a-token/").status_code == 404


def test_csv_has_the_same_numbers_as_json_and_neutralises_formulas(null_router, api, agent, supervisor, departments):
    departments["bygglov"].name = "=HYPERLINK(\"http://evil\")"
    departments["bygglov"].save()
    for n in range(3):
        web_enquiry(api, subject=f"Fråga {n}", email=f"p{n}@example.org")
    Ticket.objects.filter(pk=Ticket.objects.order_by("id").first().pk).update(department=departments["bygglov"])
    sup = client_for(supervisor)
    data = sup.get("/api/v1/reports/indicators/?group_by=department").json()
    response = sup.get("/api/v1/reports/indicators/?group_by=department&format=csv")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [r["key"] for r in rows] == [g["key"] for g in data["groups"]] + ["total"]
    by_key = {r["key"]: r for r in rows}
    for group in data["groups"]:
        row = by_key[group["key"]]
        assert int(row["contacts"]) == group["contacts"]
        assert int(row["forwarding_rate.denominator"]) == group["forwarding_rate"]["denominator"]
    assert int(by_key["total"]["contacts"]) == data["total"]["contacts"] == 3
    assert by_key["bygglov"]["label"].startswith("'=")  # a spreadsheet shows it, never runs it
    accept = sup.get("/api/v1/reports/indicators/?group_by=department", HTTP_ACCEPT="text/csv")
    assert accept["Content-Type"].startswith("text/csv") and accept.content == response.content
    assert sup.get("/api/v1/reports/indicators/?group_by=planet").status_code == 400
    assert client_for(agent).get("/api/v1/reports/indicators/").status_code == 403


def test_a_resident_still_in_the_chat_gets_the_survey_there(agent, django_capture_on_commit_callbacks):
    import asyncio

    from asgiref.sync import async_to_sync, sync_to_async
    from channels.layers import get_channel_layer

    from contactcentre.intake.chat.models import ChatSession
    from contactcentre.intake.chat.services import chat_group
    from tests.factories import TicketFactory

    ticket = TicketFactory(channel="chat", status="open", language="en")
    session = ChatSession.objects.create(token_hash="x" * 64, ticket=ticket, state="with_agent", language="en")
    layer = get_channel_layer()
    client = client_for(agent)

    async def scenario() -> dict:
        # One event loop for the whole exchange: the Redis pub/sub layer binds channels to it.
        channel = await layer.new_channel()
        await layer.group_add(chat_group(session.pk), channel)
        await sync_to_async(resolve)(client, ticket.reference, django_capture_on_commit_callbacks)
        return await asyncio.wait_for(layer.receive(channel), 5)

    frame = async_to_sync(scenario)()["event"]
    invitation = SurveyInvitation.objects.get(ticket=ticket)
    assert invitation.via == "chat" and invitation.status == "sent" and not mail.outbox
    assert frame["type"] == "survey" and "/enkat/" in frame["url"] and frame["scale"][3].endswith("?a=4")
    assert frame["text"].startswith("Thank you")
