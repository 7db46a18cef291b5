"""Queries per web intake, pinned.

The intake is the hot path (``bench/bench_intake.py``): every query costs Python time in the web
process and a round trip, and the ones after the reference is allocated are made while the
year's reference row is locked, which serialises concurrent intakes. The ceilings below are what
an intake request costs today, in steady state (the year's reference row exists, policies are
cached), counted over the whole request including its after-commit work in the request thread
(receipt row, work distribution, routing feedback, broadcast) but not the background jobs it
queues (those run in the worker). A change that adds queries must raise them knowingly; each test
also checks that the work those queries pay for still happens.
"""

from __future__ import annotations

import pytest

from contactcentre.intake.mail.models import AutoReply
from contactcentre.intake.ports import RoutingOutcome, RoutingRequest
from contactcentre.tickets.models import LiveEvent, Message, Ticket, TicketEvent
from tests.conftest import web_enquiry

pytestmark = pytest.mark.django_db

# Measured on PostgreSQL and SQLite.
MAX_QUERIES_AGENT = 25  # was 31 before the usage counters, commitments and reference were batched
MAX_QUERIES_ESCALATED = 30  # was 35


def escalate_router(request: RoutingRequest) -> RoutingOutcome:
    """A router that sends everything to bygglov and suggests two articles to the agent."""
    return RoutingOutcome(action="escalate", department="bygglov", confidence=0.9, language="sv",
                          explanation="test", suggestions=("staket-bygglov", "attefallshus"))


@pytest.fixture
def queued_jobs(monkeypatch):  # type: ignore[no-untyped-def]
    """Background jobs are recorded, not run: they are the worker's queries, not the request's."""
    from contactcentre.ops import jobs

    queued: list[str] = []

    def enqueue(task, *args):  # type: ignore[no-untyped-def]
        queued.append(task.name)
        return True

    monkeypatch.setattr(jobs, "enqueue", enqueue)
    return queued


def _intake(api, django_assert_max_num_queries, django_capture_on_commit_callbacks, limit: int):  # type: ignore[no-untyped-def]
    # Steady state: the year's reference row exists and the commitment policies are cached.
    with django_capture_on_commit_callbacks(execute=True):
        assert web_enquiry(api, email="first@example.org").status_code == 201
    with django_assert_max_num_queries(limit) as captured:
        with django_capture_on_commit_callbacks(execute=True):
            response = web_enquiry(api)
    assert response.status_code == 201, response.content
    return Ticket.objects.get(reference=response.json()["reference"]), captured


def _behaviour_intact(ticket: Ticket, queued: list[str]) -> None:
    # What the queries pay for: the ticket with its message, audit entry, live event, due times
    # from its commitment, and the e-mailed receipt (a row, and its job queued).
    assert Message.objects.filter(ticket=ticket, direction="inbound").count() == 1
    assert TicketEvent.objects.filter(ticket=ticket, kind="created").exists()
    assert LiveEvent.objects.filter(ticket_reference=ticket.reference, type="ticket.created").exists()
    assert ticket.first_response_due_at is not None
    assert AutoReply.objects.filter(ticket=ticket, kind=AutoReply.Kind.RECEIPT).exists()
    assert "mail.receipt_send" in queued


@pytest.mark.usefixtures("null_router", "departments")
def test_web_intake_for_the_contact_centre_stays_within_its_queries(
    api, queued_jobs, django_assert_max_num_queries, django_capture_on_commit_callbacks
):
    ticket, _ = _intake(api, django_assert_max_num_queries, django_capture_on_commit_callbacks, MAX_QUERIES_AGENT)
    assert ticket.status == "new"
    _behaviour_intact(ticket, queued_jobs)


@pytest.mark.usefixtures("departments")
def test_web_intake_escalated_with_suggestions_stays_within_its_queries(
    api, settings, queued_jobs, django_assert_max_num_queries, django_capture_on_commit_callbacks
):
    settings.CONTACTCENTRE_ROUTER = "tests.api.test_intake_queries.escalate_router"
    ticket, _ = _intake(api, django_assert_max_num_queries, django_capture_on_commit_callbacks,
                        MAX_QUERIES_ESCALATED)
    assert ticket.status == "escalated" and ticket.department.code == "bygglov"
    _behaviour_intact(ticket, queued_jobs)
