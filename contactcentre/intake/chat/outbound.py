"""Deliverer for agents' (and the bot's) replies on chat tickets.

Called after the reply's transaction commits (``contactcentre.intake.outbound``). The reply is
already on the ticket, which is the transcript: the live frame is a convenience, and a resident
who was away sees it when their widget reconnects. When the resident asked for an e-mail
answer, agents' replies also go out by e-mail.
"""

from __future__ import annotations

import logging

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
        # The resident left and asked for an e-mail answer: the e-mail channel's deliverer sends
        # it once, with retries, threading headers, and a failure visible on the ticket.
        from contactcentre.intake.mail.outbound import deliver_email

        deliver_email(message.pk)
        return
    # Without a live link the reply still waits in the transcript for the resident's return.
    _mark(message, Message.Delivery.SENT if live else Message.Delivery.PENDING, "")


def _mark(message: Message, status: str, error: str) -> None:
    Message.objects.filter(pk=message.pk).update(delivery_status=status, delivery_error=error)
