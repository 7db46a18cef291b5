"""Agents' replies to e-mail tickets leave as threaded e-mail, from a background job.

``deliver_email`` is the channel's deliverer (``settings.CONTACTCENTRE_OUTBOUND["email"]``); it
only enqueues. The task calls :func:`email_message_send`, which sends each Message once: the row
is the outbox (claimed under a lease, attempts counted, marked sent the moment the relay accepts),
and its Message-ID, fixed before the first attempt, is the idempotency key a retry resends.
"""

from __future__ import annotations

import logging
import re
import smtplib
from collections.abc import Callable
from datetime import timedelta
from email.utils import formataddr, make_msgid

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.utils import timezone
from prometheus_client import Counter

from contactcentre.tickets import events
from contactcentre.tickets.links import ticket_status_url
from contactcentre.tickets.models import Channel, Message, Ticket, TicketEvent

from .parsing import clean_header_text
from .services import ticket_reply_address

log = logging.getLogger(__name__)

OUTBOUND_FAILED = Counter("cc_mail_outbound_failed_total",
                          "Outbound mail given up on after its capped retries (or refused for good)", ["kind"])


def send_lease() -> timedelta:
    """Longer than any single SMTP attempt (EMAIL_TIMEOUT per round trip): a second worker that
    sees a live claim backs off; a claim left by a killed worker runs out and the sweep retries."""
    return timedelta(seconds=settings.EMAIL_SEND_LEASE_S)


def max_attempts() -> int:
    return settings.EMAIL_SEND_MAX_RETRIES + 1


def send_then_record(email: EmailMessage, record: Callable[[], None]) -> None:
    """Send one mail and call ``record`` as soon as the relay has accepted it (250 to DATA),
    before QUIT: a relay that stalls or drops the connection after accepting can no longer make
    us send it twice. What remains is the moment between that 250 and ``record``'s commit; a
    worker killed exactly then sends the mail again with the same Message-ID (the idempotency
    key receivers deduplicate on; see docs/security.md)."""
    connection = get_connection(fail_silently=False)
    connection.open()
    try:
        if connection.send_messages([email]) != 1:
            raise smtplib.SMTPException("the mail backend sent nothing")
        record()
    finally:
        try:
            connection.close()
        except Exception:  # noqa: BLE001 - the mail is accepted and recorded; QUIT does not matter
            log.info("closing the SMTP connection failed after a send", exc_info=True)


_REFERENCE_TAG = re.compile(r"\s*\[[A-Z]{2,10}-\d{4}-\d{4,}\]\s*")
_REPLY_PREFIX = re.compile(r"^\s*(?:(?:re|sv|vs|aw|fw|fwd|vb)\s*:\s*)+", re.IGNORECASE)


class PermanentDeliveryError(Exception):
    """Retrying cannot help (no address to write to): fail at once."""


def deliver_email(message_id: int) -> None:
    from contactcentre.ops.jobs import enqueue

    from .tasks import email_send_task

    # Runs after commit (contactcentre.intake.outbound); the pending Message is the record.
    enqueue(email_send_task, message_id)


# --- building ---------------------------------------------------------------------------------

def subject_with_reference(subject: str, reference: str, *, prefix: str = "Re: ") -> str:
    """``Re: <subject> [SOL-2026-000123]``; one line, whatever the resident's subject held."""
    base = _REPLY_PREFIX.sub("", _REFERENCE_TAG.sub(" ", clean_header_text(subject))).strip()
    return clean_header_text(f"{prefix}{base} [{reference}]" if base else f"[{reference}]")[:250]


def thread_message_ids(ticket: Ticket, *, before: Message | None = None) -> list[str]:
    """The ticket's e-mail Message-IDs, oldest first (our synthesised ids are no one's to quote)."""
    qs = Message.objects.filter(ticket=ticket, channel=Channel.EMAIL).exclude(external_id="")
    if before is not None:
        qs = qs.exclude(pk=before.pk).filter(created_at__lte=before.created_at)
    ids = [mid for mid in qs.order_by("created_at", "id").values_list("external_id", flat=True)
           if mid.startswith("<") and not mid.endswith("@contactcentre.invalid>")]
    return ids


def _last_inbound_id(ticket: Ticket, before: Message) -> str:
    mid = (
        Message.objects.filter(ticket=ticket, channel=Channel.EMAIL, direction=Message.Direction.INBOUND,
                               created_at__lte=before.created_at)
        .exclude(external_id="").order_by("-created_at", "-id").values_list("external_id", flat=True).first()
    )
    return mid if mid and not mid.endswith("@contactcentre.invalid>") else ""


def email_reply_build(*, message: Message, ticket: Ticket, to_name: str, to_address: str) -> EmailMessage:
    thread = thread_message_ids(ticket, before=message)
    in_reply_to = _last_inbound_id(ticket, message) or (thread[-1] if thread else "")
    headers = {"Message-ID": message.external_id}
    if in_reply_to:
        headers["In-Reply-To"] = in_reply_to
        # RFC 5322 3.6.4: the parent's references then the parent; the first and the last 19 fit.
        refs = list(dict.fromkeys([*thread, in_reply_to]))
        headers["References"] = " ".join(refs[:1] + refs[-19:] if len(refs) > 20 else refs)
    if message.is_automatic:
        headers["Auto-Submitted"] = "auto-replied"  # RFC 3834: other robots must not answer it
        headers["X-Auto-Response-Suppress"] = "All"
    body = (
        f"{message.body_text.rstrip()}\n\n-- \n"
        f"Ärende {ticket.reference} · {ticket_status_url(ticket)}\n"
        "Svara på detta meddelande om du vill lägga till något.\n"
    )
    return EmailMessage(
        subject=subject_with_reference(ticket.subject or message.subject, ticket.reference),
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        # Names come from residents' mail: formataddr quotes them and clean_header_text has
        # removed CR/LF, so a name can never start a header or add a recipient.
        to=[formataddr((to_name, to_address))],
        reply_to=[settings.CONTACT_CENTRE_EMAIL],
        headers=headers,
    )


# --- sending ----------------------------------------------------------------------------------

def _claim(message_id: int) -> Message | None:
    """Lock the row, skip if sent or claimed by a live attempt, fix the Message-ID, take the lease."""
    now = timezone.now()
    with transaction.atomic():
        message = Message.objects.select_for_update().get(pk=message_id)
        if message.delivery_status == Message.Delivery.SENT:
            return None
        state = dict(message.meta.get("email_out") or {})
        until = state.get("sending_until")
        if until and until > now.isoformat():
            return None
        if not message.external_id:
            message.external_id = make_msgid(domain=settings.EMAIL_MESSAGE_ID_DOMAIN)
        state.update(sending_until=(now + send_lease()).isoformat(), attempts=int(state.get("attempts", 0)) + 1)
        message.meta = {**message.meta, "email_out": state}
        message.save(update_fields=["external_id", "meta"])
        return message


def _release(message_id: int, *, sent: bool, error: str = "") -> None:
    with transaction.atomic():
        message = Message.objects.select_for_update().get(pk=message_id)
        state = dict(message.meta.get("email_out") or {})
        state.pop("sending_until", None)
        fields = ["meta"]
        if sent:
            state["sent_at"] = timezone.now().isoformat()
            message.delivery_status = Message.Delivery.SENT
            message.delivery_error = ""
            fields += ["delivery_status", "delivery_error"]
        elif error:
            state["last_error"] = error[:500]
        message.meta = {**message.meta, "email_out": state}
        message.save(update_fields=fields)


def email_message_send(*, message_id: int) -> str:
    """Send one outbound Message by e-mail, at most once. Raises on a temporary failure."""
    message = _claim(message_id)
    if message is None:
        return "skipped"
    ticket = Ticket.objects.select_related("contact").get(pk=message.ticket_id)
    recorded: list[bool] = []

    def record() -> None:
        _release(message_id, sent=True)
        recorded.append(True)

    try:
        to_name, to_address = ticket_reply_address(ticket)
        if not to_address:
            raise PermanentDeliveryError("Ärendet har ingen giltig e-postadress att svara till.")
        send_then_record(email_reply_build(message=message, ticket=ticket, to_name=to_name, to_address=to_address),
                         record)
    except PermanentDeliveryError as exc:
        _release(message_id, sent=False, error=str(exc))
        email_delivery_failed(message_id=message_id, error=str(exc))
        return "failed"
    except Exception as exc:
        if recorded:
            raise  # sent and recorded; nothing to undo
        _release(message_id, sent=False, error=f"{type(exc).__name__}: {exc}")
        raise
    return "sent"


@transaction.atomic
def email_delivery_failed(*, message_id: int, error: str) -> None:
    """Final failure: visible on the ticket (status, error, audit, live event). Idempotent."""
    message = Message.objects.select_for_update().get(pk=message_id)
    if message.delivery_status in (Message.Delivery.SENT, Message.Delivery.FAILED):
        return
    message.delivery_status = Message.Delivery.FAILED
    message.delivery_error = error[:1000]
    message.save(update_fields=["delivery_status", "delivery_error"])
    ticket = Ticket.objects.get(pk=message.ticket_id)
    TicketEvent.objects.create(ticket=ticket, kind="delivery_failed", to_value=str(message.pk),
                               data={"reason": "send", "error": error[:500]})
    events.emit_ticket_event("ticket.updated", ticket, change="delivery_failed", message_id=message.pk)
    OUTBOUND_FAILED.labels(kind="reply").inc()
    log.error("e-mail for message %s on %s failed for good: %s", message.pk, ticket.reference, error)
