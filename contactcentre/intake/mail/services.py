"""The e-mail channel's services: raw mail in -> ticket, bounces, automatic replies.

Every transport (SMTP listener, HTTP pipe, IMAP poller) calls :func:`mail_receive` with the raw
bytes; it stores the mail (through the one intake service), keeps it raw in quarantine (see
``quarantine.py``), or raises, so the transport can answer "try again later" instead of losing it.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from email.utils import make_msgid
from typing import Literal

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import DataError, InterfaceError, OperationalError, transaction
from django.utils import timezone

from contactcentre.intake.base import InboundMessage
from contactcentre.intake.services import IntakeResult, intake_receive
from contactcentre.ops.jobs import enqueue_on_commit
from contactcentre.tickets import events
from contactcentre.tickets.errors import DomainError
from contactcentre.tickets.models import Channel, Department, Message, Ticket, TicketEvent

from .models import AutoReply, QuarantinedMail
from .parsing import Bounce, ParsedMail, clean_header_text, mail_parse, mail_structure_problem
from .quarantine import mail_quarantine

log = logging.getLogger(__name__)

Kind = Literal["stored", "duplicate", "bounce", "bounce_unmatched", "ignored", "quarantined"]


@dataclass(frozen=True, slots=True)
class MailReceived:
    kind: Kind
    intake: IntakeResult | None = None
    ticket: Ticket | None = None
    receipt: bool = False  # an automatic receipt was queued
    no_auto_reply: tuple[str, ...] = ()
    quarantine_id: int | None = None  # kind "quarantined": the QuarantinedMail row

    @property
    def reference(self) -> str:
        return self.ticket.reference if self.ticket else ""


# --- addresses ------------------------------------------------------------------------------

def mail_normalise_address(address: str) -> str:
    return (address or "").strip().strip("<>").strip().lower()


def mail_recipient_department(address: str) -> str | None:
    """The department code a recipient pins, "" for the city's shared address, None if not ours."""
    address = mail_normalise_address(address)
    if not address:
        return None
    code = Department.objects.filter(email__iexact=address, is_active=True).values_list("code", flat=True).first()
    if code:
        return code
    return "" if address in settings.INTAKE_EMAIL_ADDRESSES else None


def mail_recipient_accepted(address: str) -> bool:
    return mail_recipient_department(address) is not None


def _department_for(addresses: Sequence[str]) -> str:
    for address in addresses:
        code = mail_recipient_department(address)
        if code:
            return code
    return ""


def _own_addresses() -> set[str]:
    own = {*settings.INTAKE_EMAIL_ADDRESSES, mail_normalise_address(settings.CONTACT_CENTRE_EMAIL)}
    own.update(a.lower() for a in Department.objects.exclude(email="").values_list("email", flat=True))
    return own


def reference_in_subject(subject: str) -> str:
    """``[SOL-2026-000123]`` anywhere in the subject (the prefix is the configured one)."""
    prefix = re.escape(settings.TICKET_REFERENCE_PREFIX)
    match = re.search(rf"\[\s*({prefix}-\d{{4}}-\d{{4,}})\s*\]", subject or "", re.IGNORECASE)
    return match.group(1).upper() if match else ""


# --- receiving ------------------------------------------------------------------------------

def mail_receive(*, raw: bytes, envelope_from: str | None = None, recipients: Sequence[str] = (),
                 enforce_limits: bool = True, quarantine: bool = True) -> MailReceived:
    """Store one raw mail as a ticket message, or keep it in quarantine (with an alert).

    Raises only when nothing was stored: a transient database fault (the transport answers
    451 and the sender retries), or an empty message (DomainError, a permanent 554). Mail over
    a structural limit, mail the parser fails on and mail whose storing fails for good are
    quarantined, so the sender gets "250" for what we durably hold and nothing behind it waits.
    ``quarantine=False`` (re-processing a quarantined mail) raises instead of quarantining again.
    """
    problem = mail_structure_problem(
        raw, max_parts=settings.EMAIL_INTAKE_MAX_PARTS, max_depth=settings.EMAIL_INTAKE_MAX_DEPTH,
        max_headers=settings.EMAIL_INTAKE_MAX_HEADERS,
    ) if enforce_limits else None
    if problem is not None:
        if not quarantine:
            raise MailUnprocessable(problem.reason, problem.detail)
        return _quarantined(raw, problem.reason, problem.detail, envelope_from, recipients)
    try:
        parsed = mail_parse(raw, envelope_from=envelope_from)
    except Exception as exc:  # noqa: BLE001 - RecursionError, a parser bug: the same every time
        if not quarantine:
            raise
        log.exception("inbound mail could not be parsed")
        return _quarantined(raw, QuarantinedMail.Reason.PARSE_ERROR, f"{type(exc).__name__}: {exc}",
                            envelope_from, recipients)
    try:
        return _parsed_receive(parsed, envelope_from=envelope_from, recipients=recipients)
    except (DomainError, OperationalError, InterfaceError):
        raise  # empty (permanent, 554) or the database is away (temporary, 451)
    except Exception as exc:
        # A value the database refuses is permanent at once; any other failure may pass (a full
        # disk, a cache away), so the sender retries, until the same bytes have failed
        # EMAIL_INTAKE_POISON_AFTER times: then it is a poison message and is held instead.
        if not quarantine or not (isinstance(exc, DataError) or _poison(raw)):
            raise
        log.exception("inbound mail %s could not be stored", parsed.message_id)
        return _quarantined(raw, QuarantinedMail.Reason.STORE_ERROR, f"{type(exc).__name__}: {exc}",
                            envelope_from, recipients)


def _poison(raw: bytes) -> bool:
    """Count this failure of these bytes (for a day); True once they have failed often enough."""
    key = f"mail:store-failures:{hashlib.sha256(raw).hexdigest()}"
    try:
        cache.add(key, 0, timeout=86400)
        failures = cache.incr(key)
    except Exception:  # noqa: BLE001 - without a counter the sender keeps retrying (451)
        log.warning("could not count store failures", exc_info=True)
        return False
    return failures >= settings.EMAIL_INTAKE_POISON_AFTER


class MailUnprocessable(Exception):
    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason, self.detail = reason, detail


def _quarantined(raw: bytes, reason: str, detail: str, envelope_from: str | None,
                 recipients: Sequence[str]) -> MailReceived:
    item = mail_quarantine(raw=raw, reason=reason, detail=detail, envelope_from=envelope_from, recipients=recipients)
    return MailReceived(kind="quarantined", quarantine_id=item.pk)


def mail_quarantine_reprocess(*, quarantined_id: int, enforce_limits: bool = True) -> MailReceived:
    """Run a quarantined mail through intake again (after a fix, or with the limits lifted for
    a mail an operator has looked at). On success the row records the ticket; on failure it
    stays in quarantine with the new reason, and the error is raised to the operator."""
    item = QuarantinedMail.objects.get(pk=quarantined_id)
    if item.status != QuarantinedMail.Status.QUARANTINED:
        raise DomainError("Det här meddelandet är redan behandlat.", code="not_quarantined")
    if item.reason == QuarantinedMail.Reason.TOO_LARGE:
        raise DomainError("Bara rubrikerna finns här; hela meddelandet ligger kvar (flaggat) i brevlådan.",
                          code="header_only")
    try:
        received = mail_receive(raw=bytes(item.raw), envelope_from=item.envelope_from or None,
                                recipients=list(item.envelope_to), enforce_limits=enforce_limits, quarantine=False)
    except MailUnprocessable as exc:
        QuarantinedMail.objects.filter(pk=item.pk).update(reason=exc.reason, detail=exc.detail[:2000])
        raise
    except (DomainError, OperationalError, InterfaceError):
        raise
    except Exception as exc:
        QuarantinedMail.objects.filter(pk=item.pk).update(detail=f"{type(exc).__name__}: {exc}"[:2000])
        raise
    QuarantinedMail.objects.filter(pk=item.pk).update(
        status=QuarantinedMail.Status.REPROCESSED, reprocessed_at=timezone.now(),
        ticket=received.ticket,
    )
    log.info("quarantined mail %s re-processed: %s %s", item.pk, received.kind, received.reference)
    return received


def _parsed_receive(parsed: ParsedMail, *, envelope_from: str | None, recipients: Sequence[str]) -> MailReceived:
    if parsed.bounce is not None:
        return _bounce_receive(parsed)

    reasons = list(parsed.no_auto_reply_reasons)
    if parsed.from_address in _own_addresses():
        reasons.append("own-address")  # our own mail came back: answering it would loop
    if not reasons and parsed.from_address and not auto_reply_allowed(parsed.from_address):
        reasons.append("rate-limited")
    inbound = InboundMessage(
        channel=Channel.EMAIL,
        subject=parsed.subject,
        body_text=parsed.body_text,
        body_html=parsed.body_html,
        sender_name=parsed.from_name,
        sender_email=parsed.from_address if _valid_email(parsed.from_address) else "",
        external_id=parsed.message_id,
        thread_reference=reference_in_subject(parsed.subject),
        thread_external_ids=parsed.thread_ids,
        attachments=parsed.attachments,
        meta={"email": _meta(parsed, envelope_from, recipients, reasons)},
        # The envelope says where it was delivered; IMAP and the HTTP pipe only have the headers.
        department_code=_department_for(recipients or parsed.to),
        auto_reply=not reasons,
    )
    result = intake_receive(inbound)
    if result.duplicate:
        return MailReceived(kind="duplicate", intake=result, ticket=result.ticket)
    receipt = False
    answered = bool(
        result.created and not result.held and not reasons
        and result.outcome and result.outcome.action == "answer" and result.outcome.answer_text
    )
    if answered:
        # The knowledge-base answer is the automatic reply; it counts towards the sender's limit.
        AutoReply.objects.create(address=parsed.from_address, kind=AutoReply.Kind.ANSWER, ticket=result.ticket,
                                 in_reply_to=parsed.message_id, status=AutoReply.Status.SENT)
    elif result.created and not result.held and not reasons:
        # ``reasons`` is empty: the sender was found neither ours nor over the limit just above.
        receipt = receipt_send_on_commit(result.ticket, in_reply_to=parsed.message_id, address=parsed.from_address,
                                         fresh=True, answered=False, sender_checked=True)
    return MailReceived(kind="stored", intake=result, ticket=result.ticket, receipt=receipt, no_auto_reply=tuple(reasons))


def _valid_email(address: str) -> bool:
    try:
        validate_email(address)
    except ValidationError:
        return False
    return True


def _meta(parsed: ParsedMail, envelope_from: str | None, recipients: Sequence[str], reasons: list[str]) -> dict:
    return {
        "message_id": parsed.message_id,
        "from": parsed.from_address,
        "to": list(parsed.to)[:20],
        "envelope_from": mail_normalise_address(envelope_from) if envelope_from else None,
        "envelope_to": [mail_normalise_address(r) for r in recipients][:20],
        "in_reply_to": list(parsed.in_reply_to)[:5],
        # The console shows body_text[:fold_at] and folds the quoted history and signature.
        "fold_at": parsed.fold_at,
        "no_auto_reply": reasons,
        "headers": parsed.headers,
    }


# --- bounces --------------------------------------------------------------------------------

def _bounce_receive(parsed: ParsedMail) -> MailReceived:
    bounce = parsed.bounce
    assert bounce is not None
    if not bounce.is_failure:
        log.info("delivery status notification (%s) for %s ignored", bounce.action, bounce.original_message_ids)
        return MailReceived(kind="ignored", no_auto_reply=parsed.no_auto_reply_reasons)
    ticket = mail_bounce_record(bounce=bounce, bounce_message_id=parsed.message_id)
    if ticket is None:
        # Not about a mail of ours (or the original was not quoted): never a new ticket.
        log.warning("bounce %s matches no outbound mail (originals %s)", parsed.message_id, bounce.original_message_ids)
        return MailReceived(kind="bounce_unmatched", no_auto_reply=parsed.no_auto_reply_reasons)
    return MailReceived(kind="bounce", ticket=ticket, no_auto_reply=parsed.no_auto_reply_reasons)


@transaction.atomic
def mail_bounce_record(*, bounce: Bounce, bounce_message_id: str) -> Ticket | None:
    """Mark the outbound mail a DSN concerns as failed, on its ticket. Idempotent per DSN."""
    if not bounce.original_message_ids:
        return None
    error = f"Studsade ({bounce.status or 'okänd status'}): {bounce.diagnostic or bounce.recipient}".strip()[:1000]
    message = (
        Message.objects.select_for_update()
        .filter(channel=Channel.EMAIL, direction=Message.Direction.OUTBOUND,
                external_id__in=list(bounce.original_message_ids)[:50])
        .first()
    )
    if message is not None:
        ticket = Ticket.objects.get(pk=message.ticket_id)
        seen = message.meta.get("bounces", [])
        if any(b.get("id") == bounce_message_id for b in seen):
            return ticket
        message.delivery_status = Message.Delivery.FAILED
        message.delivery_error = error
        message.meta = {**message.meta, "bounces": [*seen, _bounce_data(bounce, bounce_message_id)]}
        message.save(update_fields=["delivery_status", "delivery_error", "meta"])
        TicketEvent.objects.create(ticket=ticket, kind="delivery_failed", to_value=str(message.pk),
                                   data={"reason": "bounce", **_bounce_data(bounce, bounce_message_id)})
        events.emit_ticket_event("ticket.updated", ticket, change="delivery_failed", message_id=message.pk)
        return ticket
    receipt = AutoReply.objects.select_for_update().filter(message_id__in=list(bounce.original_message_ids)[:50]).first()
    if receipt is None:
        return None
    if receipt.status != AutoReply.Status.FAILED:
        receipt.status = AutoReply.Status.FAILED
        receipt.error = error
        receipt.save(update_fields=["status", "error"])
        if receipt.ticket_id:
            TicketEvent.objects.create(ticket_id=receipt.ticket_id, kind="receipt_failed", to_value=receipt.address,
                                       data={"reason": "bounce", **_bounce_data(bounce, bounce_message_id)})
    return Ticket.objects.filter(pk=receipt.ticket_id).first()


def _bounce_data(bounce: Bounce, bounce_message_id: str) -> dict:
    return {"id": bounce_message_id, "status": bounce.status, "recipient": bounce.recipient,
            "diagnostic": bounce.diagnostic[:500]}


# --- automatic replies ------------------------------------------------------------------------

def auto_reply_allowed(address: str, *, now=None) -> bool:  # type: ignore[no-untyped-def]
    """At most EMAIL_AUTO_REPLY_MAX_PER_HOUR automatic mails per sender: two robots answering
    each other stop after a handful instead of filling both mailboxes."""
    since = (now or timezone.now()) - timedelta(hours=1)
    sent = AutoReply.objects.filter(address=mail_normalise_address(address), created_at__gte=since).count()
    return sent < settings.EMAIL_AUTO_REPLY_MAX_PER_HOUR


def ticket_reply_address(ticket: Ticket) -> tuple[str, str]:
    """(name, address) to write to: the address the resident last wrote from, else the contact's."""
    last = (
        Message.objects.filter(ticket=ticket, direction=Message.Direction.INBOUND, channel=Channel.EMAIL)
        .order_by("-created_at", "-id").values_list("meta", flat=True).first()
    )
    address = ((last or {}).get("email") or {}).get("from", "")
    contact = ticket.contact
    if not address and contact is not None:
        address = contact.emails.order_by("id").values_list("address", flat=True).first() or ""
    address = mail_normalise_address(address)
    if not address or not _valid_email(address):
        return "", ""
    return clean_header_text(contact.name if contact else "")[:200], address


def receipt_send_on_commit(ticket: Ticket, *, in_reply_to: str = "", address: str = "", fresh: bool = False,
                           answered: bool | None = None, sender_checked: bool = False) -> bool:
    """Queue the automatic receipt for a new ticket (e-mail or web form) after commit.

    Self-guarding, so any intake may call it for every ticket it opened: nothing is sent for a
    held ticket, a ticket already answered by e-mail automatically, a contact without an e-mail
    address, or a sender over the automatic-reply limit. Returns whether a receipt was queued.

    What the caller already knows spares lookups on the intake's hot path: ``address`` (the
    address the resident wrote from or typed), ``fresh`` (the caller opened the ticket in this
    request, so no receipt can be queued for it yet) and ``answered=False`` (no automatic answer
    was sent), ``sender_checked`` (the caller found this address neither ours nor over the
    automatic-reply limit a moment ago, as mail intake does before storing). Left out, each is
    looked up.
    """
    if ticket.held_for_id:
        return False
    if not fresh and AutoReply.objects.filter(ticket=ticket, kind=AutoReply.Kind.RECEIPT).exists():
        return False  # one receipt per ticket, whoever asks twice
    if answered is not False and Message.objects.filter(
            ticket=ticket, direction=Message.Direction.OUTBOUND, is_automatic=True, channel=Channel.EMAIL).exists():
        return False
    if address:
        address = mail_normalise_address(address)
        address = address if _valid_email(address) else ""
    else:
        _, address = ticket_reply_address(ticket)
    if not address:
        return False
    if not sender_checked and (address in _own_addresses() or not auto_reply_allowed(address)):
        return False
    receipt = AutoReply.objects.create(
        address=address,
        kind=AutoReply.Kind.RECEIPT,
        ticket=ticket,
        # Generated once: a retried send carries the same id, and a bounce of it can be matched.
        message_id=make_msgid(domain=settings.EMAIL_MESSAGE_ID_DOMAIN),
        in_reply_to=in_reply_to[:300],
    )
    from .tasks import receipt_send_task

    enqueue_on_commit(receipt_send_task, receipt.pk)
    return True
