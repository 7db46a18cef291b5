"""Deliverer for agents' (and the bot's) replies on chat tickets.

Called after the reply's transaction commits (``contactcentre.intake.outbound``). The reply is
already on the ticket, which is the transcript: the live frame is a convenience, and a resident
who was away sees it when their widget reconnects. When the resident asked for an e-mail
answer, agents' replies also go out by e-mail.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import EmailMessage

from contactcentre.tickets.events import broadcast
from contactcentre.tickets.models import Message

from . import frames
from .models import ChatSession
from .services import chat_group

log = logging.getLogger(__name__)


def deliver_chat(message_id: int) -> None:
    message = Message.objects.select_related("author", "ticket").filter(pk=message_id).first()
    if message is None or message.direction != Message.Direction.OUTBOUND:
        return
    session = ChatSession.objects.filter(ticket_id=message.ticket_id).order_by("-id").first()
    if session is None:
        _mark(message, Message.Delivery.FAILED, "No chat session for this ticket.")
        return
    live = broadcast([chat_group(session.pk)], frames.message_frame(message))
    if session.reply_by_email and session.resident_email and not message.is_automatic:
        try:
            _send_email(message, session.resident_email)
        except Exception as exc:  # noqa: BLE001 - a failed send is shown on the ticket
            log.warning("chat reply %s could not be e-mailed", message_id, exc_info=True)
            _mark(message, Message.Delivery.FAILED, f"E-mail: {exc}"[:500])
            return
        _mark(message, Message.Delivery.SENT, "")
        return
    # Without a live link the reply still waits in the transcript for the resident's return.
    _mark(message, Message.Delivery.SENT if live else Message.Delivery.PENDING, "")


def _send_email(message: Message, address: str) -> None:
    ticket = message.ticket
    body = (
        f"{message.body_text}\n\n"
        f"-- \nÄrende {ticket.reference}. Svara på detta e-postmeddelande om du vill fortsätta.\n"
    )
    reply_to = getattr(settings, "CHAT_EMAIL_REPLY_TO", "") or settings.DEFAULT_FROM_EMAIL
    EmailMessage(
        subject=f"[{ticket.reference}] {ticket.subject}"[:250],
        body=body,
        to=[address],
        reply_to=[reply_to],
    ).send()


def _mark(message: Message, status: str, error: str) -> None:
    Message.objects.filter(pk=message.pk).update(delivery_status=status, delivery_error=error)
