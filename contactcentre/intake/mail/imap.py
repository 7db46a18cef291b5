"""The optional IMAP poller, for cities whose mailbox lives on Exchange/Microsoft 365.

Fetches unseen mail with BODY.PEEK (which leaves it unseen), stores it, and only then sets
\\Seen: a crash or a failed store leaves the mail unseen for the next poll, never lost.
"""

from __future__ import annotations

import imaplib
import logging
import re
from dataclasses import dataclass, field
from typing import Protocol

from django.conf import settings

from contactcentre.tickets.errors import DomainError

from .quarantine import mail_quarantine
from .services import mail_receive

log = logging.getLogger(__name__)


class ImapClient(Protocol):
    """The part of :class:`imaplib.IMAP4` the poller uses (a fake implements it in tests)."""

    def select(self, mailbox: str = ..., readonly: bool = ...) -> tuple[str, list]: ...
    def uid(self, command: str, *args: str) -> tuple[str, list]: ...


@dataclass
class ImapPollResult:
    stored: list[str] = field(default_factory=list)  # uids stored and marked seen
    rejected: list[str] = field(default_factory=list)  # unusable (empty) mail: marked seen, flagged
    too_large: list[str] = field(default_factory=list)  # over the size limit: headers quarantined, flagged
    failed: list[str] = field(default_factory=list)  # left unseen for the next poll


def imap_connect() -> imaplib.IMAP4:
    cls = imaplib.IMAP4_SSL if settings.IMAP_INTAKE_SSL else imaplib.IMAP4
    client = cls(settings.IMAP_INTAKE_HOST, settings.IMAP_INTAKE_PORT, timeout=60)
    client.login(settings.IMAP_INTAKE_USER, settings.IMAP_INTAKE_PASSWORD)
    return client


def imap_poll_once(client: ImapClient, *, mailbox: str | None = None) -> ImapPollResult:
    result = ImapPollResult()
    status, _ = client.select(mailbox or settings.IMAP_INTAKE_MAILBOX)
    if status != "OK":
        raise imaplib.IMAP4.error(f"cannot select {mailbox or settings.IMAP_INTAKE_MAILBOX}")
    status, data = client.uid("SEARCH", "UNSEEN")
    if status != "OK":
        raise imaplib.IMAP4.error("UID SEARCH UNSEEN failed")
    uids = [u.decode() if isinstance(u, bytes) else str(u) for u in (data[0] or b"").split()] if data else []
    for uid in uids:
        size = _size(client, uid)
        if size is not None and size > settings.EMAIL_INTAKE_MAX_BYTES:
            if _quarantine_too_large(client, uid, size):
                result.too_large.append(uid)
            else:
                result.failed.append(uid)
            continue
        raw = _fetch(client, uid)
        if raw is None:
            result.failed.append(uid)
            continue
        try:
            mail_receive(raw=raw)
        except DomainError as exc:
            # Never storable (empty): flag it for a person instead of refetching it forever.
            log.warning("IMAP uid %s rejected: %s", uid, exc)
            client.uid("STORE", uid, "+FLAGS", "(\\Seen \\Flagged)")
            result.rejected.append(uid)
            continue
        except Exception:
            log.exception("storing IMAP uid %s failed; it stays unseen", uid)
            result.failed.append(uid)
            continue
        status, _ = client.uid("STORE", uid, "+FLAGS", "(\\Seen)")
        if status != "OK":
            # Stored but not marked: the next poll delivers it again and idempotency stores it once.
            log.warning("could not mark IMAP uid %s seen", uid)
        result.stored.append(uid)
    return result


def _fetch(client: ImapClient, uid: str) -> bytes | None:
    status, data = client.uid("FETCH", uid, "(BODY.PEEK[])")
    if status != "OK" or not data:
        return None
    for item in data:
        # imaplib answers [(b'1 (UID 7 BODY[] {123}', b'<bytes>'), b')']
        if isinstance(item, tuple) and len(item) == 2 and re.search(rb"BODY\[\]", item[0] or b""):
            return item[1]
    return None


def _size(client: ImapClient, uid: str) -> int | None:
    """RFC822.SIZE as the server reports it, or None when it does not say (then we fetch)."""
    status, data = client.uid("FETCH", uid, "(RFC822.SIZE)")
    if status != "OK" or not data:
        return None
    for item in data:
        line = item[0] if isinstance(item, tuple) else item
        match = re.search(rb"RFC822\.SIZE (\d+)", line or b"")
        if match:
            return int(match.group(1))
    return None


def _quarantine_too_large(client: ImapClient, uid: str, size: int) -> bool:
    """A mail over EMAIL_INTAKE_MAX_BYTES is never downloaded (SMTP refuses it with 552; here it
    is already in the mailbox): its header is quarantined so operators see who sent what, and the
    mail is flagged and left in the mailbox for a person."""
    status, data = client.uid("FETCH", uid, "(BODY.PEEK[HEADER])")
    header = b""
    if status == "OK" and data:
        for item in data:
            if isinstance(item, tuple) and len(item) == 2 and re.search(rb"BODY\[HEADER\]", item[0] or b""):
                header = item[1]
    limit = settings.EMAIL_INTAKE_MAX_BYTES
    try:
        mail_quarantine(raw=header or f"X-IMAP-UID: {uid}\r\n".encode(), reason="too_large",
                        detail=f"IMAP uid {uid}: {size} bytes, over the {limit}-byte limit. Only the header is "
                               "kept here; the mail is flagged in the mailbox.")
    except Exception:
        log.exception("quarantining the header of oversized IMAP uid %s failed; it stays unseen", uid)
        return False
    client.uid("STORE", uid, "+FLAGS", "(\\Seen \\Flagged)")
    return True
