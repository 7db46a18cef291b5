"""Every change to a complaint: guard, lock, write with ``update_fields``, audit in the ticket's
log, then a live event after commit (``complaint.<status>``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from contactcentre.commitments.calendar import BusinessCalendar
from contactcentre.tickets import events
from contactcentre.tickets.errors import ConflictError, DomainError, NotFound, NotPermitted
from contactcentre.tickets.models import Ticket, TicketEvent

from .models import Complaint, RootCause

Status = Complaint.Status
CALENDAR = BusinessCalendar()


class ComplaintTransitionNotAllowed(ConflictError):
    code = "transition_not_allowed"

    def __init__(self, current: str, target: str) -> None:
        super().__init__(f"Complaint status is '{current}': the change to '{target}' is not allowed from that status.")


def _require_staff(actor: Any) -> None:
    # Complaints concern the whole city: handled by the contact centre's staff, not caseworkers
    # of one department (they see the ticket in their workspace as before).
    if actor is None or not getattr(actor, "is_staff_member", False) or not actor.sees_all_departments:
        raise NotPermitted("Only contact-centre staff may handle complaints.")


def _audit(complaint: Complaint, *, actor: Any, kind: str, from_value: str = "", to_value: str = "", **data: Any) -> None:
    TicketEvent.objects.create(
        ticket_id=complaint.ticket_id, actor=actor if getattr(actor, "pk", None) else None, kind=kind,
        from_value=from_value[:200], to_value=to_value[:200], data={"complaint": complaint.pk, **data},
    )


def _emit(complaint: Complaint, change: str) -> None:
    ticket = Ticket.objects.select_related("department", "assignee").get(pk=complaint.ticket_id)
    events.emit_ticket_event(f"complaint.{change}", ticket, complaint_id=complaint.pk,
                             complaint_status=complaint.status, version=complaint.version)


def complaint_answer_due(registered_at: datetime) -> datetime:
    """The complaint's own commitment: answered within N working days (office calendar)."""
    return CALENDAR.add_working_days(registered_at, settings.COMPLAINT_ANSWER_WORKING_DAYS)


def _create(ticket: Ticket, *, source: str, actor: Any, now: datetime) -> Complaint:
    complaint = Complaint.objects.create(
        ticket=ticket, source=source, department_id=ticket.department_id, registered_at=now,
        answer_due_at=complaint_answer_due(now),
        owner=actor if getattr(actor, "pk", None) else None,
    )
    _audit(complaint, actor=actor, kind="complaint", to_value=Status.REGISTERED, source=source,
           answer_due_at=complaint.answer_due_at.isoformat() if complaint.answer_due_at else None)
    return complaint


def complaint_register_if_flagged(ticket: Ticket, *, now: datetime | None = None) -> Complaint | None:
    """Intake hook (inside the intake transaction): a ticket the router flagged as a complaint
    gets its Complaint at once. Idempotent."""
    if not ticket.is_complaint or ticket.held_for_id:
        return None
    existing = Complaint.objects.filter(ticket=ticket).first()
    if existing is not None:
        return existing
    complaint = _create(ticket, source=Complaint.Source.ROUTING, actor=None, now=now or timezone.now())
    _emit(complaint, "registered")
    return complaint


@transaction.atomic
def complaint_register(*, ticket_id: int, actor: Any, now: datetime | None = None) -> tuple[Complaint, bool]:
    """An agent marks a ticket as a complaint. Returns (complaint, created); marking twice is harmless."""
    _require_staff(actor)
    try:
        ticket = Ticket.objects.select_for_update().get(pk=ticket_id)
    except Ticket.DoesNotExist as exc:
        raise NotFound(f"Ticket {ticket_id} does not exist.") from exc
    existing = Complaint.objects.filter(ticket=ticket).first()
    if existing is not None:
        return existing, False
    if ticket.merged_into_id is not None:
        raise ConflictError("A merged duplicate cannot be a complaint: mark the ticket it was merged into.",
                            code="merged")
    now = now or timezone.now()
    if not ticket.is_complaint:
        ticket.is_complaint = True
        ticket.version += 1
        ticket.updated_at = now
        ticket.save(update_fields=["is_complaint", "version", "updated_at"])
        TicketEvent.objects.create(ticket=ticket, actor=actor, kind="is_complaint", from_value="False", to_value="True")
    complaint = _create(ticket, source=Complaint.Source.AGENT, actor=actor, now=now)
    _emit(complaint, "registered")
    return complaint, True


MAX_ID = 2**63 - 1  # a larger id cannot exist, and SQLite refuses to compare with it


def _locked(complaint_id: int) -> Complaint:
    if not 0 < complaint_id <= MAX_ID:
        raise NotFound(f"Complaint {complaint_id} does not exist.")
    try:
        return Complaint.objects.select_for_update().get(pk=complaint_id)
    except Complaint.DoesNotExist as exc:
        raise NotFound(f"Complaint {complaint_id} does not exist.") from exc


def _move(complaint: Complaint, to: str, *, actor: Any, now: datetime, fields: list[str], **data: Any) -> None:
    if to not in Complaint.ALLOWED_TRANSITIONS[complaint.status]:
        raise ComplaintTransitionNotAllowed(complaint.status, to)
    previous = complaint.status
    complaint.status = to
    setattr(complaint, f"{to}_at", now)
    complaint.version += 1
    complaint.save(update_fields=[*fields, "status", f"{to}_at", "version"])
    _audit(complaint, actor=actor, kind="complaint", from_value=previous, to_value=to, **data)
    _emit(complaint, to)


@transaction.atomic
def complaint_investigate(*, complaint_id: int, actor: Any, findings: str, now: datetime | None = None) -> Complaint:
    _require_staff(actor)
    complaint = _locked(complaint_id)
    findings = (findings or "").strip()
    if not findings:
        raise DomainError("Describe what the investigation found.", code="findings_required")
    complaint.findings = findings
    fields = ["findings"]
    if complaint.owner_id is None:
        complaint.owner = actor  # whoever investigates owns it unless someone was named
        fields.append("owner")
    _move(complaint, Status.INVESTIGATED, actor=actor, now=now or timezone.now(), fields=fields)
    return complaint


@transaction.atomic
def complaint_answer(*, complaint_id: int, actor: Any, answer_summary: str, now: datetime | None = None) -> Complaint:
    """Record that the person who complained got their answer (the reply itself goes through the
    ticket's own channel, as every reply does)."""
    _require_staff(actor)
    complaint = _locked(complaint_id)
    summary = (answer_summary or "").strip()
    if not summary:
        raise DomainError("Summarise the answer given.", code="answer_required")
    complaint.answer_summary = summary
    now = now or timezone.now()
    on_time = complaint.answer_due_at is None or now <= complaint.answer_due_at
    _move(complaint, Status.ANSWERED, actor=actor, now=now, fields=["answer_summary"], on_time=on_time)
    return complaint


@transaction.atomic
def complaint_close(*, complaint_id: int, actor: Any, root_cause: str, improvement_action: str,
                    now: datetime | None = None) -> Complaint:
    """Close with what systematic complaint handling is for: the root cause and what we change."""
    _require_staff(actor)
    complaint = _locked(complaint_id)
    cause = RootCause.objects.filter(code=root_cause or "", is_active=True).first()
    if cause is None:
        raise DomainError(f"Unknown root cause '{root_cause}'.", code="root_cause_required")
    action = (improvement_action or "").strip()
    if not action:
        raise DomainError("An improvement action is required to close a complaint.", code="improvement_required")
    complaint.root_cause = cause
    complaint.improvement_action = action
    _move(complaint, Status.CLOSED, actor=actor, now=now or timezone.now(),
          fields=["root_cause", "improvement_action"], root_cause=cause.code)
    return complaint


@transaction.atomic
def complaint_assign(*, complaint_id: int, actor: Any, owner_id: int | None) -> Complaint:
    _require_staff(actor)
    complaint = _locked(complaint_id)
    if complaint.status == Status.CLOSED:
        raise ComplaintTransitionNotAllowed(complaint.status, "assign")
    owner = None
    if owner_id is not None:
        if not 0 < owner_id <= MAX_ID:
            raise DomainError("The owner must be an active member of staff.", code="invalid_owner")
        owner = get_user_model().objects.filter(pk=owner_id, is_active=True).exclude(role="").first()
        if owner is None:
            raise DomainError("The owner must be an active member of staff.", code="invalid_owner")
    if complaint.owner_id == (owner.pk if owner else None):
        return complaint
    previous = complaint.owner.get_username() if complaint.owner_id else ""
    complaint.owner = owner
    complaint.version += 1
    complaint.save(update_fields=["owner", "version"])
    _audit(complaint, actor=actor, kind="complaint_owner", from_value=previous,
           to_value=owner.get_username() if owner else "")
    _emit(complaint, "assigned")
    return complaint


def complaints_sweep(*, limit: int = 500) -> int:
    """Periodic safety net: any ticket flagged as a complaint by a path without the intake hook
    (or before this app existed) gets its Complaint. Returns how many were registered."""
    created = 0
    ids = list(
        Ticket.objects.filter(is_complaint=True, complaint__isnull=True, held_for__isnull=True,
                              merged_into__isnull=True).values_list("pk", flat=True)[:limit]
    )
    for ticket_id in ids:
        with transaction.atomic():
            ticket = Ticket.objects.select_for_update().get(pk=ticket_id)
            if not Complaint.objects.filter(ticket=ticket).exists():
                complaint_register_if_flagged(ticket, now=ticket.created_at)
                created += 1
    return created
