import re

import pytest

from contactcentre.tickets.models import Contact, LiveEvent, Message, Ticket, TicketEvent
from tests.conftest import web_enquiry

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("null_router")]


def test_web_enquiry_becomes_a_ticket_with_a_reference(api, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = web_enquiry(api)
    assert response.status_code == 201, response.content
    body = response.json()
    assert re.fullmatch(r"SOL-\d{4}-\d{6}", body["reference"])
    assert "/arende/" in body["status_url"]
    ticket = Ticket.objects.get(reference=body["reference"])
    assert ticket.channel == "web"
    assert ticket.status == "new"
    assert ticket.subject == "Fråga om bygglov"
    assert ticket.contact.name == "Anna Andersson"
    assert list(ticket.contact.emails.values_list("address", flat=True)) == ["anna.andersson@example.org"]
    message = ticket.messages.get()
    assert message.direction == "inbound" and "staket" in message.body_text
    assert TicketEvent.objects.filter(ticket=ticket, kind="created").exists()
    # The event is durable at once but only broadcast after commit.
    assert LiveEvent.objects.filter(type="ticket.created", ticket_reference=ticket.reference).exists()
    assert len(callbacks) >= 1


def test_references_are_sequential_per_year(api):
    refs = [web_enquiry(api, email=f"p{i}@example.org").json()["reference"] for i in range(3)]
    numbers = [int(r.rsplit("-", 1)[1]) for r in refs]
    assert numbers == [numbers[0], numbers[0] + 1, numbers[0] + 2]


def test_reference_prefix_is_configurable(api, settings):
    settings.TICKET_REFERENCE_PREFIX = "SUN"
    assert web_enquiry(api).json()["reference"].startswith("SUN-")


def test_same_sender_is_one_contact(api):
    web_enquiry(api, email="Same.Person@Example.org")
    web_enquiry(api, email="same.person@example.org", subject="Another question")
    assert Contact.objects.count() == 1
    assert Ticket.objects.count() == 2


def test_phone_only_enquiry_normalises_the_number(api):
    response = web_enquiry(api, email="", phone="070-174 06 01")
    assert response.status_code == 201
    ticket = Ticket.objects.get(reference=response.json()["reference"])
    assert list(ticket.contact.phones.values_list("number", flat=True)) == ["+46701740601"]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"message": ""}, "message"),
        ({"email": "not-an-email"}, "email"),
        ({"email": "", "phone": ""}, "email"),
        ({"email": "", "phone": "12"}, "phone"),
        ({"language": "de"}, "language"),
        ({"organisation_number": "556036-0794"}, "organisation_number"),
        ({"subject": "x" * 301}, "subject"),
    ],
)
def test_bad_input_is_a_400_with_field_messages_and_nothing_saved(api, overrides, field):
    response = web_enquiry(api, **overrides)
    assert response.status_code == 400
    assert field in response.json()
    assert response.json()[field]  # a message a person can read
    assert Ticket.objects.count() == 0
    assert Contact.objects.count() == 0
    assert Message.objects.count() == 0


def test_idempotency_key_stores_a_retried_submission_once(api):
    first = api.post("/api/v1/intake/web/", {"email": "a@example.org", "message": "Hej"}, format="json",
                     HTTP_IDEMPOTENCY_KEY="form-1234567890")
    again = api.post("/api/v1/intake/web/", {"email": "a@example.org", "message": "Hej"}, format="json",
                     HTTP_IDEMPOTENCY_KEY="form-1234567890")
    assert first.status_code == 201
    assert again.status_code == 200
    assert again.json()["reference"] == first.json()["reference"]
    assert again.json()["duplicate"] is True
    assert Ticket.objects.count() == 1
    assert Message.objects.count() == 1


def test_a_resident_cannot_set_status_assignee_or_department(api, agent, departments):
    response = web_enquiry(api, status="resolved", assignee=agent.pk, department="bygglov", reference="SOL-1")
    assert response.status_code == 201
    ticket = Ticket.objects.get(reference=response.json()["reference"])
    assert ticket.status == "new" and ticket.assignee is None and ticket.department is None


def test_intake_is_throttled_per_client(api, settings):
    from rest_framework.throttling import ScopedRateThrottle

    original = ScopedRateThrottle.THROTTLE_RATES
    ScopedRateThrottle.THROTTLE_RATES = {**original, "intake": "3/min"}
    try:
        codes = [web_enquiry(api, email=f"t{i}@example.org").status_code for i in range(4)]
    finally:
        ScopedRateThrottle.THROTTLE_RATES = original
    assert codes == [201, 201, 201, 429]
