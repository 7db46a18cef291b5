"""The automatic receipt: "we received your message, your reference is ..., we answer within ...".

Queued by :func:`contactcentre.intake.mail.services.receipt_send_on_commit`; sent here by the
``receipt_send_task`` job, at most once, with the Message-ID fixed when it was queued.
"""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone

from contactcentre.commitments.services import commitment_working_days
from contactcentre.tickets.links import ticket_status_url
from contactcentre.tickets.models import Ticket, TicketEvent

from .models import AutoReply
from .outbound import subject_with_reference
from .parsing import clean_header_text

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


def receipt_send(*, receipt_id: int) -> str:
    """Send a queued receipt once. Raises on a temporary failure (the job retries)."""
    with transaction.atomic():
        receipt = AutoReply.objects.select_for_update().get(pk=receipt_id)
        if receipt.status != AutoReply.Status.PENDING:
            return "skipped"
    ticket = Ticket.objects.select_related("contact").get(pk=receipt.ticket_id)
    receipt_build(receipt=receipt, ticket=ticket).send()
    with transaction.atomic():
        AutoReply.objects.filter(pk=receipt_id).update(status=AutoReply.Status.SENT, sent_at=timezone.now(), error="")
        TicketEvent.objects.create(ticket=ticket, kind="receipt_sent", to_value=receipt.address,
                                   data={"message_id": receipt.message_id})
    return "sent"


@transaction.atomic
def receipt_failed(*, receipt_id: int, error: str) -> None:
    receipt = AutoReply.objects.select_for_update().get(pk=receipt_id)
    if receipt.status != AutoReply.Status.PENDING:
        return
    receipt.status = AutoReply.Status.FAILED
    receipt.error = error[:1000]
    receipt.save(update_fields=["status", "error"])
    if receipt.ticket_id:
        TicketEvent.objects.create(ticket_id=receipt.ticket_id, kind="receipt_failed", to_value=receipt.address,
                                   data={"reason": "send", "error": error[:500]})
