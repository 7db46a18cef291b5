"""Resident web chat: every change to a chat session happens here.

Each function guards, locks the session row, writes with ``update_fields``, audits on the
ticket, and notifies after commit: staff through durable ``chat.*`` live events (agents resync
them), the resident through the session's channel-layer group (their widget reloads the
transcript on reconnect, so an at-most-once frame is never the only copy).

Lock order is always chat session, then ticket (``intake_receive``/``ticket_claim`` lock the
ticket after us), so two chat actions cannot deadlock each other.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from contactcentre.intake.base import InboundMessage
from contactcentre.intake.services import intake_receive
from contactcentre.tickets import events
from contactcentre.tickets import services as ticket_services
from contactcentre.tickets.contacts import contact_find_or_create
from contactcentre.tickets.errors import ConflictError, DomainError, NotFound, NotPermitted
from contactcentre.tickets.models import Message, Ticket, TicketEvent
from contactcentre.workdist.hooks import workdist_dispatch_on_commit

from . import frames
from .availability import chat_availability
from .models import ChatSession
from .ratelimit import rate_allow

log = logging.getLogger(__name__)
State = ChatSession.State
CLIENT_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
LANGUAGES = ("sv", "en", "fi")
EMAIL_REPLY_TAG = "svar-via-epost"
# Typed requests for a person: hand over without making the resident find the button.
HUMAN_RE = re.compile(
    r"\b(människa|manniska|handläggare|handlaggare|person|agent|human|ihminen|ihmisen|asiakaspalvelija|"
    r"virkailija|prata med någon|talk to someone)\b",
    re.IGNORECASE,
)


class RateLimited(DomainError):
    status_code = 429
    code = "rate_limited"


class ChatNotWaiting(ConflictError):
    code = "chat_not_waiting"


def _setting(name: str, default: Any) -> Any:
    return getattr(settings, name, default)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def chat_group(session_id: int) -> str:
    return f"chat.{session_id}"


def _notify_resident(session_id: int, frame: dict[str, Any]) -> None:
    groups = [chat_group(session_id)]
    transaction.on_commit(lambda: events.broadcast(groups, frame))


def _chat_payload(session: ChatSession, ticket: Ticket | None = None) -> dict[str, Any]:
    ticket = ticket or session.ticket
    return {
        "session_id": session.pk,
        "state": session.state,
        "ticket": ticket.reference if ticket else None,
        "ticket_id": ticket.pk if ticket else None,
        "language": session.language,
        "subject": (ticket.subject[:120] if ticket else ""),
        "waiting_since": session.waiting_since.isoformat() if session.waiting_since else None,
        "agent": session.accepted_by.get_username() if session.accepted_by_id else None,
    }


def _locked(session_id: int) -> ChatSession:
    try:
        # No joins under the lock (PostgreSQL re-reads only the locked row after a wait).
        return ChatSession.objects.select_for_update().get(pk=session_id)
    except ChatSession.DoesNotExist as exc:
        raise NotFound("No such chat.") from exc


def _audit(session: ChatSession, kind: str, *, actor: Any = None, **data: Any) -> None:
    if session.ticket_id:
        TicketEvent.objects.create(
            ticket_id=session.ticket_id,
            actor=actor if getattr(actor, "pk", None) else None,
            kind=kind,
            to_value=session.state,
            data={"session_id": session.pk, **data},
        )


# --- opening a session ---------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class ChatOpened:
    session: ChatSession
    token: str | None  # only for a new session: the resident's browser keeps it
    resumed: bool


def _resumable(session: ChatSession, now: datetime) -> bool:
    idle = timedelta(hours=_setting("CHAT_SESSION_IDLE_HOURS", 24))
    return session.state != State.ENDED and session.last_seen_at > now - idle


def chat_session_open(
    *, token: str | None, ip: str | None, language: str = "sv", name: str = "", now: datetime | None = None
) -> ChatOpened:
    """Resume the session the token proves, or start a new one.

    An unknown, expired or forged token never fails loudly and never reveals whether it
    matched anything: the resident simply gets a fresh session (and a new token).
    """
    now = now or timezone.now()
    language = language if language in LANGUAGES else "sv"
    if token and isinstance(token, str) and 20 <= len(token) <= 100:
        session = ChatSession.objects.filter(token_hash=token_hash(token)).first()
        if session is not None and _resumable(session, now):
            ChatSession.objects.filter(pk=session.pk).update(last_seen_at=now)
            return ChatOpened(session=session, token=None, resumed=True)
    if ip and not rate_allow(key=f"sessions:{ip}", limit=_setting("CHAT_RATE_SESSIONS_PER_HOUR", 10), window_s=3600):
        raise RateLimited("Too many new chats from this address; try again later.")
    new_token = secrets.token_urlsafe(32)
    session = ChatSession.objects.create(
        token_hash=token_hash(new_token),
        language=language,
        resident_name=(name or "").strip()[:200],
        client_ip=ip or None,
        created_at=now,
        last_seen_at=now,
    )
    return ChatOpened(session=session, token=new_token, resumed=False)


def chat_session_seen(*, session_id: int) -> None:
    ChatSession.objects.filter(pk=session_id).update(last_seen_at=timezone.now())


# --- the resident writes ----------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class HandoverResult:
    state: str
    reason: str = ""  # "closed" / "no_agent" when offline


@dataclass(frozen=True, slots=True)
class ChatReceived:
    message_id: int
    ticket_id: int
    duplicate: bool
    # What the resident is offered next: "feedback" (buttons under the bot's answer),
    # "handover" (a "talk to a person" button), or "" (an agent is on it).
    prompt: str = ""
    handover: HandoverResult | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def chat_message_receive(
    *, session_id: int, text: str, client_id: str = "", ip: str | None = None
) -> ChatReceived:
    """Store one resident message on the session's ticket (opening it on the first message)."""
    text = (text or "").strip()
    if not text:
        raise DomainError("The message is empty.", code="empty")
    if len(text) > _setting("CHAT_MAX_MESSAGE_CHARS", 2000):
        raise DomainError("The message is too long.", code="too_long")
    if client_id and not CLIENT_ID_RE.match(client_id):
        raise DomainError("Invalid message id.", code="invalid")
    if ip and not rate_allow(key=f"messages:{ip}", limit=_setting("CHAT_RATE_MESSAGES_PER_MINUTE", 20), window_s=60):
        raise RateLimited("You are sending messages too fast.")

    with transaction.atomic():
        session = _locked(session_id)
        if session.state == State.ENDED:
            raise ConflictError("This chat has ended.", code="chat_ended")
        ticket = Ticket.objects.filter(pk=session.ticket_id).only("reference").first() if session.ticket_id else None
        result = intake_receive(
            InboundMessage(
                channel="chat",
                body_text=text,
                sender_name=session.resident_name,
                sender_email=session.resident_email if session.reply_by_email else "",
                language=session.language,
                # The session proves the conversation is theirs; the id makes a resend harmless.
                external_id=f"chat:{session.pk}:{client_id or uuid.uuid4().hex}",
                thread_reference=ticket.reference if ticket else "",
                thread_verified=True,
                meta={"chat_session": session.pk, "client_id": client_id},
            )
        )
        if result.duplicate:
            return ChatReceived(message_id=result.message.pk, ticket_id=result.ticket.pk, duplicate=True)
        fields = ["last_seen_at"]
        session.last_seen_at = timezone.now()
        if session.ticket_id != result.ticket.pk:
            # First message, or the old ticket was closed and intake opened a follow-up.
            session.ticket_id = result.ticket.pk
            fields.append("ticket")
        auto = None
        if result.created and result.outcome is not None and result.outcome.action == "answer":
            auto = (
                Message.objects.filter(ticket_id=result.ticket.pk, direction=Message.Direction.OUTBOUND, is_automatic=True)
                .order_by("-id")
                .first()
            )
        if auto is not None:
            session.feedback_message_id = auto.pk
            fields.append("feedback_message_id")
        session.save(update_fields=fields)
        _notify_resident(session.pk, frames.message_frame(result.message))

        prompt = ""
        handover = None
        if session.state in (State.BOT, State.OFFLINE):
            if auto is not None:
                prompt = "feedback"
            elif session.state == State.BOT and HUMAN_RE.search(text):
                handover = _handover(session)
            elif session.state == State.BOT:
                prompt = "handover"
        return ChatReceived(
            message_id=result.message.pk, ticket_id=result.ticket.pk, duplicate=False, prompt=prompt, handover=handover,
            extra={"message_id": auto.pk} if auto is not None else {},
        )


@transaction.atomic
def chat_feedback_record(*, session_id: int, message_id: int, helpful: bool) -> HandoverResult | None:
    """The resident's answer to "Did this answer your question?" on the bot's message."""
    session = _locked(session_id)
    if not session.ticket_id or session.feedback_message_id != message_id:
        raise ConflictError("No answer is waiting for feedback.", code="no_feedback_pending")
    message = Message.objects.filter(pk=message_id, ticket_id=session.ticket_id).first()
    if message is None:
        raise NotFound("No such message.")
    article = (message.meta or {}).get("article") or ""
    session.feedback_message_id = None
    session.save(update_fields=["feedback_message_id"])
    _audit(session, "chat_feedback", helpful=helpful, article=article, message_id=message_id)
    if article:
        _article_usage(article, "helpful_yes" if helpful else "helpful_no")
    _notify_resident(session.pk, {"type": "feedback", "message_id": message_id, "helpful": helpful})
    if helpful:
        _resolve_by_bot(session.ticket_id)
        return None
    return _handover(session)


def _article_usage(slug: str, event: str) -> None:
    try:
        from knowledge.services import article_usage_record
    except ImportError:
        return
    try:
        with transaction.atomic():
            article_usage_record(slug=slug, event=event)
    except Exception:  # noqa: BLE001 - statistics must never cost the resident their chat
        log.warning("article usage %s for %s not recorded", event, slug, exc_info=True)


def _resolve_by_bot(ticket_id: int) -> None:
    """The automatic answer helped: the ticket is resolved at first contact, unless a person
    has already taken it on."""
    ticket = Ticket.objects.select_for_update().get(pk=ticket_id)
    if ticket.assignee_id is not None or Ticket.Status.RESOLVED not in Ticket.ALLOWED_TRANSITIONS[ticket.status]:
        return
    now = timezone.now()
    previous = ticket.status
    ticket.status = Ticket.Status.RESOLVED
    ticket.resolved_at = now
    ticket.first_contact_resolution = True
    ticket.version += 1
    ticket.updated_at = now
    ticket.save(update_fields=["status", "resolved_at", "first_contact_resolution", "version", "updated_at"])
    TicketEvent.objects.create(ticket=ticket, kind="status", from_value=previous, to_value=ticket.status,
                               data={"action": "chat_answer_helpful"})
    events.emit_ticket_event("ticket.updated", ticket, change="resolved")


def _reopen_if_resolved(ticket_id: int) -> Ticket:
    """A resident who said the bot helped may still ask for a person: the ticket is live again."""
    ticket = Ticket.objects.select_for_update().get(pk=ticket_id)
    if ticket.status != Ticket.Status.RESOLVED:
        return ticket
    ticket.status = Ticket.Status.OPEN
    ticket.resolved_at = None
    ticket.first_contact_resolution = None
    ticket.version += 1
    ticket.updated_at = timezone.now()
    ticket.save(update_fields=["status", "resolved_at", "first_contact_resolution", "version", "updated_at"])
    TicketEvent.objects.create(ticket=ticket, kind="status", from_value=Ticket.Status.RESOLVED,
                               to_value=ticket.status, data={"action": "chat_handover"})
    events.emit_ticket_event("ticket.updated", ticket, change="reopened")
    return ticket


@transaction.atomic
def chat_handover_request(*, session_id: int, now: datetime | None = None) -> HandoverResult:
    """The resident wants a person: queue the chat for agents, or offer an e-mail answer."""
    return _handover(_locked(session_id), now=now)


def _handover(session: ChatSession, *, now: datetime | None = None) -> HandoverResult:
    """Caller holds the session lock."""
    if session.state in (State.WAITING, State.WITH_AGENT):
        return HandoverResult(state=session.state)
    if session.state == State.ENDED:
        raise ConflictError("This chat has ended.", code="chat_ended")
    if not session.ticket_id:
        raise DomainError("Write your question first.", code="ask_first")
    now = now or timezone.now()
    availability = chat_availability(now=now)
    if session.feedback_message_id:
        session.feedback_message_id = None
    if not availability.available:
        session.state = State.OFFLINE
        session.offline_reason = availability.reason
        session.save(update_fields=["state", "offline_reason", "feedback_message_id"])
        _audit(session, "chat_offline", reason=availability.reason)
        _notify_resident(session.pk, frames.state_frame(session))
        return HandoverResult(state=session.state, reason=availability.reason)
    session.state = State.WAITING
    session.waiting_since = now
    session.offline_reason = ""
    session.save(update_fields=["state", "waiting_since", "offline_reason", "feedback_message_id"])
    _audit(session, "chat_waiting")
    ticket = _reopen_if_resolved(session.ticket_id)
    events.emit_event("chat.waiting", _chat_payload(session, ticket), groups=[events.STAFF_GROUP])
    workdist_dispatch_on_commit()
    _notify_resident(session.pk, frames.state_frame(session))
    return HandoverResult(state=session.state)


@transaction.atomic
def chat_email_reply_request(*, session_id: int, email: str, name: str = "") -> ChatSession:
    """The resident takes the e-mail answer instead of waiting: the ticket stays, marked so."""
    email = (email or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError as exc:
        raise DomainError("Enter a valid e-mail address.", code="invalid_email") from exc
    session = _locked(session_id)
    if not session.ticket_id:
        raise DomainError("Write your question first.", code="ask_first")
    was_waiting = session.state in (State.BOT, State.WAITING)
    session.resident_email = email
    session.resident_name = (name or session.resident_name).strip()[:200]
    session.reply_by_email = True
    fields = ["resident_email", "resident_name", "reply_by_email"]
    if was_waiting:
        # Out of the agents' chat queue: the answer now comes by e-mail, from the ticket queue.
        session.state = State.OFFLINE
        session.offline_reason = session.offline_reason or "resident_choice"
        fields += ["state", "offline_reason"]
    session.save(update_fields=fields)
    _audit(session, "chat_email_reply")

    ticket = Ticket.objects.select_for_update().get(pk=session.ticket_id)
    ticket_fields = []
    if ticket.contact_id is None:
        contact = contact_find_or_create(name=session.resident_name, email=email, language=session.language)
        if contact is not None:
            ticket.contact = contact
            ticket_fields.append("contact")
    if EMAIL_REPLY_TAG not in (ticket.tags or []):
        ticket.tags = [*(ticket.tags or []), EMAIL_REPLY_TAG]
        ticket_fields.append("tags")
    ticket.version += 1
    ticket.updated_at = timezone.now()
    ticket.save(update_fields=[*ticket_fields, "version", "updated_at"])
    events.emit_ticket_event("ticket.updated", ticket, change="reply_by_email")
    if was_waiting:
        events.emit_event("chat.offline", _chat_payload(session, ticket), groups=[events.STAFF_GROUP])
    _notify_resident(session.pk, frames.state_frame(session))
    return session


# --- agents ---------------------------------------------------------------------------------

def _require_agent(actor: Any) -> None:
    # Chats are the contact centre's: caseworkers answer escalations, not the live queue.
    if not getattr(actor, "is_staff_member", False) or not actor.sees_all_departments:
        raise NotPermitted("Only contact-centre agents may take chats.")


@transaction.atomic
def chat_accept(*, session_id: int, actor: Any) -> ChatSession:
    """Take a waiting chat. Race-safe: under the row lock exactly one of two agents wins."""
    _require_agent(actor)
    session = _locked(session_id)
    if session.state == State.WITH_AGENT and session.accepted_by_id == actor.pk:
        return session
    if session.state != State.WAITING:
        raise ChatNotWaiting("This chat is not waiting any more (another agent took it, or it ended).")
    now = timezone.now()
    session.state = State.WITH_AGENT
    session.accepted_by = actor
    session.accepted_at = now
    session.save(update_fields=["state", "accepted_by", "accepted_at"])
    _audit(session, "chat_accepted", actor=actor)
    ticket = Ticket.objects.only("assignee_id").get(pk=session.ticket_id)
    if ticket.assignee_id is None:
        ticket_services.ticket_claim(ticket_id=ticket.pk, actor=actor)
    elif ticket.assignee_id != actor.pk:
        ticket_services.ticket_assign(ticket_id=ticket.pk, assignee_id=actor.pk, actor=actor)
    ticket = Ticket.objects.get(pk=session.ticket_id)
    events.emit_event("chat.accepted", _chat_payload(session, ticket), groups=[events.STAFF_GROUP])
    _notify_resident(session.pk, frames.state_frame(session))
    return session


@transaction.atomic
def chat_end(*, session_id: int, actor: Any = None) -> ChatSession:
    """End the chat (the resident closes it, or the agent does). The ticket is not resolved:
    that remains the agent's decision."""
    if actor is not None:
        _require_agent(actor)
    session = _locked(session_id)
    if session.state == State.ENDED:
        return session
    session.state = State.ENDED
    session.ended_at = timezone.now()
    session.save(update_fields=["state", "ended_at"])
    _audit(session, "chat_ended", actor=actor, by="agent" if actor is not None else "resident")
    if session.ticket_id:
        ticket = Ticket.objects.get(pk=session.ticket_id)
        events.emit_event("chat.ended", _chat_payload(session, ticket), groups=[events.STAFF_GROUP])
    workdist_dispatch_on_commit()
    _notify_resident(session.pk, frames.state_frame(session))
    return session


def chat_typing_target(*, session_id: int, actor: Any) -> dict[str, Any] | None:
    """Whether this member of staff may show "typing…" to the resident, and as whom."""
    if not getattr(actor, "is_staff_member", False) or not actor.sees_all_departments:
        return None
    session = ChatSession.objects.filter(pk=session_id, state=State.WITH_AGENT).only("pk", "ticket_id").first()
    if session is None:
        return None
    return {"group": chat_group(session.pk), "name": frames.agent_display_name(actor), "ticket_id": session.ticket_id}
