"""What the resident's widget is sent: text and first names only, never internal notes, staff
usernames, routing decisions or other residents' data."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from contactcentre.tickets.models import Message

from .availability import chat_availability
from .models import ChatSession

TRANSCRIPT_LIMIT = 300


def agent_display_name(user: Any) -> str:
    # First name only: residents need to know a person joined, not who exactly.
    return (getattr(user, "first_name", "") or "").strip() or "Handläggare"


def message_dict(message: Message) -> dict[str, Any]:
    if message.direction == Message.Direction.INBOUND:
        sender, name = "resident", ""
    elif message.is_automatic:
        sender, name = "bot", ""
    else:
        sender, name = "agent", agent_display_name(message.author) if message.author_id else "Handläggare"
    meta = message.meta or {}
    return {
        "id": message.pk,
        "from": sender,
        "name": name,
        "text": message.body_text,
        "ts": message.created_at.isoformat(),
        "article": meta.get("article") if message.is_automatic else None,
        "client_id": meta.get("client_id") or None,
    }


def message_frame(message: Message) -> dict[str, Any]:
    return {"type": "message", "message": message_dict(message)}


def state_frame(session: ChatSession) -> dict[str, Any]:
    agent = agent_display_name(session.accepted_by) if session.accepted_by_id else None
    return {
        "type": "state",
        "state": session.state,
        "agent": agent if session.state == ChatSession.State.WITH_AGENT else None,
        "reason": session.offline_reason,
        "reply_by_email": session.reply_by_email,
        "email": session.resident_email if session.reply_by_email else "",
    }


def transcript(session: ChatSession) -> list[dict[str, Any]]:
    if not session.ticket_id:
        return []
    messages = (
        Message.objects.filter(ticket_id=session.ticket_id)
        .exclude(direction=Message.Direction.NOTE)
        .select_related("author")
        .order_by("-created_at", "-id")[:TRANSCRIPT_LIMIT]
    )
    return [message_dict(m) for m in reversed(list(messages))]


def session_frame(session: ChatSession, *, token: str | None, resumed: bool) -> dict[str, Any]:
    frame = state_frame(session) | {
        "type": "session",
        "resumed": resumed,
        "language": session.language,
        "feedback_message_id": session.feedback_message_id,
        "availability": chat_availability().as_dict(),
        "max_chars": getattr(settings, "CHAT_MAX_MESSAGE_CHARS", 2000),
        "transcript": transcript(session),
    }
    if token:
        frame["token"] = token
    return frame
