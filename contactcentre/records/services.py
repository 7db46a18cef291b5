"""Retention, disposal, legal hold, right of access and erasure.

The unit of disposal is the ticket (the case file, as in the city's retention plan): its record
type is its channel, its period runs from when it was resolved or closed. Before a ticket whose
class says so is disposed of, it is exported to the archive folder in an open format (JSON lines
plus the original attachment files). Disposal removes every store: the rows (messages, events,
attachments and rows of other apps that point at the ticket), the attachment files, the live
event stream and cached rows. Tickets are searched in the database, so there is no separate
search index to purge.
"""

from __future__ import annotations

import json
import logging
import shutil
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone

from contactcentre.tickets.models import Attachment, Contact, LiveEvent, Message, Ticket

from .models import DisposalLog, ErasureRequest, LegalHold, RetentionClass

log = logging.getLogger(__name__)

CLOSED_STATUSES = (Ticket.Status.RESOLVED, Ticket.Status.CLOSED)
PSEUDONYM = "[pseudonymiserad]"


# --- registration ------------------------------------------------------------------------------

def message_registrations(ticket: Ticket) -> dict[int, str]:
    """Each item's stored registration reference (``Message.registration``), by message id.

    Given once when the item is stored and never changed, so a merge or disposal elsewhere never
    renumbers what has been handed out.
    """
    return dict(Message.objects.filter(ticket=ticket).values_list("id", "registration"))


# --- retention -------------------------------------------------------------------------------

def retention_class_for(ticket: Ticket, classes: dict[str, RetentionClass]) -> RetentionClass | None:
    return classes.get(ticket.channel) or classes.get("*")


def _closed_at(ticket: Ticket) -> datetime | None:
    stamps = [s for s in (ticket.closed_at, ticket.resolved_at) if s is not None]
    return max(stamps) if stamps else None


def retention_until(ticket: Ticket, rc: RetentionClass | None) -> datetime | None:
    """When the ticket may be disposed of; ``None`` while it is open or no class covers it."""
    closed = _closed_at(ticket)
    if rc is None or closed is None or ticket.status not in CLOSED_STATUSES:
        return None
    return max(closed, ticket.last_message_at) + timedelta(days=rc.period_days)


def held_ticket_ids(tickets: list[Ticket]) -> set[int]:
    ids = {t.pk for t in tickets}
    contacts = {t.contact_id for t in tickets if t.contact_id}
    holds = LegalHold.objects.filter(released_at__isnull=True).filter(
        Q(ticket_id__in=ids) | Q(contact_id__in=contacts)
    ).values_list("ticket_id", "contact_id")
    held_tickets = {t for t, _ in holds if t}
    held_contacts = {c for _, c in holds if c}
    return {t.pk for t in tickets if t.pk in held_tickets or t.contact_id in held_contacts}


@dataclass
class DisposalReport:
    disposed: list[str] = field(default_factory=list)
    held: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    archive_dir: str = ""
    quarantine_disposed: int = 0


def records_dispose(*, now: datetime | None = None, limit: int = 500) -> DisposalReport:
    """The scheduled disposal job: every expired ticket not under legal hold is archived (if its
    class says so) and then removed from every store. Idempotent: a ticket gone is not found again."""
    now = now or timezone.now()
    classes = {rc.record_type: rc for rc in RetentionClass.objects.filter(is_active=True)}
    report = DisposalReport()
    if not classes:
        return report
    candidates = list(
        Ticket.objects.filter(status__in=CLOSED_STATUSES).select_related("contact", "department").order_by("id")[: limit * 4]
    )
    expired = []
    for ticket in candidates:
        rc = retention_class_for(ticket, classes)
        until = retention_until(ticket, rc)
        if rc is not None and until is not None and until <= now:
            expired.append((ticket, rc))
    held = held_ticket_ids([t for t, _ in expired])
    archive_root = Path(settings.RECORDS_ARCHIVE_DIR) / f"{now:%Y-%m-%d}"
    for ticket, rc in expired[:limit]:
        if ticket.pk in held:
            # Logged every run on purpose: the hold's effect is visible in the disposal log.
            DisposalLog.objects.create(ticket_id=ticket.pk, ticket_reference=ticket.reference, record_type=rc.record_type,
                                       decision_reference=rc.decision_reference, outcome=DisposalLog.Outcome.HELD,
                                       detail="legal hold")
            report.held.append(ticket.reference)
            continue
        try:
            archived = _archive_ticket(ticket, archive_root) if rc.archive_before_disposal else ""
            counts = _dispose_ticket(ticket)
        except Exception as exc:  # noqa: BLE001 - one bad ticket must not stop the rest of the run
            log.exception("disposal of %s failed", ticket.reference)
            DisposalLog.objects.create(ticket_id=ticket.pk, ticket_reference=ticket.reference, record_type=rc.record_type,
                                       decision_reference=rc.decision_reference, outcome=DisposalLog.Outcome.FAILED,
                                       detail=f"{type(exc).__name__}: {exc}"[:2000])
            report.failed.append(ticket.reference)
            continue
        DisposalLog.objects.create(ticket_id=ticket.pk, ticket_reference=ticket.reference, record_type=rc.record_type,
                                   decision_reference=rc.decision_reference, outcome=DisposalLog.Outcome.DISPOSED,
                                   messages=counts[0], attachments=counts[1], archived_to=archived)
        report.disposed.append(ticket.reference)
    quarantine = classes.get(QUARANTINE_RECORD_TYPE)
    if quarantine is not None:
        report.quarantine_disposed = _dispose_quarantined_mail(quarantine, now=now, archive_root=archive_root, limit=limit)
    report.archive_dir = str(archive_root) if report.disposed or report.quarantine_disposed else ""
    return report


# Quarantined mail (contactcentre.intake.mail.QuarantinedMail) holds the raw bytes of mail that
# never became a ticket: personal data like any other, so it has a retention class of its own,
# counted from when it arrived.
QUARANTINE_RECORD_TYPE = "quarantine"


def _dispose_quarantined_mail(rc: RetentionClass, *, now: datetime, archive_root: Path, limit: int) -> int:
    from contactcentre.intake.mail.models import QuarantinedMail

    expired = list(
        QuarantinedMail.objects.filter(received_at__lte=now - timedelta(days=rc.period_days)).order_by("id")[:limit]
    )
    for item in expired:
        archived = ""
        if rc.archive_before_disposal:
            folder = archive_root / "quarantine"
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / f"{item.pk}-{item.sha256[:16]}.eml"
            path.write_bytes(bytes(item.raw))
            archived = str(path)
        with transaction.atomic():
            DisposalLog.objects.create(record_type=rc.record_type, decision_reference=rc.decision_reference,
                                       outcome=DisposalLog.Outcome.DISPOSED, archived_to=archived,
                                       detail=f"quarantined mail {item.pk} ({item.get_reason_display()}, {item.size} B, "
                                              f"received {item.received_at:%Y-%m-%d})")
            item.delete()
    return len(expired)


def ticket_record(ticket: Ticket) -> dict[str, Any]:
    """A ticket as an archival/export record: plain JSON types only."""
    regs = message_registrations(ticket)
    messages = Message.objects.filter(ticket=ticket).prefetch_related("attachments").order_by("created_at", "id")
    return {
        "reference": ticket.reference,
        "channel": ticket.channel,
        "status": ticket.status,
        "subject": ticket.subject,
        "department": ticket.department.code if ticket.department_id else None,
        "created_at": ticket.created_at.isoformat(),
        "resolved_at": ticket.resolved_at.isoformat() if ticket.resolved_at else None,
        "closed_at": ticket.closed_at.isoformat() if ticket.closed_at else None,
        "messages": [
            {
                "registration": regs.get(m.pk, ""),
                "direction": m.direction,
                "channel": m.channel,
                "sender": m.sender,
                "subject": m.subject,
                "body_text": m.body_text,
                "received_at": m.created_at.isoformat(),
                "attachments": [
                    {"id": str(a.pk), "filename": a.filename, "content_type": a.content_type, "size": a.size,
                     "sha256": a.sha256}
                    for a in m.attachments.all()
                ],
            }
            for m in messages
        ],
    }


def _archive_ticket(ticket: Ticket, root: Path) -> str:
    """JSON lines (one line per ticket) plus the original files, in a dated folder."""
    folder = root / ticket.reference
    (folder / "attachments").mkdir(parents=True, exist_ok=True)
    record = ticket_record(ticket)
    with (root / "records.jsonl").open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(record, ensure_ascii=False) + "\n")
    for attachment in Attachment.objects.filter(message__ticket=ticket):
        with attachment.file.open("rb") as src, (folder / "attachments" / str(attachment.pk)).open("wb") as dst:
            shutil.copyfileobj(src, dst)
    (folder / "ticket.json").write_text(json.dumps(record, ensure_ascii=False, indent=1), encoding="utf-8")
    return str(folder)


def _dispose_ticket(ticket: Ticket) -> tuple[int, int]:
    attachments = list(Attachment.objects.filter(message__ticket=ticket))
    files = [a.file for a in attachments if a.file]
    with transaction.atomic():
        message_count = Message.objects.filter(ticket=ticket).count()
        # Rows of other apps that would otherwise outlive the ticket with its data (SET_NULL links).
        for rel in Ticket._meta.related_objects:
            if rel.related_model is Ticket or rel.on_delete is not models.SET_NULL:
                continue
            rel.related_model._default_manager.filter(**{rel.field.name: ticket}).delete()
        LiveEvent.objects.filter(ticket_reference=ticket.reference).delete()
        contact_id = ticket.contact_id
        Ticket.objects.filter(pk=ticket.pk).delete()
        if contact_id and not Ticket.objects.filter(contact_id=contact_id).exists():
            # A contact exists only for its tickets; with the last one gone it goes too.
            Contact.objects.filter(pk=contact_id).delete()
        # Files last and only after commit: a rolled-back disposal must not lose the originals.
        transaction.on_commit(lambda: [f.storage.delete(f.name) for f in files])
    cache.delete_many([f"ticket:{ticket.pk}", f"ticket:{ticket.reference}"])
    return message_count, len(attachments)


# --- right of access and erasure -----------------------------------------------------------

def contact_export(*, contact_id: int) -> dict[str, Any]:
    contact = Contact.objects.prefetch_related("emails", "phones").get(pk=contact_id)
    tickets = Ticket.objects.filter(contact=contact).select_related("department").order_by("id")
    return {
        "exported_at": timezone.now().isoformat(),
        "contact": {
            "id": contact.pk,
            "kind": contact.kind,
            "name": contact.name,
            "organisation_number": contact.organisation_number,
            "preferred_language": contact.preferred_language,
            "emails": [e.address for e in contact.emails.all()],
            "phones": [p.number for p in contact.phones.all()],
            "created_at": contact.created_at.isoformat(),
        },
        "tickets": [ticket_record(t) for t in tickets],
    }


@transaction.atomic
def contact_erase(*, contact_id: int, actor: Any, reason: str = "", now: datetime | None = None) -> ErasureRequest:
    """Pseudonymise what no retention rule or hold requires us to keep; record why the rest stays.

    The contact's own details (name, addresses, numbers) are not public records and always go.
    A ticket stays intact while it is open, under legal hold, or within its retention period
    (the retention plan, not the resident's wish, decides when public records are disposed of).
    """
    now = now or timezone.now()
    contact = Contact.objects.select_for_update().get(pk=contact_id)
    classes = {rc.record_type: rc for rc in RetentionClass.objects.filter(is_active=True)}
    tickets = list(Ticket.objects.filter(contact=contact).order_by("id"))
    held = held_ticket_ids(tickets)
    kept: list[dict[str, str]] = []
    done: list[str] = ["contact.name", "contact.emails", "contact.phones", "contact.organisation_number"]
    for ticket in tickets:
        rc = retention_class_for(ticket, classes)
        until = retention_until(ticket, rc)
        if ticket.pk in held:
            kept.append({"ticket": ticket.reference, "reason": "legal hold"})
        elif ticket.status not in CLOSED_STATUSES:
            kept.append({"ticket": ticket.reference, "reason": "the enquiry is still being handled"})
        elif rc is not None and until is not None and until > now:
            kept.append({"ticket": ticket.reference,
                         "reason": f"public record kept under {rc.decision_reference} until {until.date().isoformat()}"})
        else:
            _pseudonymise_ticket(ticket)
            done.append(ticket.reference)
    contact.name = PSEUDONYM
    contact.organisation_number = ""
    contact.save(update_fields=["name", "organisation_number", "updated_at"])
    contact.emails.all().delete()
    contact.phones.all().delete()
    return ErasureRequest.objects.create(contact_id=contact.pk, requested_by=actor if getattr(actor, "pk", None) else None,
                                         reason=reason, pseudonymised=done, kept=kept)


def _pseudonymise_ticket(ticket: Ticket) -> None:
    attachments = list(Attachment.objects.filter(message__ticket=ticket))
    files = [a.file for a in attachments if a.file]
    Attachment.objects.filter(pk__in=[a.pk for a in attachments]).delete()
    # update() on purpose: created_at (received-at) is untouched, only the content goes.
    Message.objects.filter(ticket=ticket).update(sender="", body_text=PSEUDONYM, body_html="", subject="", meta={})
    Ticket.objects.filter(pk=ticket.pk).update(subject=PSEUDONYM)
    LiveEvent.objects.filter(ticket_reference=ticket.reference).delete()
    transaction.on_commit(lambda: [f.storage.delete(f.name) for f in files])


# --- legal hold --------------------------------------------------------------------------------

def legal_hold_place(*, ticket_id: int | None, contact_id: int | None, reason: str, actor: Any) -> LegalHold:
    return LegalHold.objects.create(ticket_id=ticket_id, contact_id=contact_id, reason=reason, created_by=actor)


@transaction.atomic
def legal_hold_release(*, hold_id: int, actor: Any) -> LegalHold:
    from contactcentre.tickets.errors import NotFound

    hold = LegalHold.objects.select_for_update().filter(pk=hold_id, released_at__isnull=True).first()
    if hold is None:
        raise NotFound(f"Legal hold {hold_id} does not exist or is released.")
    hold.released_at = timezone.now()
    hold.save(update_fields=["released_at"])
    return hold
