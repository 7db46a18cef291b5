from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from contactcentre.tickets.services import ticket_escalate
from tests.factories import TicketFactory, UserFactory, contact_with_email

_seq = itertools.count(1)


@dataclass
class Receiver:
    """A department's case-management system, on 127.0.0.1 in the test process."""

    url: str
    replies: list[tuple[int, dict[str, str]]] = field(default_factory=list)  # served in order, then 200
    requests: list[dict] = field(default_factory=list)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            state.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
            code, headers = state.replies.pop(0) if state.replies else (200, {})
            self.send_response(code)
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/cc"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def miljo_caseworker(departments):  # type: ignore[no-untyped-def]
    return UserFactory(username="mikael", role="caseworker", department=departments["miljotillsyn"])


def make_escalated(*, agent, code: str, subject: str = "Bygglov för altan", channel: str = "web",
                   email: str = "", text: str = "Får jag bygga en altan?"):  # type: ignore[no-untyped-def]
    """A resident's ticket, escalated by an agent to ``code`` (through the real service)."""
    from contactcentre.tickets.models import Message

    contact = contact_with_email(email or f"resident{next(_seq)}@example.org", name="Rut Residentsson")
    ticket = TicketFactory(subject=subject, channel=channel, status="open", contact=contact)
    Message.objects.create(ticket=ticket, direction="inbound", channel=channel, sender="Rut Residentsson",
                           body_text=text)
    ticket_escalate(ticket_id=ticket.pk, actor=agent, department_code=code, note="Behöver bedömas av handläggare.")
    ticket.refresh_from_db()
    return ticket
