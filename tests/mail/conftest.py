"""Real SMTP for the e-mail channel's tests: the intake listener on a free port, and a local
SMTP sink (aiosmtpd) that collects what the contact centre sends."""

from __future__ import annotations

import smtplib
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller

from contactcentre.intake import services as intake_services
from contactcentre.intake.mail.smtp import IntakeController
from contactcentre.intake.ports import RoutingOutcome, RoutingRequest
from tests.procs import free_port

CITY = "kontakt@solna.example.org"


@dataclass
class Sink:
    port: int
    messages: list[EmailMessage] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        with self._lock:
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
            self.messages.append(message_from_bytes(envelope.original_content or envelope.content, policy=policy.default))
        return "250 OK"

    def wait_for(self, count: int, timeout: float = 5.0) -> list[EmailMessage]:
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return list(self.messages)


@pytest.fixture
def mail_sink(settings) -> Iterator[Sink]:
    """Where Django's SMTP backend delivers: every mail we send lands here, parsed."""
    sink = Sink(port=free_port())
    controller = Controller(sink, hostname="127.0.0.1", port=sink.port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = sink.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 5
    try:
        yield sink
    finally:
        controller.stop()


def _agent_router(request: RoutingRequest) -> RoutingOutcome:
    return RoutingOutcome(action="agent", language=request.language or "sv", explanation="test")


@pytest.fixture(autouse=True)
def router(monkeypatch):
    """A fixed router, so the tests do not depend on the knowledge base. Set ``.outcome`` to change."""

    class Router:
        outcome: RoutingOutcome | None = None

        def __call__(self, request: RoutingRequest) -> RoutingOutcome:
            return self.outcome or _agent_router(request)

    instance = Router()
    monkeypatch.setattr(intake_services, "get_router", lambda: instance)
    return instance


@pytest.fixture
def smtp_intake(settings) -> Iterator[int]:
    """The real listener (aiosmtpd, its own event loop thread) on a free port."""
    port = free_port()
    controller = IntakeController(host="127.0.0.1", port=port)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


def mail(
    *,
    subject: str = "Fråga om bygglov",
    body: str = "Hej, behöver jag bygglov för ett staket?",
    sender: str = "Anna Andersson <anna@example.org>",
    to: str = CITY,
    message_id: str | None = None,
    **headers: str,
) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Message-ID"] = message_id or f"<{time.monotonic_ns()}.{threading.get_ident()}@mail.example.org>"
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content(body)
    return msg


def send(port: int, msg: EmailMessage | bytes, *, sender: str = "anna@example.org", to: list[str] | None = None) -> None:
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
        if isinstance(msg, bytes):
            client.sendmail(sender, to or [CITY], msg)
        else:
            client.send_message(msg, from_addr=sender, to_addrs=to or [CITY])
