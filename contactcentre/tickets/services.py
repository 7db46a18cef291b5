"""Every change to a ticket happens here: guard, lock, write with ``update_fields``, audit,
then broadcast after commit. Views, consumers and channel adapters call these functions.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.utils import timezone

from contactcentre.experience.services import survey_schedule_on_commit

from . import events
from .errors import (
    AlreadyClaimed,
    ConflictError,
    DomainError,
    NotFound,
    NotPermitted,
    TransitionNotAllowed,
)
from .models import Department, Message, ReferenceSequence, Ticket, TicketEvent

User = get_user_model()
Status = Ticket.Status


# --- references -----------------------------------------------------------------------------

def reference_next(*, now: datetime | None = None) -> str:
    """Allocate the next human-friendly reference, e.g. ``SOL-2026-000123``.

    Must run inside a transaction: the UPDATE takes the row lock, so concurrent intakes get
    distinct numbers and a rolled-back transaction gives its number back (intake reserves its
    number in a transaction of its own instead: ``reference_reserve``).
    """
    prefix = settings.TICKET_REFERENCE_PREFIX
    year = timezone.localtime(now or timezone.now()).year
    table = ReferenceSequence._meta.db_table
    sql = f"UPDATE {table} SET last_value = last_value + 1 WHERE prefix = %s AND year = %s RETURNING last_value"  # noqa: S608 - table name from the model
    with connection.cursor() as cursor:
        cursor.execute(sql, [prefix, year])
        row = cursor.fetchone()
        if row is None:  # the first reference of the year
            ReferenceSequence.objects.get_or_create(prefix=prefix, year=year)
            cursor.execute(sql, [prefix, year])
            row = cursor.fetchone()
    return f"{prefix}-{year}-{row[0]:06d}"


def reference_reserve(*, now: datetime | None = None) -> str:
    """Take the next reference in a short transaction of its own, before the intake's.

    ``reference_next`` inside the intake's transaction holds the year's sequence row locked until
    that whole transaction commits, which serialises every concurrent intake (measured: 13 of 16
    sessions waiting on the lock, bench/bench_intake.py). Here the lock lasts one UPDATE. The
    price: an intake that fails after reserving (the database fails, a concurrent duplicate wins)
    leaves its number unused, a gap, like a voided number in a diarium; references stay unique
    and increasing, and no number is ever given to two tickets. Inside a caller's transaction
    there is no transaction of our own to take, and this is ``reference_next``.

    The reservation commits without waiting for its WAL flush: if the server crashes before the
    flush, the number was used by no committed ticket either (a ticket's commit flushes the WAL
    up to and including the reservation), so it may safely be handed out again.
    """
    if connection.in_atomic_block:
        return reference_next(now=now)
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
        return reference_next(now=now)


# --- helpers --------------------------------------------------------------------------------

def _locked(ticket_id: int) -> Ticket:
    try:
        # No joins under the lock: after waiting for it, PostgreSQL re-reads the locked row but
        # not the joined ones, so a joined assignee could be stale. Relations load afterwards.
        return Ticket.objects.select_for_update().get(pk=ticket_id)
    except Ticket.DoesNotExist as exc:
        raise NotFound(f"Ticket {ticket_id} does not exist.") from exc


def _audit(ticket: Ticket, *, actor: Any, kind: str, from_value: str = "", to_value: str = "", **data: Any) -> None:
    TicketEvent.objects.create(
        ticket=ticket,
        actor=actor if getattr(actor, "pk", None) else None,
        kind=kind,
        from_value=str(from_value or "")[:200],
        to_value=str(to_value or "")[:200],
        data=data,
    )


def _touch(ticket: Ticket, fields: Iterable[str], *, now: datetime | None = None) -> None:
    from contactcentre.commitments.services import commitments_apply

    ticket.version += 1
    ticket.updated_at = now or timezone.now()
    # Due times follow every change (department, priority, waiting on the resident, escalation).
    due_fields = commitments_apply(ticket, now=ticket.updated_at)
    ticket.save(update_fields=[*set(fields), *due_fields, "version", "updated_at"])


def _set_status(ticket: Ticket, to: str, *, actor: Any, action: str = "", now: datetime | None = None) -> list[str]:
    """Move the locked ticket to ``to``; return the fields changed. Refuses illegal moves."""
    if ticket.status == to:
        return []
    if to not in Ticket.ALLOWED_TRANSITIONS[ticket.status]:
        raise TransitionNotAllowed(ticket.status, to, action=action)
    now = now or timezone.now()
    previous = ticket.status
    ticket.status = to
    fields = ["status"]
    if to == Status.RESOLVED:
        ticket.resolved_at = now
        fields.append("resolved_at")
        survey_schedule_on_commit(ticket)  # one survey per ticket, sent after commit (contactcentre.experience)
    elif to == Status.CLOSED:
        ticket.closed_at = now
        fields.append("closed_at")
    elif to == Status.ESCALATED:
        ticket.escalated_at = now
        fields.append("escalated_at")
    if previous == Status.RESOLVED and to == Status.OPEN:
        ticket.resolved_at = None
        ticket.first_contact_resolution = None
        fields += ["resolved_at", "first_contact_resolution"]
    _audit(ticket, actor=actor, kind="status", from_value=previous, to_value=to, action=action)
    return fields


def _require_staff(actor: Any, ticket: Ticket | None = None) -> None:
    if actor is None or not getattr(actor, "is_staff_member", False):
        raise NotPermitted("Only contact-centre staff may do this.")
    if ticket is not None and not actor.sees_all_departments:
        if ticket.escalated_at is None or not ticket.department_id or ticket.department_id != actor.department_id:
            # Same answer as a missing ticket: scope is not disclosed.
            raise NotFound(f"Ticket {ticket.pk} does not exist.")


# --- creation (used by the intake service) ---------------------------------------------------

@dataclass(frozen=True, slots=True)
class NewTicket:
    channel: str
    subject: str
    contact_id: int | None
    language: str = "sv"
    department: Department | None = None
    category: str = ""
    priority: str = Ticket.Priority.NORMAL
    is_complaint: bool = False
    routing: dict[str, Any] | None = None
    status: str = Status.NEW
    held_for_id: int | None = None
    reference: str = ""  # reserved beforehand (``reference_reserve``); else taken here


def ticket_create(*, data: NewTicket, now: datetime | None = None) -> Ticket:
    """Insert a ticket (caller holds the transaction). Events are emitted by the caller once the
    first message is stored, so the ``ticket.created`` frame describes a complete ticket."""
    now = now or timezone.now()
    ticket = Ticket.objects.create(
        reference=data.reference or reference_next(now=now),
        channel=data.channel,
        status=data.status,
        priority=data.priority,
        subject=data.subject[:300],
        department=data.department,
        category=data.category[:100],
        language=data.language or "sv",
        is_complaint=data.is_complaint,
        contact_id=data.contact_id,
        routing=data.routing or {},
        held_for_id=data.held_for_id,
        created_at=now,
        updated_at=now,
        last_message_at=now,
        escalated_at=now if data.status == Status.ESCALATED else None,
    )
    _audit(ticket, actor=None, kind="created", to_value=data.status, channel=data.channel)
    return ticket


# --- agent actions ---------------------------------------------------------------------------

@transaction.atomic
def ticket_claim(*, ticket_id: int, actor: Any) -> Ticket:
    """Take the ticket. Race-safe: the row lock makes exactly one of two concurrent claims win."""
    ticket = _locked(ticket_id)
    _require_staff(actor, ticket)
    if ticket.assignee_id == actor.pk:
        return ticket
    if ticket.assignee_id is not None:
        raise AlreadyClaimed(f"Ticket {ticket.reference} is already held by {ticket.assignee.get_username()}.")
    if not ticket.is_active:
        raise TransitionNotAllowed(ticket.status, ticket.status, action="claim")
    fields = ["assignee"]
    ticket.assignee = actor
    if ticket.status == Status.NEW:
        fields += _set_status(ticket, Status.OPEN, actor=actor, action="claim")
    _audit(ticket, actor=actor, kind="assignee", to_value=actor.get_username())
    _touch(ticket, fields)
    events.emit_ticket_event("ticket.updated", ticket, change="claimed")
    _dispatch_work()
    return ticket


@transaction.atomic
def ticket_assign(*, ticket_id: int, assignee_id: int | None, actor: Any) -> Ticket:
    ticket = _locked(ticket_id)
    _require_staff(actor, ticket)
    if not ticket.is_active:
        raise TransitionNotAllowed(ticket.status, ticket.status, action="assign")
    assignee = None
    if assignee_id is not None:
        assignee = User.objects.filter(pk=assignee_id, is_active=True).exclude(role="").first()
        if assignee is None:
            raise DomainError("The assignee must be an active member of staff.", code="invalid_assignee")
        if not assignee.sees_all_departments and assignee.department_id != ticket.department_id:
            raise DomainError("A caseworker can only be assigned tickets of their own department.", code="invalid_assignee")
    if ticket.assignee_id == (assignee.pk if assignee else None):
        return ticket
    previous = ticket.assignee.get_username() if ticket.assignee_id else ""
    ticket.assignee = assignee
    fields = ["assignee"]
    if assignee and ticket.status == Status.NEW:
        fields += _set_status(ticket, Status.OPEN, actor=actor, action="assign")
    _audit(ticket, actor=actor, kind="assignee", from_value=previous, to_value=assignee.get_username() if assignee else "")
    _touch(ticket, fields)
    events.emit_ticket_event("ticket.updated", ticket, change="assigned")
    _dispatch_work()
    return ticket


def _add_message(
    ticket: Ticket,
    *,
    direction: str,
    actor: Any,
    body_text: str,
    body_html: str = "",
    channel: str | None = None,
    is_automatic: bool = False,
    meta: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> Message:
    now = now or timezone.now()
    message = Message.objects.create(
        ticket=ticket,
        direction=direction,
        channel=channel or ticket.channel,
        author=actor if getattr(actor, "pk", None) else None,
        sender=actor.get_full_name() or actor.get_username() if getattr(actor, "pk", None) else "",
        subject=ticket.subject if direction == Message.Direction.OUTBOUND else "",
        body_text=body_text,
        body_html=body_html,
        is_automatic=is_automatic,
        delivery_status=Message.Delivery.PENDING if direction == Message.Direction.OUTBOUND else "",
        meta=meta or {},
        created_at=now,
    )
    return message


@transaction.atomic
def ticket_reply(
    *,
    ticket_id: int,
    actor: Any,
    body: str,
    status_after: str | None = None,
    is_automatic: bool = False,
    meta: dict[str, Any] | None = None,
) -> Message:
    """Answer the resident through the ticket's own channel (delivery happens after commit)."""
    body = (body or "").strip()
    if not body:
        raise DomainError("The reply is empty.", code="empty")
    ticket = _locked(ticket_id)
    if not is_automatic:
        _require_staff(actor, ticket)
    if ticket.status == Status.CLOSED:
        raise TransitionNotAllowed(ticket.status, ticket.status, action="reply")
    if status_after not in (None, "", Status.WAITING, Status.RESOLVED, Status.OPEN):
        raise DomainError("status_after must be 'waiting', 'resolved' or 'open'.", code="invalid_status")
    now = timezone.now()
    message = _add_message(
        ticket, direction=Message.Direction.OUTBOUND, actor=actor, body_text=body, is_automatic=is_automatic, meta=meta, now=now
    )
    fields = ["last_message_at"]
    ticket.last_message_at = now
    if ticket.first_response_at is None:
        ticket.first_response_at = now
        fields.append("first_response_at")
    if not is_automatic and ticket.assignee_id is None and actor.sees_all_departments:
        ticket.assignee = actor
        fields.append("assignee")
    if ticket.status == Status.NEW:
        fields += _set_status(ticket, Status.OPEN, actor=actor, action="reply", now=now)
    if status_after and status_after != ticket.status:
        if status_after == Status.RESOLVED and ticket.first_contact_resolution is None:
            ticket.first_contact_resolution = _is_first_contact(ticket)
            fields.append("first_contact_resolution")
        fields += _set_status(ticket, status_after, actor=actor, action="reply", now=now)
    _audit(ticket, actor=actor, kind="reply", to_value=str(message.pk), automatic=is_automatic)
    article = (meta or {}).get("article")
    if article:
        from contactcentre.intake.ports import feedback_on_commit

        feedback_on_commit("auto_answered" if is_automatic else "reply_article", ticket_id=ticket.pk,
                           article=str(article), actor_id=getattr(actor, "pk", None))
    _touch(ticket, fields, now=now)
    events.emit_ticket_event("message.created", ticket, message_id=message.pk, direction=message.direction)
    if {"assignee", "status"} & set(fields):
        _dispatch_work()
    # Imported here: outbound delivery depends on the channel adapters, not the other way round.
    from contactcentre.intake.outbound import deliver_on_commit

    deliver_on_commit(message)
    return message


def _is_first_contact(ticket: Ticket) -> bool:
    # Resolved at first contact: never escalated (even if since returned by the department) and
    # never handed back and forth with the resident. The audit log remembers both.
    return not ticket.events.filter(
        kind__in=["status", "created"], to_value__in=[Status.WAITING, Status.ESCALATED]
    ).exists()


@transaction.atomic
def ticket_note(*, ticket_id: int, actor: Any, body: str) -> Message:
    body = (body or "").strip()
    if not body:
        raise DomainError("The note is empty.", code="empty")
    ticket = _locked(ticket_id)
    _require_staff(actor, ticket)
    message = _add_message(ticket, direction=Message.Direction.NOTE, actor=actor, body_text=body, channel="internal")
    _audit(ticket, actor=actor, kind="note", to_value=str(message.pk))
    _touch(ticket, [])
    events.emit_ticket_event("message.created", ticket, message_id=message.pk, direction=message.direction)
    return message


@transaction.atomic
def ticket_escalate(*, ticket_id: int, actor: Any, department_code: str, note: str = "") -> Ticket:
    """Hand the ticket to a department's caseworkers, with a note for them."""
    ticket = _locked(ticket_id)
    _require_staff(actor, ticket)
    department = Department.objects.filter(code=department_code, is_active=True).first()
    if department is None:
        raise DomainError(f"Unknown department '{department_code}'.", code="invalid_department")
    if ticket.status == Status.ESCALATED and ticket.department_id == department.pk:
        raise TransitionNotAllowed(ticket.status, Status.ESCALATED, action="escalate")
    fields = []
    if ticket.status == Status.ESCALATED:
        # Re-escalation to another department: a department change, status stays.
        pass
    else:
        fields += _set_status(ticket, Status.ESCALATED, actor=actor, action="escalate")
    previous_code = ticket.department.code if ticket.department_id else ""
    if ticket.department_id != department.pk:
        _audit(ticket, actor=actor, kind="department", from_value=previous_code, to_value=department.code)
        _record_routing_correction(ticket, department.code, source="escalation")
    ticket.department = department
    ticket.escalated_at = timezone.now()
    # The department's caseworkers pick it up; the agent's hold ends with the hand-over.
    ticket.assignee = None
    fields += ["department", "escalated_at", "assignee"]
    if note.strip():
        _add_message(ticket, direction=Message.Direction.NOTE, actor=actor, body_text=note.strip(), channel="internal")
    _touch(ticket, fields)
    events.emit_ticket_event("ticket.updated", ticket, change="escalated")
    _dispatch_work()
    from contactcentre.departments.services import (
        department_escalation_notify_on_commit,  # cycle: imports us
    )

    department_escalation_notify_on_commit(ticket)
    return ticket


@transaction.atomic
def ticket_resolve(*, ticket_id: int, actor: Any, first_contact: bool | None = None, note: str = "") -> Ticket:
    ticket = _locked(ticket_id)
    _require_staff(actor, ticket)
    if ticket.status == Status.RESOLVED:
        raise TransitionNotAllowed(ticket.status, Status.RESOLVED, action="resolve")
    fields = _set_status(ticket, Status.RESOLVED, actor=actor, action="resolve")
    ticket.first_contact_resolution = _is_first_contact(ticket) if first_contact is None else first_contact
    fields.append("first_contact_resolution")
    if note.strip():
        _add_message(ticket, direction=Message.Direction.NOTE, actor=actor, body_text=note.strip(), channel="internal")
    _touch(ticket, fields)
    events.emit_ticket_event("ticket.updated", ticket, change="resolved")
    _dispatch_work()
    return ticket


@transaction.atomic
def ticket_reopen(*, ticket_id: int, actor: Any, reason: str = "") -> Ticket:
    ticket = _locked(ticket_id)
    _require_staff(actor, ticket)
    if ticket.status != Status.RESOLVED:
        raise TransitionNotAllowed(ticket.status, Status.OPEN, action="reopen")
    fields = _set_status(ticket, Status.OPEN, actor=actor, action="reopen")
    if reason.strip():
        _add_message(ticket, direction=Message.Direction.NOTE, actor=actor, body_text=reason.strip(), channel="internal")
    _touch(ticket, fields)
    events.emit_ticket_event("ticket.updated", ticket, change="reopened")
    return ticket


@transaction.atomic
def ticket_transition(*, ticket_id: int, to: str, actor: Any) -> Ticket:
    """A bare status change (waiting, close, ...), for the transitions without their own action."""
    ticket = _locked(ticket_id)
    _require_staff(actor, ticket)
    if to not in Status.values:
        raise DomainError(f"Unknown status '{to}'.", code="invalid_status")
    if to == ticket.status:
        raise TransitionNotAllowed(ticket.status, to)
    fields = _set_status(ticket, to, actor=actor)
    _touch(ticket, fields)
    events.emit_ticket_event("ticket.updated", ticket, change="status")
    _dispatch_work()
    return ticket


def _record_routing_correction(ticket: Ticket, department_code: str, *, source: str) -> None:
    """An agent sent the ticket somewhere else than the router did: the router learns from it."""
    decided = (ticket.routing or {}).get("department")
    if not ticket.routing or decided == department_code:
        return
    from contactcentre.intake.ports import feedback_on_commit

    feedback_on_commit("rerouted", ticket_id=ticket.pk, department=department_code, source=source)


# --- merge and tags (the agent console) ---------------------------------------------------------

@transaction.atomic
def ticket_merge(*, ticket_id: int, into_id: int, actor: Any, allow_different_contacts: bool = False) -> Ticket:
    """Merge a duplicate into another ticket: its messages *move* to the target (one thread,
    replies go out through the target's channel), the duplicate ends ``closed`` with
    ``merged_into`` set, and both tickets get an audit entry and a ``ticket.updated`` event.

    Refuses merging into itself (400), into or from a closed ticket (409), and tickets of two
    different residents unless asked explicitly (409: the target's replies would reach the
    other resident). A ticket outside the actor's scope is reported as missing (404).
    """
    if ticket_id == into_id:
        raise DomainError("A ticket cannot be merged into itself.", code="merge_into_self")
    # Both rows locked in id order, so two opposite merges cannot deadlock.
    locked = {t.pk: t for t in Ticket.objects.select_for_update().filter(pk__in=[ticket_id, into_id]).order_by("pk")}
    if ticket_id not in locked or into_id not in locked:
        raise NotFound(f"Ticket {ticket_id if ticket_id not in locked else into_id} does not exist.")
    source, target = locked[ticket_id], locked[into_id]
    _require_staff(actor, source)
    _require_staff(actor, target)
    if source.merged_into_id is not None or source.status == Status.CLOSED:
        raise TransitionNotAllowed(source.status, Status.CLOSED, action="merge")
    if target.status == Status.CLOSED:
        raise ConflictError(f"Ticket {target.reference} is closed: merge into an open ticket.", code="merge_target_closed")
    if (source.contact_id and target.contact_id and source.contact_id != target.contact_id
            and not allow_different_contacts):
        raise ConflictError("The tickets belong to different contacts.", code="different_contacts")
    now = timezone.now()
    moved = list(Message.objects.filter(ticket=source).values_list("pk", flat=True))
    Message.objects.filter(pk__in=moved).update(ticket=target)
    # The resident's live chat follows the conversation, so their next line lands on the target.
    from contactcentre.intake.chat.models import ChatSession

    ChatSession.objects.filter(ticket=source).update(ticket=target)

    source_fields = _set_status_forced_closed(source, actor=actor, now=now)
    source.merged_into = target
    source_fields.append("merged_into")
    _audit(source, actor=actor, kind="merged", to_value=target.reference, into=target.pk, messages=len(moved))
    _touch(source, source_fields, now=now)

    target_fields: list[str] = []
    tags = list(dict.fromkeys([*(target.tags or []), *(source.tags or [])]))[:20]
    if tags != (target.tags or []):
        target.tags = tags
        target_fields.append("tags")
    if source.last_message_at and source.last_message_at > target.last_message_at:
        target.last_message_at = source.last_message_at
        target_fields.append("last_message_at")
    if target.contact_id is None and source.contact_id is not None:
        target.contact_id = source.contact_id
        target_fields.append("contact")
    _audit(target, actor=actor, kind="merged_from", from_value=source.reference, source=source.pk, messages=len(moved))
    _touch(target, target_fields, now=now)
    events.emit_ticket_event("ticket.updated", source, change="merged", merged_into=target.reference)
    events.emit_ticket_event("ticket.updated", target, change="merged_from", merged_from=source.reference)
    _dispatch_work()
    return target


def _set_status_forced_closed(ticket: Ticket, *, actor: Any, now: datetime) -> list[str]:
    # A merged duplicate closes from any active status: the case lives on in the target, so the
    # resolved-before-closed rule (for the resident's case) does not apply to the duplicate.
    previous = ticket.status
    ticket.status = Status.CLOSED
    ticket.closed_at = now
    _audit(ticket, actor=actor, kind="status", from_value=previous, to_value=Status.CLOSED, action="merge")
    return ["status", "closed_at"]


TAG_MAX_COUNT = 20
TAG_MAX_LENGTH = 40


def tags_normalise(values: Iterable[Any]) -> list[str]:
    """Lower-case slugs (Swedish letters kept), in order, without duplicates; invalid ones refused."""
    from django.utils.text import slugify

    tags: list[str] = []
    for value in values:
        if not isinstance(value, str):
            raise DomainError("Tags are strings.", code="invalid_tag")
        tag = slugify(value.strip(), allow_unicode=True)
        if not tag:
            raise DomainError(f"'{value}' is not a usable tag.", code="invalid_tag")
        if len(tag) > TAG_MAX_LENGTH:
            raise DomainError(f"Tags are at most {TAG_MAX_LENGTH} characters.", code="invalid_tag")
        if tag not in tags:
            tags.append(tag)
    return tags


@transaction.atomic
def ticket_tags_update(*, ticket_id: int, add: Iterable[Any] = (), remove: Iterable[Any] = (), actor: Any) -> Ticket:
    """Add and remove tags (normalised); at most 20 per ticket. Nothing is written when the
    request is invalid or changes nothing."""
    add_tags, remove_tags = tags_normalise(add), tags_normalise(remove)
    ticket = _locked(ticket_id)
    _require_staff(actor, ticket)
    current = list(ticket.tags or [])
    tags = [t for t in current if t not in remove_tags]
    tags += [t for t in add_tags if t not in tags and t not in remove_tags]
    if len(tags) > TAG_MAX_COUNT:
        raise DomainError(f"A ticket has at most {TAG_MAX_COUNT} tags.", code="too_many_tags")
    if tags == current:
        return ticket
    ticket.tags = tags
    _audit(ticket, actor=actor, kind="tags", from_value=",".join(current), to_value=",".join(tags),
           added=[t for t in tags if t not in current], removed=[t for t in current if t not in tags])
    _touch(ticket, ["tags"])
    events.emit_ticket_event("ticket.updated", ticket, change="tags", tags=tags)
    return ticket


def _dispatch_work() -> None:
    # Capacity or waiting work changed: offer the next item after commit (contactcentre.workdist).
    from contactcentre.workdist.hooks import workdist_dispatch_on_commit

    workdist_dispatch_on_commit()
