"""The routing engine behind the intake: answers what the knowledge base answers, escalates what
needs a caseworker, explains both on the ticket, and learns from agents' corrections."""

from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from contactcentre.intake.base import InboundMessage
from contactcentre.intake.services import intake_receive
from contactcentre.tickets.models import Ticket
from knowledge.models import ArticleUsage
from routing.models import RoutingCorrection
from tests.conftest import client_for, web_enquiry
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def demo_knowledge(db):
    call_command("import_knowledge", str(Path(settings.BASE_DIR) / "knowledge" / "demo"), verbosity=0)


def test_an_answerable_web_enquiry_gets_the_article(api, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        r = web_enquiry(api, subject="Attefallshus", message="Hej! Hur stort får ett attefallshus vara på min tomt?")
    assert r.status_code == 201 and r.json()["answered"] is True
    ticket = Ticket.objects.get(reference=r.json()["reference"])
    assert ticket.routing["action"] == "answer"
    assert ticket.routing["article"] == "attefallsatgarder"
    assert ticket.routing["explanation"]
    reply = ticket.messages.get(direction="outbound")
    assert reply.is_automatic and reply.meta["article"] == "attefallsatgarder"
    assert "attefall" in reply.body_text.lower()
    assert "**" not in reply.body_text and "](" not in reply.body_text  # text, not Markdown
    assert ticket.status == "resolved" and ticket.first_contact_resolution is True
    assert ArticleUsage.objects.get(article__slug="attefallsatgarder").auto_answered == 1


def test_a_case_number_goes_straight_to_the_department_escalated(api):
    r = web_enquiry(api, subject="Mitt ärende", message="Hej, hur går det med mitt bygglov, dnr BYGG 2026-0412? Jag väntar på beslut.")
    ticket = Ticket.objects.get(reference=r.json()["reference"])
    assert ticket.status == "escalated"
    assert ticket.department.code == "bygglov"
    assert ticket.routing["action"] == "escalate"
    assert "BYGG 2026-0412" in ticket.routing["explanation"] or "ärende" in ticket.routing["explanation"]
    assert ticket.messages.filter(direction="outbound").count() == 0


def test_a_complaint_is_flagged_and_never_auto_answered(api):
    r = web_enquiry(api, subject="Klagomål", message="Jag är mycket missnöjd. Ingen på bygglov har svarat på mina mejl på sex veckor, det är dålig service.")
    ticket = Ticket.objects.get(reference=r.json()["reference"])
    assert ticket.is_complaint is True
    assert ticket.messages.filter(direction="outbound").count() == 0


def test_phone_answers_are_suggestions_for_the_agent_never_sent():
    result = intake_receive(InboundMessage(channel="phone", sender_phone="070-174 06 21",
                                           body_text="Ringer och undrar hur stort ett attefallshus får vara."))
    ticket = result.ticket
    assert ticket.routing["action"] == "answer" and ticket.routing["article"] == "attefallsatgarder"
    assert ticket.messages.filter(direction="outbound").count() == 0
    assert ticket.status == "new"


def test_agents_corrections_and_used_articles_teach_the_router(api, django_capture_on_commit_callbacks):
    agent = UserFactory(username="anna", role="agent")
    client = client_for(agent)
    r = web_enquiry(api, subject="Fråga", message="Jag undrar över en sak med vår fastighet och vill prata med någon.")
    ref = r.json()["reference"]
    ticket = Ticket.objects.get(reference=ref)
    target = "miljotillsyn" if ticket.routing.get("department") != "miljotillsyn" else "avfall"
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(f"/api/v1/tickets/{ref}/escalate/", {"department": target}).status_code == 200
    correction = RoutingCorrection.objects.get(ticket_id=ticket.pk)
    assert correction.source == "reroute" and correction.department.code == target
    assert "fastighet" in correction.text

    r2 = web_enquiry(api, email="b@example.org", subject="Sopor", message="Kan jag få hjälp med en sak om soporna?")
    ref2 = r2.json()["reference"]
    with django_capture_on_commit_callbacks(execute=True):
        reply = client.post(f"/api/v1/tickets/{ref2}/reply/", {"body": "Här är svaret.", "article": "attefallsatgarder"})
    assert reply.status_code == 201
    assert ArticleUsage.objects.get(article__slug="attefallsatgarder").used_in_reply == 1
    assert RoutingCorrection.objects.filter(source="reply_article", article__slug="attefallsatgarder").exists()
    bad = client.post(f"/api/v1/tickets/{ref2}/reply/", {"body": "x", "article": "no-such-article"})
    assert bad.status_code == 400 and "article" in bad.json()


def test_routing_preview_creates_nothing(api):
    agent = UserFactory(username="anna", role="agent")
    r = client_for(agent).post("/api/v1/routing/preview/", {"text": "Hur stort får ett attefallshus vara?", "channel": "web"})
    assert r.status_code == 200
    assert r.json()["action"] == "answer" and r.json()["article"] == "attefallsatgarder"
    assert Ticket.objects.count() == 0
    assert api.post("/api/v1/routing/preview/", {"text": "x", "channel": "web"}).status_code in (401, 403)
