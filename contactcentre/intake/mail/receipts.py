"""The automatic receipt: "we received your message, your reference is ..., we answer within ...".

Queued by :func:`contactcentre.intake.mail.services.receipt_send_on_commit`; sent here by the
``receipt_send_task`` job, once: the AutoReply row is the outbox (a lease while a send runs,
attempts counted, marked sent the moment the relay accepts), and the Message-ID fixed when it
was queued is the idempotency key a retry resends.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone

from contactcentre.commitments.services import commitment_working_days
from contactcentre.tickets.links import ticket_status_url
from contactcentre.tickets.models import Ticket, TicketEvent

from .models import AutoReply
from .outbound import OUTBOUND_FAILED, send_lease, send_then_record, subject_with_reference
from .parsing import clean_header_text

log = logging.getLogger(__name__)

_TEXTS: dict[str, dict[str, str]] = {
    "sv": {
        "subject": "Vi har tagit emot ditt meddelande",
        "body": (
            "Hej{name}!\n\n"
            "Vi har tagit emot ditt meddelande och ditt ärendenummer är {reference}. "
            "Vi svarar inom {days} arbetsdagar.\n\n"
            "Här kan du se hur det går med ärendet och svara oss:\n{url}\n\n"
            "Vill du lägga till något kan du också svara på det här e-postmeddelandet; "
            "behåll ärendenumret i ämnesraden.\n\n"
            "Det här är ett automatiskt meddelande.\n\nMed vänliga hälsningar\nKontaktcenter\n"
        ),
    },
    "en": {
        "subject": "We have received your message",
        "body": (
            "Hello{name},\n\n"
            "We have received your message and your reference number is {reference}. "
            "We will answer within {days} working days.\n\n"
            "You can follow your case and reply to us here:\n{url}\n\n"
            "To add something, you can also reply to this e-mail; please keep the reference "
            "number in the subject line.\n\n"
            "This is an automatic message.\n\nKind regards\nThe contact centre\n"
        ),
    },
    "fi": {
        "subject": "Olemme vastaanottaneet viestisi",
        "body": (
            "Hei{name}!\n\n"
            "Olemme vastaanottaneet viestisi, ja asianumerosi on {reference}. "
            "Vastaamme {days} arkipäivän kuluessa.\n\n"
            "Voit seurata asiaasi ja vastata meille täällä:\n{url}\n\n"
            "Voit myös vastata tähän sähköpostiin; säilytä asianumero otsikkorivillä.\n\n"
            "Tämä on automaattinen viesti.\n\nYstävällisin terveisin\nAsiakaspalvelu\n"
        ),
    },
}


def receipt_build(*, receipt: AutoReply, ticket: Ticket) -> EmailMessage:
    texts = _TEXTS.get(ticket.language, _TEXTS["sv"])
    name = clean_header_text(ticket.contact.name if ticket.contact else "")
    body = texts["body"].format(
        name=f" {name}" if name else "",
        reference=ticket.reference,
        # The promise of the ticket's service commitment; the setting where none applies.
        days=commitment_working_days(ticket) or settings.EMAIL_RECEIPT_ANSWER_DAYS,
        url=ticket_status_url(ticket),
    )
    headers = {
        "Message-ID": receipt.message_id,
        "Auto-Submitted": "auto-replied",  # RFC 3834
        "X-Auto-Response-Suppress": "All",  # and Exchange out-of-office replies stay away
    }
    if receipt.in_reply_to:
        headers["In-Reply-To"] = receipt.in_reply_to
        headers["References"] = receipt.in_reply_to
    return EmailMessage(
        subject=subject_with_reference(f"{texts['subject']}: {ticket.subject}", ticket.reference, prefix=""),
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[receipt.address],
        reply_to=[settings.CONTACT_CENTRE_EMAIL],
        headers=headers,
    )


def _receipt_claim(receipt_id: int) -> AutoReply | None:
    """Lock the row; skip it unless pending and free; take the lease and count the attempt."""
    now = timezone.now()
    with transaction.atomic():
        receipt = AutoReply.objects.select_for_update().get(pk=receipt_id)
        if receipt.status != AutoReply.Status.PENDING:
            return None
        if receipt.sending_until and receipt.sending_until > now:
            return None  # a live attempt elsewhere (a redelivered job, the sweep)
        receipt.sending_until = now + send_lease()
        receipt.attempts += 1
        receipt.save(update_fields=["sending_until", "attempts"])
        return receipt


def receipt_send(*, receipt_id: int) -> str:
    """Send a queued receipt once. Raises on a temporary failure (the job retries)."""
    receipt = _receipt_claim(receipt_id)
    if receipt is None:
        return "skipped"
    ticket = Ticket.objects.select_related("contact").get(pk=receipt.ticket_id)

    def record() -> None:
        with transaction.atomic():
            AutoReply.objects.filter(pk=receipt_id).update(status=AutoReply.Status.SENT, sent_at=timezone.now(),
                                                           error="", sending_until=None)
            TicketEvent.objects.create(ticket=ticket, kind="receipt_sent", to_value=receipt.address,
                                       data={"message_id": receipt.message_id, "attempts": receipt.attempts})

    try:
        send_then_record(receipt_build(receipt=receipt, ticket=ticket), record)
    except Exception as exc:
        AutoReply.objects.filter(pk=receipt_id, status=AutoReply.Status.PENDING).update(
            sending_until=None, error=f"{type(exc).__name__}: {exc}"[:1000])
        raise
    return "sent"


@transaction.atomic
def receipt_failed(*, receipt_id: int, error: str) -> None:
    receipt = AutoReply.objects.select_for_update().get(pk=receipt_id)
    if receipt.status != AutoReply.Status.PENDING:
        return
    receipt.status = AutoReply.Status.FAILED
    receipt.error = error[:1000]
    receipt.sending_until = None
    receipt.save(update_fields=["status", "error", "sending_until"])
    if receipt.ticket_id:
        TicketEvent.objects.create(ticket_id=receipt.ticket_id, kind="receipt_failed", to_value=receipt.address,
                                   data={"reason": "send", "error": error[:500], "attempts": receipt.attempts})
    OUTBOUND_FAILED.labels(kind="receipt").inc()
    log.error("receipt %s to %s failed for good after %d attempts: %s", receipt.pk, receipt.address,
              receipt.attempts, error)
