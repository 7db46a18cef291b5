"""A small world for the trust tests: two departments, every role, tickets in several states,
each with a contact, an inbound message, an attachment and a live event."""

from __future__ import annotations

import shutil
import signal
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone
from rest_framework.test import APIClient

from contactcentre.tickets.events import emit_ticket_event
from contactcentre.tickets.models import Attachment, Message, Ticket
from tests.conftest import client_for
from tests.factories import DepartmentFactory, TicketFactory, UserFactory
from tests.procs import free_port, wait_for_port

ROLES = ["anonymous", "norole", "agent", "caseworker_own", "caseworker_other", "supervisor", "admin", "disabled"]
STATES = ["new", "escalated_own", "resolved_own", "escalated_other"]


@dataclass
class World:
    users: dict[str, Any]
    tickets: dict[str, Ticket]
    attachments: dict[str, Attachment] = field(default_factory=dict)

    def client(self, role: str) -> APIClient:
        if role == "anonymous":
            return APIClient()
        return client_for(self.users[role])


def sees(role: str, state: str) -> bool:
    """The policy under test, written out once: agents, supervisors and admins see every ticket;
    a caseworker sees only what was escalated to their own department; nobody else sees anything."""
    if role in ("agent", "supervisor", "admin"):
        return True
    if role == "caseworker_own":
        return state in ("escalated_own", "resolved_own")
    if role == "caseworker_other":
        return state == "escalated_other"
    return False


def is_staff(role: str) -> bool:
    return role not in ("anonymous", "norole", "disabled")


@pytest.fixture
def world(db, null_router) -> World:
    own = DepartmentFactory(code="bygglov", name="Bygglov")
    other = DepartmentFactory(code="miljotillsyn", name="Miljötillsyn")
    DepartmentFactory(code="kundtjanst", name="Kundtjänst")
    users = {
        "norole": UserFactory(username="nobody", role=""),
        "agent": UserFactory(username="anna", role="agent"),
        "caseworker_own": UserFactory(username="cecilia", role="caseworker", department=own),
        "caseworker_other": UserFactory(username="olof", role="caseworker", department=other),
        "supervisor": UserFactory(username="sara", role="supervisor"),
        "admin": UserFactory(username="adam", role="admin"),
        "disabled": UserFactory(username="dora", role="agent"),
    }
    now = timezone.now()
    specs = {
        "new": {"status": "new"},
        "escalated_own": {"status": "escalated", "department": own, "escalated_at": now},
        "resolved_own": {"status": "resolved", "department": own, "escalated_at": now, "resolved_at": now},
        "escalated_other": {"status": "escalated", "department": other, "escalated_at": now},
    }
    tickets: dict[str, Ticket] = {}
    attachments: dict[str, Attachment] = {}
    for state, spec in specs.items():
        ticket = TicketFactory(subject=f"Ärende {state}", **spec)
        msg = Message.objects.create(ticket=ticket, direction="inbound", channel="web", sender="resident@example.org",
                                     body_text=f"Personnummer 19800101-0000 ({state})")
        att = Attachment(message=msg, filename="ritning.pdf", size=4)
        att.file.save("x", ContentFile(b"%PDF"), save=True)
        emit_ticket_event("ticket.created", ticket)
        tickets[state] = ticket
        attachments[state] = att
    # Tokens first, then disable: a token that outlives its account must not work.
    client_for(users["disabled"])
    users["disabled"].is_active = False
    users["disabled"].save(update_fields=["is_active"])
    return World(users=users, tickets=tickets, attachments=attachments)


# Always a private redis-server, even when REDIS_URL points at a shared one: these tests pause it.
@pytest.fixture
def private_redis() -> Iterator[tuple[subprocess.Popen, str]]:
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("redis-server is not installed: run `make test`, which installs it")
    port = free_port()
    proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        wait_for_port(port, proc=proc)
        yield proc, f"redis://127.0.0.1:{port}/0"
    finally:
        proc.send_signal(signal.SIGCONT)
        proc.terminate()
        proc.wait(timeout=10)
        from contactcentre.records import resilient_cache

        resilient_cache._state["open_until"] = 0.0
