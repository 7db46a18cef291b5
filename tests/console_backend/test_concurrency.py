"""Races on the real database (PostgreSQL in CI, SQLite embedded): threads, one connection each."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connections

from contactcentre.tickets import services as ticket_services
from contactcentre.tickets.errors import ConflictError
from contactcentre.workdist import services
from contactcentre.workdist.models import Offer
from contactcentre.workdist.services import workdist_dispatch
from tests.factories import TicketFactory

pytestmark = pytest.mark.django_db(transaction=True)


def race(*calls: Callable[[], Any]) -> list[Any]:
    """Run the calls at the same moment; each result is its return value or its exception."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(i: int, call: Callable[[], Any]) -> None:
        barrier.wait()
        try:
            results[i] = call()
        except Exception as exc:  # noqa: BLE001 - the outcome is what the test inspects
            results[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return results


def test_two_concurrent_accepts_of_one_offer_one_wins(ready_agent):
    anna = ready_agent("anna")
    ticket = TicketFactory()
    workdist_dispatch()
    offer = Offer.objects.get(ticket=ticket)

    results = race(*[lambda: services.offer_accept(offer_id=offer.pk, actor=anna)] * 2)

    assert sum(isinstance(r, Offer) for r in results) == 1
    assert sum(isinstance(r, services.OfferNotOpen) for r in results) == 1
    ticket.refresh_from_db()
    assert ticket.assignee == anna
    assert ticket.events.filter(kind="assignee").count() == 1


def test_an_accept_racing_another_agents_claim_one_wins(ready_agent):
    anna, bertil = ready_agent("anna"), ready_agent("bertil")
    ticket = TicketFactory()
    workdist_dispatch()
    offer = Offer.objects.get(ticket=ticket, agent=anna)

    results = race(
        lambda: services.offer_accept(offer_id=offer.pk, actor=anna),
        lambda: ticket_services.ticket_claim(ticket_id=ticket.pk, actor=bertil),
    )

    winners = [r for r in results if not isinstance(r, Exception)]
    assert len(winners) == 1, results
    assert all(isinstance(r, ConflictError) for r in results if isinstance(r, Exception))
    ticket.refresh_from_db()
    offer.refresh_from_db()
    assert ticket.events.filter(kind="assignee").count() == 1
    if ticket.assignee == anna:
        assert offer.state == "accepted"
    else:
        assert ticket.assignee == bertil and offer.state == "withdrawn"


def test_concurrent_dispatch_passes_offer_each_item_once(ready_agent):
    for name in ("anna", "bertil", "cecilia"):
        ready_agent(name, capacity=2)
    for _ in range(8):
        TicketFactory()

    race(*[workdist_dispatch] * 4)

    offers = list(Offer.objects.filter(state="offered"))
    assert len(offers) == 6
    assert len({o.ticket_id for o in offers}) == 6
    per_agent = {}
    for o in offers:
        per_agent[o.agent_id] = per_agent.get(o.agent_id, 0) + 1
    assert sorted(per_agent.values()) == [2, 2, 2]
