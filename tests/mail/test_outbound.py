"""Agents' replies leave as threaded e-mail, received by a real local SMTP sink."""

from __future__ import annotations

import pytest

from contactcentre.intake.mail.models import AutoReply
from contactcentre.intake.mail.services import receipt_send_on_commit
from contactcentre.intake.mail.tasks import email_send_task
from contactcentre.tickets.models import Message, Ticket, TicketEvent
from contactcentre.tickets.services import ticket_reply
from tests.conftest import client_for, web_enquiry
from tests.factories import ContactFactory, TicketFactory
from tests.procs import free_port

from .conftest import CITY, mail, send

pytestmark = pytest.mark.django_db(transaction=True)


def test_agent_reply_through_the_api_is_a_threaded_email(smtp_intake, mail_sink, agent, settings):
    settings.DEFAULT_FROM_EMAIL = "Solna stad <noreply@solna.example.org>"
    send(smtp_intake, mail(message_id="<q1@mail.example.org>"))
    ticket = Ticket.objects.get()
    send(smtp_intake, mail(subject="Re: Fråga om bygglov", message_id="<q2@mail.example.org>",
                           In_Reply_To="<q1@mail.example.org>", References="<q1@mail.example.org>"))
    mail_sink.wait_for(1)  # the receipt
    mail_sink.messages.clear()

    response = client_for(agent).post(f"/api/v1/tickets/{ticket.reference}/reply/",
                                      {"body": "Hej Anna! Staket under 1,1 m kräver inget bygglov.", "status_after": "waiting"},
                                      format="json")
    assert response.status_code == 201, response.content

    [sent] = mail_sink.wait_for(1)
    reply = Message.objects.get(direction="outbound")
    assert reply.delivery_status == "sent" and reply.delivery_error == ""
    assert sent["Message-ID"] == reply.external_id
    assert sent["In-Reply-To"] == "<q2@mail.example.org>"
    assert sent["References"].split() == ["<q1@mail.example.org>", "<q2@mail.example.org>"]
    assert sent["Subject"] == f"Re: Fråga om bygglov [{ticket.reference}]"
    assert sent["Reply-To"] == CITY
    assert sent["To"].addresses[0].addr_spec == "anna@example.org"
    assert sent["From"].addresses[0].addr_spec == "noreply@solna.example.org"
    assert sent["Auto-Submitted"] is None  # a person wrote this one
    assert "Staket under 1,1 m" in sent.get_content() and ticket.reference in sent.get_content()
    assert mail_sink.envelopes[-1][1] == ["anna@example.org"]

    # The resident answers our reply: it threads by our Message-ID.
    send(smtp_intake, mail(subject="Tack", message_id="<q3@mail.example.org>", In_Reply_To=reply.external_id))
    assert Ticket.objects.count() == 1
    assert Ticket.objects.get().status == "open"


def test_a_retried_job_sends_once_with_the_same_message_id(mail_sink, agent):
    ticket = _email_ticket()
    reply = ticket_reply(ticket_id=ticket.pk, actor=agent, body="Svar")
    assert len(mail_sink.wait_for(1)) == 1
    reply.refresh_from_db()
    first_id = reply.external_id

    assert email_send_task.apply(args=[reply.pk]).get() == "skipped"
    reply.refresh_from_db()
    assert reply.external_id == first_id and len(mail_sink.messages) == 1


def test_message_id_is_fixed_before_the_first_attempt_and_reused(mail_sink, agent, settings):
    sink_port = settings.EMAIL_PORT
    settings.EMAIL_PORT = free_port()  # nothing listens: the first attempts fail
    ticket = _email_ticket()
    reply = ticket_reply(ticket_id=ticket.pk, actor=agent, body="Svar")
    reply.refresh_from_db()
    assert reply.delivery_status == "failed"
    failed_id = reply.external_id
    assert failed_id.startswith("<")

    # An operator (or a later retry) re-queues it: the very same id goes out.
    Message.objects.filter(pk=reply.pk).update(delivery_status="pending")
    settings.EMAIL_PORT = sink_port
    assert email_send_task.apply(args=[reply.pk]).get() == "sent"
    [sent] = mail_sink.wait_for(1)
    assert sent["Message-ID"] == failed_id


def test_final_failure_is_visible_on_the_ticket(mail_sink, agent, settings):
    settings.EMAIL_PORT = free_port()
    ticket = _email_ticket()
    reply = ticket_reply(ticket_id=ticket.pk, actor=agent, body="Svar")
    reply.refresh_from_db()
    assert reply.delivery_status == "failed"
    assert "ConnectionRefusedError" in reply.delivery_error
    assert reply.meta["email_out"]["attempts"] == settings.EMAIL_SEND_MAX_RETRIES + 1
    assert TicketEvent.objects.filter(ticket=ticket, kind="delivery_failed", to_value=str(reply.pk)).count() == 1
    detail = client_for(agent).get(f"/api/v1/tickets/{ticket.reference}/messages/").json()
    assert "failed" in str(detail)


def test_no_address_fails_at_once(mail_sink, agent):
    ticket = TicketFactory(channel="email", contact=ContactFactory())
    reply = ticket_reply(ticket_id=ticket.pk, actor=agent, body="Svar")
    reply.refresh_from_db()
    assert reply.delivery_status == "failed" and "e-postadress" in reply.delivery_error
    assert reply.meta["email_out"]["attempts"] == 1


def test_header_injection_in_names_and_subjects_adds_nothing(mail_sink, agent):
    ticket = _email_ticket(name="Eve\r\nBcc: victim@example.net", subject="Hej\r\nBcc: victim@example.net\r\nX-Evil: 1")
    ticket_reply(ticket_id=ticket.pk, actor=agent, body="Svar")
    [sent] = mail_sink.wait_for(1)
    assert mail_sink.envelopes[0][1] == ["anna@example.org"]
    assert sent["Bcc"] is None and sent["X-Evil"] is None
    assert "\n" not in sent["Subject"] and sent["Subject"].endswith(f"[{ticket.reference}]")
    assert [a.addr_spec for a in sent["To"].addresses] == ["anna@example.org"]


def test_web_form_ticket_gets_an_emailed_receipt(api, mail_sink):
    # The web intake sends the receipt itself; asking again sends no second one.
    response = web_enquiry(api, language="en", email="resident@example.org")
    ticket = Ticket.objects.get(reference=response.json()["reference"])
    [receipt] = mail_sink.wait_for(1)
    assert receipt_send_on_commit(ticket) is False
    assert receipt["To"] == "resident@example.org"
    assert receipt["Auto-Submitted"] == "auto-replied"
    assert "We have received your message" in receipt.get_content()
    assert ticket.reference in receipt["Subject"] and "/arende/" in receipt.get_content()
    assert AutoReply.objects.get().status == "sent"


def test_web_receipt_goes_to_the_address_typed_in_the_form(api, mail_sink):
    # A known contact with two addresses: the receipt goes where the resident said, not to the
    # contact's oldest address.
    contact = ContactFactory(name="Anna Andersson")
    contact.emails.create(address="old@example.org")
    contact.emails.create(address="new@example.org")
    response = web_enquiry(api, email="New@Example.org")
    assert Ticket.objects.get(reference=response.json()["reference"]).contact_id == contact.pk
    [receipt] = mail_sink.wait_for(1)
    assert receipt["To"] == "new@example.org"
    assert mail_sink.wait_for(2, timeout=0.3) == [receipt]


def test_web_knowledge_base_answer_is_on_the_status_page_and_the_receipt_links_it(api, mail_sink, router):
    # A web ticket is answered on its own channel (the signed status page); the e-mailed receipt
    # is what brings the resident there, so it goes out once, as for any web ticket.
    from contactcentre.intake.ports import RoutingOutcome

    router.outcome = RoutingOutcome(action="answer", article="bygglov-staket", confidence=0.99,
                                    answer_title="Staket", answer_text="Staket under 1,1 m kräver inte bygglov.")
    response = web_enquiry(api, email="resident@example.org")
    assert response.json()["answered"] is True
    ticket = Ticket.objects.get(reference=response.json()["reference"])
    answer = ticket.messages.get(direction="outbound")
    assert answer.channel == "web" and answer.is_automatic and "kräver inte bygglov" in answer.body_text
    [receipt] = mail_sink.wait_for(1)
    assert "/arende/" in receipt.get_content()
    assert mail_sink.wait_for(2, timeout=0.5) == [receipt]
    assert AutoReply.objects.get().kind == "receipt"


def test_no_receipt_for_a_web_ticket_without_email(api, mail_sink):
    response = web_enquiry(api, email="", phone="070-174 06 01")
    ticket = Ticket.objects.get(reference=response.json()["reference"])
    assert receipt_send_on_commit(ticket) is False
    assert mail_sink.wait_for(1, timeout=0.3) == []


def _email_ticket(*, name: str = "Anna Andersson", subject: str = "Fråga") -> Ticket:
    from tests.factories import contact_with_email

    contact = contact_with_email("anna@example.org", name=name)
    return TicketFactory(channel="email", contact=contact, subject=subject)


def test_a_receipt_whose_publish_failed_is_sent_by_the_sweep(api, mail_sink, monkeypatch):
    """Redis away at intake: the resident still gets 201, the receipt waits as a pending row,
    and the periodic sweep sends it once the queue is back."""
    from datetime import timedelta

    import time_machine
    from django.utils import timezone

    from contactcentre.intake.mail import tasks

    def broker_down(*args, **kwargs):
        raise ConnectionError("broker unreachable")

    monkeypatch.setattr(tasks.receipt_send_task, "apply_async", broker_down)
    response = web_enquiry(api, email="resident@example.org")
    assert response.status_code == 201
    assert AutoReply.objects.get().status == "pending"
    assert mail_sink.wait_for(1, timeout=0.3) == []

    monkeypatch.undo()
    with time_machine.travel(timezone.now() + timedelta(minutes=3)):
        assert tasks.sweep_task.apply().get() == {"receipts": 1, "replies": 0, "gave_up": 0}
    [receipt] = mail_sink.wait_for(1)
    assert receipt["To"] == "resident@example.org"
    assert AutoReply.objects.get().status == "sent"


def test_final_failure_raises_the_alert(mail_sink, agent, settings, caplog):
    from contactcentre.intake.mail.outbound import OUTBOUND_FAILED

    before = OUTBOUND_FAILED.labels(kind="reply")._value.get()
    settings.EMAIL_PORT = free_port()
    reply = ticket_reply(ticket_id=_email_ticket().pk, actor=agent, body="Svar")
    reply.refresh_from_db()
    assert reply.delivery_status == "failed"
    assert OUTBOUND_FAILED.labels(kind="reply")._value.get() == before + 1
    assert any(r.levelname == "ERROR" and "failed for good" in r.getMessage() for r in caplog.records)


def test_the_sweep_gives_up_on_rows_that_used_their_attempts_and_skips_live_leases(mail_sink, agent, settings):
    """A row whose worker died on it again and again is failed, not queued for ever; a row with
    a live lease (an attempt running elsewhere) is left alone."""
    from datetime import timedelta

    from django.utils import timezone

    from contactcentre.intake.mail import tasks

    settings.MAIL_SWEEP_AFTER_S = 0
    ticket = _email_ticket()
    now = timezone.now()
    exhausted = Message.objects.create(
        ticket=ticket, direction="outbound", channel="email", body_text="Svar", delivery_status="pending",
        registration=f"{ticket.reference}/90",
        meta={"email_out": {"attempts": settings.EMAIL_SEND_MAX_RETRIES + 1,
                            "sending_until": (now - timedelta(seconds=1)).isoformat()}})
    leased = Message.objects.create(
        ticket=ticket, direction="outbound", channel="email", body_text="Svar", delivery_status="pending",
        registration=f"{ticket.reference}/91",
        meta={"email_out": {"attempts": 1, "sending_until": (now + timedelta(minutes=5)).isoformat()}})
    receipt = AutoReply.objects.create(address="anna@example.org", kind="receipt", ticket=ticket,
                                       message_id="<r@x>", attempts=settings.EMAIL_SEND_MAX_RETRIES + 1)

    assert tasks.sweep_task.apply().get() == {"receipts": 0, "replies": 0, "gave_up": 2}
    exhausted.refresh_from_db()
    leased.refresh_from_db()
    receipt.refresh_from_db()
    assert exhausted.delivery_status == "failed" and "gave up after" in exhausted.delivery_error
    assert leased.delivery_status == "pending"
    assert receipt.status == "failed"
    assert mail_sink.wait_for(1, timeout=0.3) == []


def test_a_receipt_with_a_live_lease_is_skipped(mail_sink):
    from datetime import timedelta

    from django.utils import timezone

    from contactcentre.intake.mail.tasks import receipt_send_task

    receipt = AutoReply.objects.create(address="anna@example.org", kind="receipt", ticket=_email_ticket(),
                                       message_id="<r2@x>", attempts=1,
                                       sending_until=timezone.now() + timedelta(minutes=5))
    assert receipt_send_task.apply(args=[receipt.pk]).get() == "skipped"
    assert mail_sink.wait_for(1, timeout=0.3) == []
    AutoReply.objects.filter(pk=receipt.pk).update(sending_until=timezone.now() - timedelta(seconds=1))
    assert receipt_send_task.apply(args=[receipt.pk]).get() == "sent"
    receipt.refresh_from_db()
    assert receipt.status == "sent" and receipt.attempts == 2 and len(mail_sink.wait_for(1)) == 1
