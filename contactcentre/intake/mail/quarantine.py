"""Quarantine: inbound mail we hold durably instead of turning it into a ticket.

Mail over a structural limit, mail the parser chokes on, and mail whose storing fails for a
reason a retry cannot fix are kept here as the exact bytes, with an alert (an ERROR log record,
the ``cc_mail_quarantined_total`` counter, ``cc_intake_total{outcome="quarantined"}`` and a
durable ``mail.quarantined`` live event for the staff). The transports answer 250: we have the
mail, the sender must not retry it for days, and nothing behind it waits for it.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from email import policy
from email.header import decode_header, make_header
from email.parser import HeaderParser

from django.db import transaction
from prometheus_client import Counter

from contactcentre.observability.metrics import INTAKE_TOTAL
from contactcentre.tickets import events

from .models import QuarantinedMail
from .parsing import clean_header_text

log = logging.getLogger(__name__)

QUARANTINED_TOTAL = Counter(
    "cc_mail_quarantined_total", "Inbound mail kept in quarantine instead of becoming a ticket", ["reason"]
)
_PEEK_BYTES = 64 * 1024


def _peek(raw: bytes) -> tuple[str, str]:
    """From and Subject for the operator's list, read from the first 64 KB only; best effort."""
    try:
        headers = HeaderParser(policy=policy.compat32).parsestr(raw[:_PEEK_BYTES].decode("utf-8", "replace"),
                                                                headersonly=True)
        return (_readable(headers.get("From", ""))[:320], _readable(headers.get("Subject", ""))[:300])
    except Exception:  # noqa: BLE001 - the row matters, not these two display fields
        return "", ""


def _readable(value: object) -> str:
    text = str(value or "")
    try:
        text = str(make_header(decode_header(text)))  # =?utf-8?...?= encoded words
    except Exception:  # noqa: BLE001, S110 - shown as it came
        pass
    return clean_header_text(text)


def mail_quarantine(*, raw: bytes, reason: str, detail: str, envelope_from: str | None = None,
                    recipients: Sequence[str] = ()) -> QuarantinedMail:
    """Keep ``raw`` in quarantine and raise the alert. Raises if it could not be stored (the
    transport then answers 451). The same bytes quarantined twice (a sender's retry) are one row."""
    digest = hashlib.sha256(raw).hexdigest()
    header_from, subject = _peek(raw)
    with transaction.atomic():
        existing = QuarantinedMail.objects.filter(sha256=digest, status=QuarantinedMail.Status.QUARANTINED).first()
        if existing is not None:
            return existing
        item = QuarantinedMail.objects.create(
            reason=reason,
            detail=detail[:2000],
            envelope_from=clean_header_text(envelope_from or "")[:320],
            envelope_to=[clean_header_text(r)[:320] for r in recipients][:20],
            header_from=header_from,
            subject=subject,
            size=len(raw),
            sha256=digest,
            raw=raw,
        )
        # Durable (a LiveEvent row) and sent to the staff group after commit: supervisors see it
        # live, and a console that was away reads it on resync.
        events.emit_event("mail.quarantined", {
            "quarantine_id": item.pk, "reason": reason, "size": item.size,
            "sender": item.envelope_from or item.header_from, "subject": item.subject[:120],
        }, groups=[events.STAFF_GROUP])
    QUARANTINED_TOTAL.labels(reason=reason).inc()
    INTAKE_TOTAL.labels(channel="email", outcome="quarantined").inc()
    log.error("inbound mail quarantined (id %s, %s, %d bytes, from %s): %s",
              item.pk, reason, item.size, item.envelope_from or item.header_from or "?", detail[:500])
    return item
