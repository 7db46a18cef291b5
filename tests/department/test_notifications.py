"""Escalation notices: an e-mail to each caseworker, signed webhooks with retries, no SSRF."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from contactcentre.departments.models import DepartmentWebhook, WebhookDelivery
from contactcentre.departments.netguard import UnsafeDestination, destination_check
from contactcentre.departments.services import webhook_deliveries_due, webhook_delivery_attempt
from contactcentre.departments.signing import webhook_signature_valid
from contactcentre.intake.ports import RoutingOutcome, RoutingRequest
from tests.factories import UserFactory

from .conftest import make_escalated

pytestmark = pytest.mark.django_db


def test_each_caseworker_of_the_department_gets_a_mail_with_the_link(agent, caseworker, miljo_caseworker,
                                                                      django_capture_on_commit_callbacks):
    UserFactory(username="olle", role="caseworker", department=caseworker.department, email="olle@solna.example.org")
    with django_capture_on_commit_callbacks(execute=True):
        ticket = make_escalated(agent=agent, code="bygglov", text="Mitt personnummer är hemligt")
    assert sorted(m.to[0] for m in mail.outbox) == ["cecilia@solna.example.org", "olle@solna.example.org"]
    message = mail.outbox[0]
    assert ticket.reference in message.subject
    assert f"http://127.0.0.1:8000/department/t/{ticket.reference}/" in message.body
    # The resident's words stay behind the login.
    assert "personnummer" not in message.body
    assert message.extra_headers["Auto-Submitted"] == "auto-generated"


def test_no_mail_when_the_escalation_rolls_back(agent, caseworker, django_capture_on_commit_callbacks):
    from django.db import transaction

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        try:
            with transaction.atomic():
                make_escalated(agent=agent, code="bygglov")
                raise RuntimeError("rollback")
        except RuntimeError:
            pass
    assert mail.outbox == []
    assert callbacks == []


def escalating_router(request: RoutingRequest) -> RoutingOutcome:
    return RoutingOutcome(action="escalate", department="bygglov", confidence=0.99, explanation="test")


def test_a_ticket_created_escalated_at_intake_notifies_too(api, caseworker, settings,
                                                          django_capture_on_commit_callbacks):
    from tests.conftest import web_enquiry

    settings.CONTACTCENTRE_ROUTER = "tests.department.test_notifications.escalating_router"
    with django_capture_on_commit_callbacks(execute=True):
        response = web_enquiry(api)
    assert response.status_code == 201, response.content
    to_caseworker = [m for m in mail.outbox if m.to == ["cecilia@solna.example.org"]]
    assert len(to_caseworker) == 1
    assert "/department/t/SOL-" in to_caseworker[0].body


# --- webhooks ------------------------------------------------------------------------------

@pytest.fixture
def hook(departments, receiver, settings):  # type: ignore[no-untyped-def]
    settings.DEPARTMENT_WEBHOOK_ALLOW_LOOPBACK_FOR_TESTS = True
    return DepartmentWebhook.objects.create(department=departments["bygglov"], url=receiver.url,
                                            secret="s3cret-shared-with-bygglov")


def test_the_webhook_is_signed_and_carries_the_ticket(agent, hook, receiver, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        ticket = make_escalated(agent=agent, code="bygglov")
    assert len(receiver.requests) == 1
    request = receiver.requests[0]
    headers = request["headers"]
    assert request["path"] == "/hooks/cc"
    assert webhook_signature_valid(secret=hook.secret, timestamp=headers["X-CC-Timestamp"], body=request["body"],
                                   signature=headers["X-CC-Signature"], now=time.time())
    assert not webhook_signature_valid(secret="wrong", timestamp=headers["X-CC-Timestamp"], body=request["body"],
                                       signature=headers["X-CC-Signature"], now=time.time())
    payload = json.loads(request["body"])
    delivery = WebhookDelivery.objects.get()
    assert payload["id"] == headers["X-CC-Delivery"] == str(delivery.pk)
    assert headers["X-CC-Event"] == payload["event"] == "ticket.escalated"
    assert payload["ticket"]["reference"] == ticket.reference
    assert payload["ticket"]["messages"][0]["body_text"] == "Får jag bygga en altan?"
    assert payload["links"]["answer"].endswith(f"/api/v1/department/tickets/{ticket.reference}/answer/")
    assert delivery.status == "delivered" and delivery.attempts == 1


def test_a_failed_delivery_is_retried_with_backoff_then_delivered_once(agent, hook, receiver, settings,
                                                                      django_capture_on_commit_callbacks):
    settings.DEPARTMENT_WEBHOOK_BACKOFF_S = 30
    receiver.replies = [(500, {})]
    before = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        make_escalated(agent=agent, code="bygglov")
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("pending", 1, 500)
    wait = delivery.next_attempt_at - before
    assert timedelta(seconds=23) <= wait <= timedelta(seconds=31)

    # Not due yet: the sweeper leaves it alone.
    assert webhook_deliveries_due(now=before + timedelta(seconds=5)) == []
    later = delivery.next_attempt_at + timedelta(seconds=1)
    assert webhook_deliveries_due(now=later) == [str(delivery.pk)]
    assert webhook_delivery_attempt(delivery_id=str(delivery.pk), now=later).outcome == "delivered"
    # Done is done: another sweep or a redelivered task sends nothing.
    assert webhook_deliveries_due(now=later + timedelta(hours=2)) == []
    assert webhook_delivery_attempt(delivery_id=str(delivery.pk), now=later + timedelta(hours=2)).outcome == "skipped"
    assert len(receiver.requests) == 2
    ids = {r["headers"]["X-CC-Delivery"] for r in receiver.requests}
    assert ids == {str(delivery.pk)}  # the same idempotency key on the retry
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("delivered", 2)


def test_the_backoff_doubles_and_the_delivery_fails_visibly_at_the_end(agent, hook, receiver, settings,
                                                                      django_capture_on_commit_callbacks):
    settings.DEPARTMENT_WEBHOOK_MAX_ATTEMPTS = 3
    receiver.replies = [(503, {})] * 3
    with django_capture_on_commit_callbacks(execute=True):
        make_escalated(agent=agent, code="bygglov")
    delivery = WebhookDelivery.objects.get()
    first_wait = delivery.next_attempt_at - timezone.now()
    now = delivery.next_attempt_at
    assert webhook_delivery_attempt(delivery_id=str(delivery.pk), now=now).outcome == "retry"
    delivery.refresh_from_db()
    assert delivery.next_attempt_at - now > first_wait * 1.5  # doubled (with jitter)
    assert webhook_delivery_attempt(delivery_id=str(delivery.pk), now=delivery.next_attempt_at).outcome == "failed"
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("failed", 3, "HTTP 503")


def test_redirects_are_not_followed(agent, hook, receiver, django_capture_on_commit_callbacks):
    receiver.replies = [(302, {"Location": receiver.url + "/elsewhere"})]
    with django_capture_on_commit_callbacks(execute=True):
        make_escalated(agent=agent, code="bygglov")
    assert [r["path"] for r in receiver.requests] == ["/hooks/cc"]
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.last_status_code) == ("pending", 302)


def test_internal_addresses_are_refused_without_the_test_allowance(agent, hook, receiver, settings,
                                                                  django_capture_on_commit_callbacks):
    settings.DEPARTMENT_WEBHOOK_ALLOW_LOOPBACK_FOR_TESTS = False
    with django_capture_on_commit_callbacks(execute=True):
        make_escalated(agent=agent, code="bygglov")
    assert receiver.requests == []  # no request was made at all
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "failed"  # permanent: retrying cannot make it public
    assert "non-public address" in delivery.last_error


@pytest.mark.parametrize("address", [
    "127.0.0.1", "10.1.2.3", "172.16.0.5", "192.168.1.10", "169.254.169.254", "100.64.0.1", "0.0.0.0",
    "224.0.0.1", "240.0.0.1", "::1", "fe80::1", "fc00::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1",
])
def test_destination_check_refuses_non_public_addresses(address):
    with pytest.raises(UnsafeDestination):
        destination_check("https://cases.example.org/hook", resolver=lambda host, port: [address])


def test_one_private_answer_among_public_ones_is_enough_to_refuse():
    with pytest.raises(UnsafeDestination):
        destination_check("https://cases.example.org/h", resolver=lambda h, p: ["93.184.216.34", "10.0.0.7"])


def test_the_allowance_admits_loopback_only():
    dest = destination_check("http://127.0.0.1:8080/h?x=1", allow_loopback=True, resolver=lambda h, p: ["127.0.0.1"])
    assert (dest.address, dest.port, dest.path) == ("127.0.0.1", 8080, "/h?x=1")
    with pytest.raises(UnsafeDestination):
        destination_check("http://intranet/h", allow_loopback=True, resolver=lambda h, p: ["192.168.0.2"])


@pytest.mark.parametrize("url", ["ftp://cases.example.org/x", "file:///etc/passwd", "https://user:pw@cases.example.org/"])
def test_destination_check_refuses_odd_urls(url):
    with pytest.raises(UnsafeDestination):
        destination_check(url, resolver=lambda h, p: ["93.184.216.34"])


def test_public_addresses_pass_and_are_pinned():
    dest = destination_check("https://cases.example.org/hook", resolver=lambda h, p: ["93.184.216.34"])
    assert (dest.scheme, dest.host, dest.address, dest.port) == ("https", "cases.example.org", "93.184.216.34", 443)
