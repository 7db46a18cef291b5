"""Public records and GDPR: received-at immutable, registration references, retention classes,
the disposal job (every store, archive first, legal hold), right of access and erasure."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.utils import timezone

from contactcentre.records.models import DisposalLog, ErasureRequest, LegalHold, RetentionClass
from contactcentre.records.services import contact_erase, message_registrations, records_dispose
from contactcentre.tickets import services
from contactcentre.tickets.events import emit_ticket_event
from contactcentre.tickets.models import (
    Attachment,
    Contact,
    ContactEmail,
    LiveEvent,
    Message,
    Ticket,
)
from tests.conftest import client_for
from tests.factories import DepartmentFactory, TicketFactory, UserFactory

pytestmark = pytest.mark.django_db
LONG_AGO = timezone.now() - timedelta(days=800)


@pytest.fixture(autouse=True)
def archive_dir(settings, tmp_path: Path) -> Path:
    settings.RECORDS_ARCHIVE_DIR = tmp_path / "archive"
    return settings.RECORDS_ARCHIVE_DIR


def closed_ticket(*, channel: str = "email", when=LONG_AGO, email: str = "eva@example.org", contact=None) -> Ticket:  # type: ignore[no-untyped-def]
    if contact is None:
        contact = Contact.objects.create(name="Eva Ek")
        ContactEmail.objects.create(contact=contact, address=email)
    ticket = TicketFactory(channel=channel, status="closed", resolved_at=when, closed_at=when, last_message_at=when,
                           contact=contact)
    msg = Message.objects.create(ticket=ticket, direction="inbound", channel=channel, sender=email,
                                 body_text="Mitt personnummer är 19800101-0000", created_at=when)
    att = Attachment(message=msg, filename="intyg.pdf", size=8, created_at=when)
    att.file.save("x", ContentFile(b"%PDF-1.7"), save=True)
    emit_ticket_event("ticket.updated", ticket)
    return ticket


@pytest.fixture
def email_class(db) -> RetentionClass:  # type: ignore[no-untyped-def]
    return RetentionClass.objects.create(record_type="email", decision_reference="KS 2024/117 § 3, punkt 2.1",
                                         period_days=365, archive_before_disposal=True)


# --- received-at and registration ---------------------------------------------------------------

def test_no_service_changes_received_at(null_router, departments) -> None:  # type: ignore[no-untyped-def]
    agent = UserFactory(username="anna", role="agent")
    a = closed_ticket(when=timezone.now() - timedelta(days=3))
    a.status = "new"
    a.save(update_fields=["status"])
    b = TicketFactory(contact=a.contact)
    Message.objects.create(ticket=b, direction="inbound", channel="web", body_text="Dubblett",
                           created_at=timezone.now() - timedelta(days=2))
    before = dict(Message.objects.values_list("id", "created_at"))

    services.ticket_claim(ticket_id=a.pk, actor=agent)
    services.ticket_note(ticket_id=a.pk, actor=agent, body="Anteckning")
    services.ticket_reply(ticket_id=a.pk, actor=agent, body="Svar", status_after="waiting")
    services.ticket_escalate(ticket_id=a.pk, actor=agent, department_code="bygglov", note="Till bygglov")
    services.ticket_resolve(ticket_id=a.pk, actor=agent)
    services.ticket_reopen(ticket_id=a.pk, actor=agent, reason="Ny fråga")
    services.ticket_merge(ticket_id=b.pk, into_id=a.pk, actor=agent)
    contact_erase(contact_id=a.contact_id, actor=agent)

    after = dict(Message.objects.values_list("id", "created_at"))
    assert {k: after[k] for k in before} == before


def test_received_at_is_not_editable() -> None:
    assert Message._meta.get_field("created_at").editable is False


def test_each_item_has_a_registration_reference() -> None:
    ticket = closed_ticket()
    Message.objects.create(ticket=ticket, direction="outbound", channel="email", body_text="Svar")
    regs = message_registrations(ticket)
    assert sorted(regs.values()) == [f"{ticket.reference}/1", f"{ticket.reference}/2"]


def test_registration_is_stored_and_survives_a_merge() -> None:
    agent = UserFactory(role="agent")
    source, target = closed_ticket(), closed_ticket(email="other@example.org")
    Ticket.objects.filter(pk__in=[source.pk, target.pk]).update(status="open")
    source.refresh_from_db()
    target.refresh_from_db()
    moved = Message.objects.get(ticket=source)
    assert moved.registration == f"{source.reference}/1"

    services.ticket_merge(ticket_id=source.pk, into_id=target.pk, actor=agent, allow_different_contacts=True)

    moved.refresh_from_db()
    assert moved.ticket_id == target.pk
    assert moved.registration == f"{source.reference}/1", "a merge renumbered a public record"
    # The target keeps counting from its own sequence: no reference is issued twice.
    reply = Message.objects.create(ticket=target, direction="outbound", channel="email", body_text="Svar")
    assert reply.registration == f"{target.reference}/2"
    assert Message.objects.filter(registration=reply.registration).count() == 1


def test_a_stale_full_save_of_the_ticket_does_not_reissue_a_reference() -> None:
    ticket = closed_ticket()
    stale = Ticket.objects.get(pk=ticket.pk)  # loaded before the next message
    Message.objects.create(ticket=ticket, direction="outbound", channel="email", body_text="Svar")
    stale.subject = "Ändrat i admin"
    stale.save()
    third = Message.objects.create(ticket=ticket, direction="note", channel="email", body_text="Notering")
    assert third.registration == f"{ticket.reference}/3"


def test_the_api_shows_each_items_registration() -> None:
    ticket = closed_ticket()
    client = client_for(UserFactory(role="supervisor"))
    response = client.get(f"/api/v1/tickets/{ticket.reference}/messages/")
    assert response.status_code == 200, response.content
    rows = response.json()["results"] if isinstance(response.json(), dict) else response.json()
    assert [r["registration"] for r in rows] == [f"{ticket.reference}/1"]


# --- retention and disposal ---------------------------------------------------------------------

def test_disposal_removes_expired_records_from_every_store_after_archiving(
    email_class, archive_dir, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    ticket = closed_ticket()
    attachment = Attachment.objects.get(message__ticket=ticket)
    stored = Path(attachment.file.path)
    assert stored.exists()
    fresh = closed_ticket(when=timezone.now() - timedelta(days=10), email="ny@example.org")

    with django_capture_on_commit_callbacks(execute=True):
        report = records_dispose()

    assert report.disposed == [ticket.reference]
    assert not Ticket.objects.filter(pk=ticket.pk).exists()
    assert not Message.objects.filter(ticket_id=ticket.pk).exists()
    assert not Attachment.objects.filter(pk=attachment.pk).exists()
    assert not stored.exists(), "the attachment file outlived its record"
    assert not LiveEvent.objects.filter(ticket_reference=ticket.reference).exists()
    assert not Contact.objects.filter(pk=ticket.contact_id).exists()
    assert Ticket.objects.filter(pk=fresh.pk).exists()  # within its period

    log = DisposalLog.objects.get(ticket_reference=ticket.reference)
    assert (log.outcome, log.decision_reference, log.messages, log.attachments) == (
        "disposed", "KS 2024/117 § 3, punkt 2.1", 1, 1)
    # Archived first, in an open format, with the original file.
    day = next(archive_dir.iterdir())
    lines = (day / "records.jsonl").read_text(encoding="utf-8").splitlines()
    record = json.loads(lines[0])
    assert record["reference"] == ticket.reference
    assert record["messages"][0]["registration"] == f"{ticket.reference}/1"
    assert record["messages"][0]["body_text"].startswith("Mitt personnummer")
    assert (day / ticket.reference / "attachments" / str(attachment.pk)).read_bytes() == b"%PDF-1.7"


def test_without_archiving_nothing_is_exported(archive_dir) -> None:  # type: ignore[no-untyped-def]
    RetentionClass.objects.create(record_type="*", decision_reference="KS 2024/117 § 3, punkt 9",
                                  period_days=90, archive_before_disposal=False)
    ticket = closed_ticket(channel="chat")
    assert records_dispose().disposed == [ticket.reference]
    assert not archive_dir.exists() or not any(archive_dir.rglob("*.jsonl"))


@pytest.mark.parametrize("hold_on", ["ticket", "contact"])
def test_a_legal_hold_stops_disposal(email_class, hold_on: str) -> None:  # type: ignore[no-untyped-def]
    ticket = closed_ticket()
    hold = LegalHold.objects.create(reason="Begäran från JO, dnr 1234-2026",
                                    **({"ticket_id": ticket.pk} if hold_on == "ticket" else {"contact_id": ticket.contact_id}))
    report = records_dispose()
    assert report.held == [ticket.reference] and not report.disposed
    assert Ticket.objects.filter(pk=ticket.pk).exists()
    assert DisposalLog.objects.get(ticket_reference=ticket.reference).outcome == "held"
    hold.released_at = timezone.now()
    hold.save(update_fields=["released_at"])
    assert records_dispose().disposed == [ticket.reference]


def test_open_tickets_and_unclassified_record_types_are_never_disposed(email_class) -> None:  # type: ignore[no-untyped-def]
    open_ticket = closed_ticket()
    Ticket.objects.filter(pk=open_ticket.pk).update(status="open")
    phone = closed_ticket(channel="phone", email="tel@example.org")  # no class for phone, no '*'
    assert records_dispose().disposed == []
    assert Ticket.objects.filter(pk__in=[open_ticket.pk, phone.pk]).count() == 2


def test_the_disposal_job_is_scheduled() -> None:
    from contactcentre.celery import app

    entry = settings.CELERY_BEAT_SCHEDULE["records-dispose"]
    assert entry["task"] == "records.dispose"
    import contactcentre.records.tasks  # noqa: F401

    assert "records.dispose" in app.tasks


def test_the_disposal_log_is_for_supervisors(email_class) -> None:  # type: ignore[no-untyped-def]
    closed_ticket()
    records_dispose()
    assert client_for(UserFactory(username="anna", role="agent")).get("/api/v1/records/disposal-log/").status_code == 403
    r = client_for(UserFactory(username="sara", role="supervisor")).get("/api/v1/records/disposal-log/")
    assert r.status_code == 200 and r.json()["results"][0]["outcome"] == "disposed"


# --- right of access and erasure ------------------------------------------------------------------

def test_a_resident_export_has_contact_tickets_messages_and_attachments() -> None:
    ticket = closed_ticket()
    supervisor = UserFactory(username="sara", role="supervisor")
    r = client_for(supervisor).get(f"/api/v1/records/contacts/{ticket.contact_id}/export/")
    assert r.status_code == 200
    data = r.json()
    assert data["contact"]["emails"] == ["eva@example.org"]
    [exported] = data["tickets"]
    assert exported["reference"] == ticket.reference
    assert exported["messages"][0]["attachments"][0]["filename"] == "intyg.pdf"
    assert r["Cache-Control"] == "private, no-store"
    from contactcentre.records.models import AccessLog

    assert AccessLog.objects.filter(action="contact.export", contact_id=ticket.contact_id, username="sara").exists()


@pytest.mark.parametrize("role", ["agent", "caseworker"])
def test_export_and_erasure_are_not_for_agents_or_caseworkers(role: str) -> None:
    ticket = closed_ticket()
    client = client_for(UserFactory(username="x", role=role, department=DepartmentFactory(code="bygglov")))
    assert client.get(f"/api/v1/records/contacts/{ticket.contact_id}/export/").status_code == 403
    assert client.post(f"/api/v1/records/contacts/{ticket.contact_id}/erasure/", {}).status_code == 403
    assert Contact.objects.get(pk=ticket.contact_id).name == "Eva Ek"


def test_erasure_pseudonymises_what_no_rule_keeps_and_says_why_the_rest_stays(
    email_class, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    expired = closed_ticket()
    contact = expired.contact
    kept = closed_ticket(when=timezone.now() - timedelta(days=30), contact=contact)
    ongoing = TicketFactory(contact=contact, channel="email", status="open")
    held = closed_ticket(contact=contact)
    LegalHold.objects.create(ticket_id=held.pk, reason="Tvist")
    expired_file = Path(Attachment.objects.get(message__ticket=expired).file.path)

    with django_capture_on_commit_callbacks(execute=True):
        r = client_for(UserFactory(username="sara", role="supervisor")).post(
            f"/api/v1/records/contacts/{contact.pk}/erasure/", {"reason": "Begäran via e-post 2026-11-01"}, format="json")
    assert r.status_code == 201, r.content

    contact.refresh_from_db()
    assert contact.name == "[pseudonymiserad]" and not contact.emails.exists()
    gone = Message.objects.get(ticket=expired)
    assert "19800101" not in gone.body_text and gone.sender == ""
    assert not Attachment.objects.filter(message__ticket=expired).exists()
    assert not expired_file.exists()
    assert "19800101" in Message.objects.get(ticket=kept).body_text
    request = ErasureRequest.objects.get()
    reasons = {k["ticket"]: k["reason"] for k in request.kept}
    assert reasons[kept.reference].startswith("public record kept under KS 2024/117")
    assert reasons[held.reference] == "legal hold"
    assert ongoing.reference in reasons
    assert expired.reference in request.pseudonymised


def test_quarantined_mail_is_disposed_under_its_own_retention_class(archive_dir, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    from contactcentre.intake.mail.models import QuarantinedMail

    RetentionClass.objects.create(record_type="quarantine", decision_reference="KS 2024/117 § 3, punkt 9",
                                  period_days=90, archive_before_disposal=True)
    raw = b"From: eva@example.org\r\nSubject: trasig\r\n\r\nMitt personnummer"
    old = QuarantinedMail.objects.create(reason="parse_error", size=len(raw), sha256="ab" * 32, raw=raw,
                                         received_at=timezone.now() - timedelta(days=91))
    recent = QuarantinedMail.objects.create(reason="too_deep", size=len(raw), sha256="cd" * 32, raw=raw,
                                            received_at=timezone.now() - timedelta(days=5))
    with django_capture_on_commit_callbacks(execute=True):
        report = records_dispose()
    assert report.quarantine_disposed == 1
    assert not QuarantinedMail.objects.filter(pk=old.pk).exists()
    assert QuarantinedMail.objects.filter(pk=recent.pk).exists()
    log = DisposalLog.objects.get(record_type="quarantine")
    assert log.ticket_id is None and log.outcome == "disposed" and f"quarantined mail {old.pk}" in log.detail
    assert Path(log.archived_to).read_bytes() == raw  # archived byte for byte first
