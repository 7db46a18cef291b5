"""Departments' systems answer residents through the API."""

from __future__ import annotations

import pytest
from django.core import mail
from rest_framework.test import APIClient

from contactcentre.departments.services import department_api_key_create
from contactcentre.tickets.models import Message
from tests.conftest import client_for

from .conftest import make_escalated

pytestmark = pytest.mark.django_db
URL = "/api/v1/department/tickets/{}/answer/"


@pytest.fixture
def key(departments):  # type: ignore[no-untyped-def]
    _, raw = department_api_key_create(department=departments["bygglov"], name="Bygglovssystemet")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Department-Key {raw}")
    return client


def outbound_count() -> int:
    return Message.objects.filter(direction="outbound").count()


def test_an_answer_reaches_the_resident_through_the_tickets_channel(agent, key, django_capture_on_commit_callbacks):
    ticket = make_escalated(agent=agent, code="bygglov", channel="email", email="rut@example.org")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = key.post(URL.format(ticket.reference.lower()),
                            {"body": "Ni behöver inte söka bygglov.", "status_after": "resolved"})
    assert response.status_code == 201, response.content
    assert response.json()["status"] == "resolved"
    message = Message.objects.get(pk=response.json()["message_id"])
    assert message.direction == "outbound" and message.channel == "email"
    assert message.author.username == "system-bygglov"
    assert message.meta["via"] == "department_api"
    sent = [m for m in mail.outbox if m.to and "rut@example.org" in m.to[0]]
    assert len(sent) == 1 and "Ni behöver inte söka bygglov." in sent[0].body


def test_the_same_answer_id_twice_writes_one_answer(agent, key):
    ticket = make_escalated(agent=agent, code="bygglov")
    first = key.post(URL.format(ticket.reference), {"body": "Svar", "answer_id": "case-42/1"})
    again = key.post(URL.format(ticket.reference), {"body": "Svar", "answer_id": "case-42/1"})
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["message_id"] == again.json()["message_id"]
    assert outbound_count() == 1


def test_another_departments_ticket_is_not_found_and_untouched(agent, key):
    ticket = make_escalated(agent=agent, code="miljotillsyn")
    response = key.post(URL.format(ticket.reference), {"body": "Svar"})
    assert response.status_code == 404
    assert outbound_count() == 0


def test_a_ticket_not_escalated_is_not_found(agent, key):
    from tests.factories import TicketFactory

    ticket = TicketFactory(status="open")
    assert key.post(URL.format(ticket.reference), {"body": "Svar"}).status_code == 404


@pytest.mark.parametrize("payload", [{}, {"body": ""}, {"body": "   "}, {"body": "ok", "status_after": "closed"},
                                     {"body": "x" * 20_001}])
def test_bad_input_writes_nothing(agent, key, payload):
    ticket = make_escalated(agent=agent, code="bygglov")
    response = key.post(URL.format(ticket.reference), payload, format="json")
    assert response.status_code == 400
    assert outbound_count() == 0
    ticket.refresh_from_db()
    assert ticket.status == "escalated"


def test_authentication_is_required(agent, departments, caseworker):
    ticket = make_escalated(agent=agent, code="bygglov")
    anonymous = APIClient()
    assert anonymous.post(URL.format(ticket.reference), {"body": "Svar"}).status_code == 401
    wrong = APIClient()
    wrong.credentials(HTTP_AUTHORIZATION="Department-Key dk_000000000000_nope")
    assert wrong.post(URL.format(ticket.reference), {"body": "Svar"}).status_code == 401
    # A member of staff's token is not a department key: this endpoint is for systems.
    assert client_for(caseworker).post(URL.format(ticket.reference), {"body": "Svar"}).status_code in (401, 403)
    assert outbound_count() == 0


def test_a_disabled_key_is_refused(agent, departments):
    key_row, raw = department_api_key_create(department=departments["bygglov"], name="Gammalt system")
    key_row.active = False
    key_row.save()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Department-Key {raw}")
    ticket = make_escalated(agent=agent, code="bygglov")
    assert client.post(URL.format(ticket.reference), {"body": "Svar"}).status_code == 401
