"""A resident reaches their own ticket through the signed link in the receipt."""

import pytest
from django.core import signing

from contactcentre.tickets.links import ticket_status_token
from contactcentre.tickets.models import Ticket
from tests.conftest import web_enquiry

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("null_router")]


def test_status_page_shows_the_conversation_and_takes_a_reply(api, agent_api, client):
    receipt = web_enquiry(api).json()
    ticket = Ticket.objects.get(reference=receipt["reference"])
    agent_api.post(f"/api/v1/tickets/{ticket.reference}/note/", {"body": "INTERN: ring tillbaka"})
    agent_api.post(f"/api/v1/tickets/{ticket.reference}/reply/", {"body": "Hej! Staket under 1,1 m är bygglovsfritt.",
                                                                  "status_after": "waiting"})
    path = receipt["status_url"].split("8000", 1)[1]
    page = client.get(path)
    assert page.status_code == 200
    html = page.content.decode()
    assert ticket.reference in html and "bygglovsfritt" in html
    assert "INTERN" not in html  # internal notes never reach the resident

    r = client.post(path, {"message": "Tack! Och om det är 1,3 m?"})
    assert r.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == "open"  # the resident answered: back with the contact centre
    assert ticket.messages.filter(direction="inbound").count() == 2


def test_a_tampered_or_foreign_token_is_404(api, client):
    receipt = web_enquiry(api).json()
    ticket = Ticket.objects.get(reference=receipt["reference"])
    token = ticket_status_token(ticket)
    assert client.get(f"/arende/{token[:-2]}xx/").status_code == 404
    forged = signing.dumps({"t": ticket.pk, "r": ticket.reference}, salt="another-salt")
    assert client.get(f"/arende/{forged}/").status_code == 404
