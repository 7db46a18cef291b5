"""The one intake service every channel feeds.

``intake_receive`` finds or creates the contact, threads the message into its ticket or opens a
new one, is idempotent on the channel's external id, asks the router for a decision, saves, and
broadcasts after commit.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from contactcentre.commitments.services import commitments_apply
from contactcentre.complaints.services import complaint_register_if_flagged
from contactcentre.departments.services import department_escalation_notify_on_commit
from contactcentre.observability.metrics import intake_observed
from contactcentre.tickets import events
from contactcentre.tickets.contacts import contact_find_or_create
from contactcentre.tickets.errors import DomainError
from contactcentre.tickets.html import sanitise_html
from contactcentre.tickets.identifiers import normalise_phone
from contactcentre.tickets.models import (
    Attachment,
    Channel,
    Department,
    Message,
    Ticket,
    TicketEvent,
)
from contactcentre.tickets.services import NewTicket, reference_reserve, ticket_create, ticket_reply
from contactcentre.workdist.hooks import workdist_dispatch_on_commit

from .base import InboundMessage
from .ports import RoutingOutcome, RoutingRequest, feedback_on_commit, get_router

log = logging.getLogger(__name__)
Status = Ticket.Status
INTAKE_CHANNELS = {Channel.WEB, Channel.EMAIL, Channel.PHONE, Channel.CHAT, Channel.OPEN311}
# Channels where the router's "answer" is sent to the resident at once (chat asks first, phone
# only shows the agent a suggestion: the router already returns "agent" for those).
AUTO_ANSWER_CHANNELS = {Channel.WEB, Channel.EMAIL, Channel.OPEN311, Channel.CHAT}


@dataclass(frozen=True, slots=True)
class IntakeResult:
    ticket: Ticket
    message: Message
    created: bool  # a new ticket was opened
    duplicate: bool = False  # the same external id was delivered before; nothing was stored
    held: bool = False  # it quoted another person's ticket and waits for an agent to confirm
    outcome: RoutingOutcome | None = None


def intake_receive(inbound: InboundMessage) -> IntakeResult:
    result = _receive(inbound)
    intake_observed(channel=inbound.channel, created=result.created, duplicate=result.duplicate, held=result.held)
    return result


def _receive(inbound: InboundMessage) -> IntakeResult:
    if inbound.channel not in INTAKE_CHANNELS:
        raise DomainError(f"Unknown channel '{inbound.channel}'.", code="invalid_channel")
    if not (inbound.body_text.strip() or inbound.subject.strip() or inbound.attachments):
        raise DomainError("The message is empty.", code="empty")

    if inbound.external_id:
        existing = _existing(inbound)
        if existing is not None:
            return existing

    candidate = _thread_candidate(inbound)
    outcome: RoutingOutcome | None = None
    reference = ""
    if candidate is None or candidate.status == Status.CLOSED:
        # Routing is CPU work: done before the transaction so no lock is held meanwhile. So is
        # the reference: this contact certainly opens a ticket, and taking the number inside the
        # transaction would queue every concurrent intake behind this one's commit.
        outcome = _route(inbound)
        reference = reference_reserve(now=inbound.received_at)
    try:
        with transaction.atomic():
            return _store(inbound, candidate=candidate, outcome=outcome, reference=reference)
    except IntegrityError:
        # A concurrent delivery of the same external id won the race: report theirs.
        if inbound.external_id:
            existing = _existing(inbound)
            if existing is not None:
                return existing
        raise


def _existing(inbound: InboundMessage) -> IntakeResult | None:
    message = (
        Message.objects.select_related("ticket")
        .filter(channel=inbound.channel, external_id=inbound.external_id)
        .first()
    )
    if message is None:
        return None
    return IntakeResult(ticket=message.ticket, message=message, created=False, duplicate=True)


def _thread_candidate(inbound: InboundMessage) -> Ticket | None:
    ticket = None
    if inbound.thread_external_ids:
        message = (
            Message.objects.select_related("ticket")
            .filter(external_id__in=list(inbound.thread_external_ids)[:50])
            .order_by("-id")
            .first()
        )
        if message is not None:
            ticket = message.ticket
    if ticket is None and inbound.thread_reference:
        ticket = Ticket.objects.filter(reference=inbound.thread_reference.strip().upper()).first()
    return _follow_merges(ticket)


def _follow_merges(ticket: Ticket | None) -> Ticket | None:
    """A reply to a merged duplicate belongs in the ticket it was merged into (a few hops at
    most; the bound guards against a cycle written by hand in the database)."""
    for _ in range(5):
        if ticket is None or ticket.merged_into_id is None:
            return ticket
        ticket = Ticket.objects.filter(pk=ticket.merged_into_id).first() or ticket
    return ticket


def _route(inbound: InboundMessage) -> RoutingOutcome | None:
    if not inbound.route:
        return None
    request = RoutingRequest(
        text=inbound.body_text,
        channel=inbound.channel,
        language=inbound.language,
        subject=inbound.subject,
        sender_email=inbound.sender_email,
        sender_phone=inbound.sender_phone,
    )
    try:
        return get_router()(request)
    except Exception:
        # A router fault must never lose an enquiry: the contact centre handles it by hand.
        log.exception("routing failed; the ticket goes to the contact centre")
        return None


def _store(inbound: InboundMessage, *, candidate: Ticket | None, outcome: RoutingOutcome | None,
           reference: str = "") -> IntakeResult:
    now = inbound.received_at or timezone.now()
    contact = contact_find_or_create(
        name=inbound.sender_name,
        email=inbound.sender_email,
        phone=inbound.sender_phone,
        organisation_number=inbound.organisation_number,
        language=(outcome.language if outcome else inbound.language) or "",
        business=bool(outcome and outcome.business),
    )
    held = False
    if candidate is not None:
        same_person = inbound.thread_verified or (contact is not None and candidate.contact_id == contact.pk)
        if same_person and candidate.status != Status.CLOSED:
            return _thread_into(candidate, inbound, contact_id=contact.pk if contact else None, now=now)
        if not same_person:
            # Identity-safe threading: another sender quoting this ticket never sees or joins it.
            held = True
            if outcome is None:
                outcome = _route(inbound)

    ticket = _open_ticket(inbound, contact_id=contact.pk if contact else None, outcome=outcome, now=now,
                          held_for=candidate if held else None,
                          follow_up_of=candidate if (candidate and not held) else None, reference=reference)
    message = _message_create(ticket, inbound, now=now)
    events.emit_ticket_event("ticket.created", ticket, held=held)
    complaint_register_if_flagged(ticket, now=now)  # the complaint's own workflow (contactcentre.complaints)
    workdist_dispatch_on_commit()
    department_escalation_notify_on_commit(ticket)  # no-op unless created escalated
    if outcome and outcome.suggestions:
        feedback_on_commit("suggested", ticket_id=ticket.pk, articles=list(outcome.suggestions))
    if (outcome and outcome.action == "answer" and outcome.answer_text and not held and inbound.auto_reply
            and inbound.channel in AUTO_ANSWER_CHANNELS):
        _auto_answer(ticket, outcome)
        ticket.refresh_from_db()
    return IntakeResult(ticket=ticket, message=message, created=True, held=held, outcome=outcome)


def _open_ticket(
    inbound: InboundMessage,
    *,
    contact_id: int | None,
    outcome: RoutingOutcome | None,
    now,
    held_for: Ticket | None,
    follow_up_of: Ticket | None,
    reference: str = "",
) -> Ticket:
    department = None
    code = inbound.department_code or (outcome.department if outcome else None)
    if code:
        department = Department.objects.filter(code=code, is_active=True).first()
    status = Status.NEW
    if outcome and outcome.action == "escalate" and department is not None and not held_for:
        status = Status.ESCALATED
    subject = inbound.subject.strip() or _subject_from(inbound.body_text)
    routing = outcome.as_dict() if outcome else {}
    ticket = ticket_create(
        data=NewTicket(
            channel=inbound.channel,
            subject=subject,
            contact_id=contact_id,
            language=(outcome.language if outcome else None) or inbound.language or "sv",
            department=department,
            category=outcome.category if outcome else "",
            priority=(outcome.priority if outcome and outcome.priority else Ticket.Priority.NORMAL),
            is_complaint=bool(outcome and outcome.complaint),
            routing=routing,
            status=status,
            held_for_id=held_for.pk if held_for else None,
            reference=reference,
        ),
        now=now,
    )
    due_fields = commitments_apply(ticket, now=now, fresh=True)
    if due_fields:
        ticket.save(update_fields=due_fields)
    if held_for is not None:
        TicketEvent.objects.create(ticket=ticket, kind="thread_held", to_value=held_for.reference,
                                   data={"reason": "sender differs from the ticket's contact"})
    if follow_up_of is not None:
        TicketEvent.objects.create(ticket=ticket, kind="follow_up_of", to_value=follow_up_of.reference)
    return ticket


def _thread_into(ticket: Ticket, inbound: InboundMessage, *, contact_id: int | None, now) -> IntakeResult:
    ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
    message = _message_create(ticket, inbound, now=now)
    fields = ["last_message_at", "version", "updated_at"]
    ticket.last_message_at = now
    if ticket.status in (Status.WAITING, Status.RESOLVED):
        previous = ticket.status
        ticket.status = Status.OPEN
        fields.append("status")
        if previous == Status.RESOLVED:
            ticket.resolved_at = None
            ticket.first_contact_resolution = None
            fields += ["resolved_at", "first_contact_resolution"]
        TicketEvent.objects.create(ticket=ticket, kind="status", from_value=previous, to_value=Status.OPEN,
                                   data={"action": "resident_replied"})
    ticket.version += 1
    ticket.updated_at = timezone.now()
    fields += commitments_apply(ticket, now=ticket.updated_at)  # the resident answered: the clock runs again
    ticket.save(update_fields=fields)
    events.emit_ticket_event("message.created", ticket, message_id=message.pk, direction=message.direction)
    return IntakeResult(ticket=ticket, message=message, created=False)


def _message_create(ticket: Ticket, inbound: InboundMessage, *, now) -> Message:
    sender = inbound.sender_name or inbound.sender_email or inbound.sender_phone
    meta = dict(inbound.meta)
    if inbound.sender_phone:
        try:
            meta.setdefault("phone", normalise_phone(inbound.sender_phone))
        except ValidationError:
            meta.setdefault("phone_raw", inbound.sender_phone)
    message = Message.objects.create(
        ticket=ticket,
        direction=Message.Direction.INBOUND,
        channel=inbound.channel,
        sender=sender[:300],
        subject=inbound.subject[:300],
        body_text=inbound.body_text,
        body_html=sanitise_html(inbound.body_html),
        external_id=inbound.external_id[:300],
        meta=meta,
        created_at=now,
    )
    for item in inbound.attachments:
        attachment = Attachment(
            message=message,
            filename=(item.filename or "bilaga")[:255],
            content_type=(item.content_type or "application/octet-stream")[:150],
            size=len(item.content),
            sha256=hashlib.sha256(item.content).hexdigest(),
            created_at=now,
        )
        attachment.file.save(str(attachment.id), ContentFile(item.content), save=False)
        attachment.save()
    return message


def _auto_answer(ticket: Ticket, outcome: RoutingOutcome) -> None:
    body = outcome.answer_text.strip()
    if outcome.answer_title:
        body = f"{outcome.answer_title}\n\n{body}"
    status_after = Status.OPEN if ticket.channel == Channel.CHAT else Status.RESOLVED
    ticket_reply(
        ticket_id=ticket.pk,
        actor=None,
        body=body,
        status_after=status_after,
        is_automatic=True,
        meta={"article": outcome.article, "auto_answer": True},
    )


def _subject_from(text: str) -> str:
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    return first[:80] + ("…" if len(first) > 80 else "")
