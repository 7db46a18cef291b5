"""The inbound SMTP listener (aiosmtpd): the city's MX or relay delivers residents' mail here.

A protocol adapter only: RCPT is checked against our addresses (550 otherwise), aiosmtpd enforces
the size limit and a line limit above RFC 5321's (552: advertised with the SIZE extension, so a sender that declares a larger mail is
refused at MAIL FROM before sending it; a larger body is counted, not kept, and refused at the end
of DATA with nothing stored), and DATA hands the bytes to :func:`mail_receive` in a worker thread.
"250" is said only after the mail is stored as a ticket message or held raw in quarantine; any
failure to store is "451", so the sender retries.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import close_old_connections, connections

from contactcentre.tickets.errors import DomainError

from .services import MailReceived, mail_receive, mail_recipient_accepted

log = logging.getLogger(__name__)
P = ParamSpec("P")
R = TypeVar("R")


def _with_db(func: Callable[P, R]) -> Callable[P, R]:
    """Run an ORM call in an executor thread: fresh connection state in, connection closed out
    (the thread is reused by other callers and would otherwise keep a stale connection)."""

    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        close_old_connections()
        try:
            return func(*args, **kwargs)
        finally:
            connections.close_all()

    return wrapper


# thread_sensitive=False: each call gets a worker thread, so one slow store never blocks the loop
# nor the other sessions' RCPT checks.
_accepted = sync_to_async(_with_db(mail_recipient_accepted), thread_sensitive=False)
_receive = sync_to_async(_with_db(mail_receive), thread_sensitive=False)


class IntakeHandler:
    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        try:
            accepted = await _accepted(address)
        except Exception:
            log.exception("recipient check failed for %s", address)
            return "451 4.3.0 Temporary failure, please try again later"
        if not accepted:
            return f"550 5.1.1 <{address}>: no such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        raw = envelope.original_content or envelope.content
        if isinstance(raw, str):
            raw = raw.encode("utf-8", errors="surrogateescape")
        try:
            received: MailReceived = await _receive(
                raw=raw or b"", envelope_from=envelope.mail_from, recipients=list(envelope.rcpt_tos)
            )
        except DomainError as exc:
            # Permanently unusable (an empty message): the sender's server tells the resident.
            return f"554 5.6.0 Message not accepted: {exc}"
        except Exception:
            log.exception("storing inbound mail from %s failed; answering 451", envelope.mail_from)
            return "451 4.3.0 Could not store the message, please try again later"
        if received.kind == "quarantined":
            # Durably held (the exact bytes) for an operator: the sender must not retry it.
            return f"250 2.0.0 OK held for review (quarantine {received.quarantine_id})"
        return f"250 2.0.0 OK {received.kind} {received.reference}".rstrip()


class IntakeSMTP(SMTP):
    """aiosmtpd's server with our line limit: it refuses lines over RFC 5321's 1000 octets with
    500, which would bounce mail that real senders write (long HTML lines); up to
    ``EMAIL_INTAKE_MAX_LINE_BYTES`` a line is taken (commands keep their own 512-octet limit)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.line_length_limit = settings.EMAIL_INTAKE_MAX_LINE_BYTES
        super().__init__(*args, **kwargs)


class IntakeController(Controller):
    """aiosmtpd's Controller with our handler, limits and identity."""

    def __init__(self, *, host: str | None = None, port: int | None = None, **kwargs: Any) -> None:
        super().__init__(
            IntakeHandler(),
            hostname=host or settings.SMTP_INTAKE_HOST,
            port=port if port is not None else settings.SMTP_INTAKE_PORT,
            data_size_limit=settings.EMAIL_INTAKE_MAX_BYTES,
            enable_SMTPUTF8=True,
            ident="contactcentre intake",
            **kwargs,
        )

    def factory(self) -> SMTP:
        return IntakeSMTP(self.handler, **self.SMTP_kwargs)

    def describe(self) -> str:
        return f"SMTP intake     smtp://{self.hostname}:{self.port}"


_embedded: list[IntakeController] = []


def start_embedded() -> str:
    """For ``manage.py serve`` on the embedded default: the listener in a daemon thread."""
    controller = IntakeController()
    try:
        controller.start()  # aiosmtpd runs its loop in a daemon thread
    except Exception as exc:  # noqa: BLE001 - a busy port must not take the web server down with it
        log.exception("SMTP intake could not start")
        return f"SMTP intake     NOT STARTED on smtp://{controller.hostname}:{controller.port} ({exc})"
    _embedded.append(controller)
    return controller.describe()
