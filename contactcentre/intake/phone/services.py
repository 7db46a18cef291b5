"""The phone channel: CTI call events become call sessions, screen-pops and tickets.

Every event runs in one transaction: the call row is locked (events of one call are serialised),
the (call, event) pair is recorded (a replay is refused and stores nothing), and any ticket work
goes through the intake and ticket services. Live frames leave after commit.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from contactcentre.intake.base import InboundMessage
from contactcentre.intake.services import intake_receive
from contactcentre.tickets import events
from contactcentre.tickets.contacts import contact_find
from contactcentre.tickets.errors import ConflictError, DomainError
from contactcentre.tickets.identifiers import format_phone_national, normalise_phone
from contactcentre.tickets.models import Channel, Contact, Ticket, TicketEvent
from contactcentre.tickets.services import ticket_claim, ticket_resolve

from .models import CallEvent, CallSession

log = logging.getLogger(__name__)
User = get_user_model()
State = CallSession.State

RINGING, ANSWERED, ENDED, MISSED, VOICEMAIL = "call.ringing", "call.answered", "call.ended", "call.missed", "voicemail"
EVENT_TYPES = (RINGING, ANSWERED, ENDED, MISSED, VOICEMAIL)
CALLBACK_CATEGORY = "callback"
OPEN_TICKETS_IN_POP = 10
# Platforms deliver out of order; a late "answered" must not move an ended call back.
_STATE_RANK = {State.RINGING: 0, State.ANSWERED: 1, State.ENDED: 2, State.MISSED: 2, State.VOICEMAIL: 3}


class CallEventReplayed(ConflictError):
    code = "replayed"


@dataclass(frozen=True, slots=True)
class CallEventData:
    """One call event, as any telephony adapter (our CTI format, Twilio) sees it."""

    provider: str
    call_id: str
    event: str
    caller: str = ""
    called: str = ""
    agent_username: str = ""
    occurred_at: datetime | None = None
    summary: str = ""
    subject: str = ""
    outcome: str = ""
    resolved_during_call: bool = False
    ticket_reference: str = ""
    recording_url: str = ""
    transcript: str = ""
    duration_seconds: int | None = None
    payload: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CallEventResult:
    call: CallSession
    ticket: Ticket | None = None
    ticket_created: bool = False


def call_event_receive(*, data: CallEventData, now: datetime | None = None) -> CallEventResult:
    if data.event not in EVENT_TYPES:
        raise DomainError(f"Unknown call event '{data.event}'.", code="invalid_event")
    if not data.call_id.strip():
        raise DomainError("call_id is empty.", code="invalid_call_id")
    now = now or timezone.now()
    with transaction.atomic():
        call = _call_locked(data, now=now)
        _event_record(call, data, now=now)
        handler = _HANDLERS[data.event]
        return handler(call, data, now)


# --- steps -----------------------------------------------------------------------------------

def _call_locked(data: CallEventData, *, now: datetime) -> CallSession:
    call = CallSession.objects.select_for_update().filter(call_id=data.call_id).first()
    if call is not None:
        return call
    try:
        with transaction.atomic():
            return CallSession.objects.create(
                call_id=data.call_id, provider=data.provider, started_at=data.occurred_at or now, updated_at=now,
            )
    except IntegrityError:
        # Another event of the same call created it first (on PostgreSQL we waited for its commit).
        return CallSession.objects.select_for_update().get(call_id=data.call_id)


def _event_record(call: CallSession, data: CallEventData, *, now: datetime) -> None:
    if CallEvent.objects.filter(call=call, event=data.event).exists():
        raise CallEventReplayed(f"Event {data.event} of call {data.call_id} was already processed.")
    try:
        with transaction.atomic():
            CallEvent.objects.create(call=call, event=data.event, occurred_at=data.occurred_at or now,
                                     received_at=now, payload=data.payload)
    except IntegrityError as exc:
        # The unique constraint is the backstop for a delivery racing past the check above.
        raise CallEventReplayed(f"Event {data.event} of call {data.call_id} was already processed.") from exc


def _advance(call: CallSession, state: str) -> None:
    if _STATE_RANK[State(state)] >= _STATE_RANK[State(call.state)]:
        call.state = state


def _caller_e164(raw: str) -> str:
    try:
        return normalise_phone(raw) if raw else ""
    except ValidationError:
        # Withheld ("anonymous", "private") or garbage: the call is still recorded, unidentified.
        return ""


def _agent(username: str) -> Any:
    if not username:
        return None
    user = User.objects.filter(username=username, is_active=True).first()
    if user is None or not user.is_staff_member:
        log.warning("CTI event names unknown agent %r; ignored", username)
        return None
    return user


def _caller_update(call: CallSession, data: CallEventData) -> None:
    if data.caller and not call.caller_raw:
        call.caller_raw = data.caller[:64]
        call.caller_e164 = _caller_e164(data.caller)
    if data.called and not call.called_number:
        call.called_number = data.called[:64]


def _save(call: CallSession, now: datetime, fields: list[str]) -> None:
    call.updated_at = now
    call.save(update_fields=sorted({*fields, "updated_at"}))


# --- handlers --------------------------------------------------------------------------------

def _on_ringing(call: CallSession, data: CallEventData, now: datetime) -> CallEventResult:
    _caller_update(call, data)
    agent = _agent(data.agent_username)
    contact = contact_find(phone_e164=call.caller_e164) if call.caller_e164 else None
    call.contact = contact
    if agent is not None:
        call.agent = agent
    _advance(call, State.RINGING)
    _save(call, now, ["caller_raw", "caller_e164", "called_number", "contact", "agent", "state"])
    payload = screen_pop_payload(call, contact=contact, agent=agent)
    groups = [events.user_group(agent.pk)] if agent is not None else [events.STAFF_GROUP]
    # Not durable: a screen-pop is useless once the call is over, and replaying it on resync
    # would pop old calls. The CallSession row is the record.
    events.emit_event("call.ringing", payload, groups=groups, durable=False)
    return CallEventResult(call=call)


def screen_pop_payload(call: CallSession, *, contact: Contact | None, agent: Any) -> dict[str, Any]:
    open_tickets: list[dict[str, str]] = []
    if contact is not None:
        open_tickets = list(
            Ticket.objects.filter(contact=contact, status__in=Ticket.ACTIVE_STATUSES)
            .order_by("-id")
            .values("reference", "subject", "status")[:OPEN_TICKETS_IN_POP]
        )
    return {
        "call_id": call.call_id,
        "caller": call.caller_e164 or call.caller_raw,
        "caller_display": format_phone_national(call.caller_e164) if call.caller_e164 else (call.caller_raw or ""),
        "agent": agent.get_username() if agent is not None else None,
        "contact": {"id": contact.pk, "name": contact.name} if contact is not None else None,
        "open_tickets": open_tickets,
    }


def _on_answered(call: CallSession, data: CallEventData, now: datetime) -> CallEventResult:
    _caller_update(call, data)
    agent = _agent(data.agent_username)
    if agent is not None:
        call.agent = agent
    call.answered_at = call.answered_at or data.occurred_at or now
    _advance(call, State.ANSWERED)
    _save(call, now, ["caller_raw", "caller_e164", "called_number", "agent", "answered_at", "state"])
    events.emit_event("call.answered", {"call_id": call.call_id, "agent": agent.get_username() if agent else None},
                      groups=[events.STAFF_GROUP], durable=False)
    return CallEventResult(call=call)


def _on_ended(call: CallSession, data: CallEventData, now: datetime) -> CallEventResult:
    _caller_update(call, data)
    agent = _agent(data.agent_username) or call.agent
    if data.resolved_during_call and agent is None:
        # Resolution is an agent's act (and FCR is counted per agent): refuse rather than guess.
        raise DomainError("resolved_during_call needs the answering agent (agent on call.ended or call.answered).",
                          code="agent_required")
    call.agent = agent
    call.ended_at = data.occurred_at or now
    call.duration_seconds = data.duration_seconds
    call.outcome = data.outcome[:100]
    call.resolved_during_call = data.resolved_during_call
    _advance(call, State.ENDED)
    ticket: Ticket | None = None
    created = False
    # A call with neither summary nor ticket (a wrong number, a hang-up) leaves only the call record.
    if data.summary.strip() or data.ticket_reference.strip():
        ticket, created = _call_on_ticket(call, data, agent=agent, now=now)
        call.ticket = ticket
    _save(call, now, ["caller_raw", "caller_e164", "called_number", "agent", "ended_at", "duration_seconds",
                      "outcome", "resolved_during_call", "state", "ticket"])
    events.emit_event(
        "call.ended",
        {"call_id": call.call_id, "agent": agent.get_username() if agent else None,
         "ticket": ticket.reference if ticket else None},
        groups=[events.STAFF_GROUP], durable=False,
    )
    return CallEventResult(call=call, ticket=ticket, ticket_created=created)


def _call_on_ticket(call: CallSession, data: CallEventData, *, agent: Any, now: datetime) -> tuple[Ticket, bool]:
    body = data.summary.strip() or "Telefonsamtal."
    if data.outcome:
        body += f"\n\nUtfall: {data.outcome}"
    reference = data.ticket_reference.strip().upper()
    result = intake_receive(InboundMessage(
        channel=Channel.PHONE,
        body_text=body,
        subject=data.subject.strip(),
        sender_name=call.contact.name if call.contact_id and call.contact else "",
        sender_phone=call.caller_e164,
        external_id=f"call:{call.call_id}:ended",
        received_at=call.ended_at,
        thread_reference=reference,
        # The answering agent chose the ticket while talking to the caller: that is the identity
        # check the e-mail channel cannot make, so the summary joins the ticket directly.
        thread_verified=bool(reference and agent is not None),
        meta=_message_meta(call, data, agent=agent),
        # An agent who resolved the call has decided; the router would only second-guess them.
        route=not data.resolved_during_call,
    ))
    ticket = result.ticket
    if agent is not None and not result.held:
        fresh = Ticket.objects.only("assignee_id", "status").get(pk=ticket.pk)
        if fresh.assignee_id is None and fresh.status in Ticket.ACTIVE_STATUSES:
            ticket_claim(ticket_id=ticket.pk, actor=agent)
        if data.resolved_during_call and fresh.status != Ticket.Status.CLOSED:
            # First-contact resolution only when this call opened the enquiry; resolving an older
            # ticket on a follow-up call is a resolution, but not at first contact.
            ticket = ticket_resolve(ticket_id=ticket.pk, actor=agent, first_contact=result.created)
    ticket.refresh_from_db()
    return ticket, result.created


def _message_meta(call: CallSession, data: CallEventData, *, agent: Any) -> dict[str, Any]:
    meta: dict[str, Any] = {"call_id": call.call_id, "call_event": data.event, "provider": call.provider}
    if agent is not None:
        meta["agent"] = agent.get_username()
    for key in ("outcome", "recording_url", "transcript"):
        if value := getattr(data, key):
            meta[key] = value
    if data.duration_seconds is not None:
        meta["duration_seconds"] = data.duration_seconds
    if data.event == ENDED:
        meta["resolved_during_call"] = data.resolved_during_call
    return meta


def _on_callback_needed(call: CallSession, data: CallEventData, now: datetime) -> CallEventResult:
    """call.missed and voicemail: the resident is owed a call back (återuppringning)."""
    _caller_update(call, data)
    _advance(call, State.VOICEMAIL if data.event == VOICEMAIL else State.MISSED)
    call.ended_at = call.ended_at or data.occurred_at or now
    if data.recording_url:
        call.recording_url = data.recording_url[:500]
    if data.duration_seconds is not None and call.duration_seconds is None:
        call.duration_seconds = data.duration_seconds
    fields = ["caller_raw", "caller_e164", "called_number", "state", "ended_at", "recording_url", "duration_seconds"]
    if call.contact_id is None and call.caller_e164:
        call.contact = contact_find(phone_e164=call.caller_e164)
        fields.append("contact")
    has_message = bool(data.recording_url or data.transcript.strip())
    if not call.caller_e164 and not has_message and call.ticket_id is None:
        # A withheld number that left no message: nobody to call back, nothing to read.
        _save(call, now, fields)
        return CallEventResult(call=call)

    thread_reference, verified = "", False
    if call.ticket_id is not None:
        # "missed" then "voicemail" for one call: one callback ticket, two messages.
        thread_reference, verified = call.ticket.reference, True  # type: ignore[union-attr]
    elif call.caller_e164:
        # A resident who tries three times is owed one call back, not three.
        pending = (Ticket.objects.filter(channel=Channel.PHONE, category=CALLBACK_CATEGORY,
                                         status__in=Ticket.ACTIVE_STATUSES, contact__phones__number=call.caller_e164)
                   .order_by("-id").values_list("reference", flat=True).first())
        thread_reference = pending or ""

    display = format_phone_national(call.caller_e164) if call.caller_e164 else "dolt nummer"
    when = timezone.localtime(call.ended_at).strftime("%Y-%m-%d %H:%M")
    if data.event == VOICEMAIL:
        body = data.transcript.strip() or "Röstmeddelande (ingen transkribering)."
        if data.recording_url:
            body += f"\n\nInspelning: {data.recording_url}"
        subject = f"Återuppringning: röstmeddelande från {display}"
    else:
        body = f"Missat samtal från {display} {when}. Ring upp invånaren."
        subject = f"Återuppringning: missat samtal från {display}"
    result = intake_receive(InboundMessage(
        channel=Channel.PHONE,
        body_text=body,
        subject=subject,
        sender_name=call.contact.name if call.contact_id and call.contact else "",
        sender_phone=call.caller_e164,
        external_id=f"call:{call.call_id}:{data.event}",
        received_at=data.occurred_at or now,
        thread_reference=thread_reference,
        thread_verified=verified,
        meta=_message_meta(call, data, agent=None) | {"callback": True},
        # A call back is the contact centre's own work: routing a missed call has nothing to read.
        route=False,
    ))
    ticket = result.ticket
    if result.created:
        ticket = callback_mark(ticket_id=ticket.pk, call_id=call.call_id, now=now)
    call.ticket = ticket
    fields.append("ticket")
    _save(call, now, fields)
    return CallEventResult(call=call, ticket=ticket, ticket_created=result.created)


def callback_mark(*, ticket_id: int, call_id: str, now: datetime) -> Ticket:
    """Make a ticket a callback: its category, priority and its own first-response due time."""
    ticket = Ticket.objects.select_for_update().get(pk=ticket_id)
    due = now + timedelta(hours=settings.PHONE_CALLBACK_DUE_HOURS)
    ticket.category = CALLBACK_CATEGORY
    ticket.priority = settings.PHONE_CALLBACK_PRIORITY
    ticket.first_response_due_at = due
    ticket.version += 1
    ticket.updated_at = now
    ticket.save(update_fields=["category", "priority", "first_response_due_at", "version", "updated_at"])
    TicketEvent.objects.create(ticket=ticket, kind="callback", to_value=due.isoformat(), data={"call_id": call_id})
    events.emit_ticket_event("ticket.updated", ticket, change="callback", first_response_due_at=due.isoformat())
    return ticket


_HANDLERS = {
    RINGING: _on_ringing,
    ANSWERED: _on_answered,
    ENDED: _on_ended,
    MISSED: _on_callback_needed,
    VOICEMAIL: _on_callback_needed,
}
