"""Fair work distribution: round-robin within capacity and language, expiry and decline move
on, freed capacity is used at once, exactly one open offer per item, accept is race-safe."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from contactcentre.intake.chat.models import ChatSession
from contactcentre.intake.web import web_form_receive
from contactcentre.tickets import services as ticket_services
from contactcentre.tickets.models import Ticket
from contactcentre.workdist import services
from contactcentre.workdist.models import Offer
from contactcentre.workdist.services import OfferNotOpen, workdist_dispatch
from tests.factories import TicketFactory, UserFactory

from .conftest import make_ready

pytestmark = pytest.mark.django_db


def open_offers() -> list[Offer]:
    return list(Offer.objects.filter(state=Offer.State.OFFERED).order_by("ticket_id"))


def test_round_robin_across_three_agents_within_capacity(ready_agent):
    agents = [ready_agent(name, capacity=2) for name in ("anna", "bertil", "cecilia")]
    tickets = [TicketFactory() for _ in range(7)]

    result = workdist_dispatch()

    offers = open_offers()
    assert len(result.offered) == 6 == len(offers)
    # Oldest ticket first, each to the agent offered work longest ago: a, b, c, a, b, c.
    assert [o.ticket_id for o in offers] == [t.pk for t in tickets[:6]]
    assert [o.agent_id for o in offers] == [a.pk for a in agents] * 2
    assert all(o.kind == "ticket" for o in offers)
    # The seventh waits: every agent is at capacity.
    assert not Offer.objects.filter(ticket=tickets[6]).exists()
    # A second pass changes nothing: one open offer per item, nobody over capacity.
    assert workdist_dispatch().offered == []


def test_language_skill_is_respected(ready_agent):
    swedish = ready_agent("anna", languages=["sv"])
    finnish = ready_agent("bertil", languages=["sv", "fi"])
    fi_ticket = TicketFactory(language="fi")
    en_ticket = TicketFactory(language="en")

    workdist_dispatch()

    assert Offer.objects.get(ticket=fi_ticket).agent == finnish
    # Nobody speaks English: it waits rather than going to the wrong agent.
    assert not Offer.objects.filter(ticket=en_ticket).exists()
    assert not Offer.objects.filter(agent=swedish).exists()


def test_only_connected_and_available_agents_are_offered_work(ready_agent):
    ready_agent("anna")
    away = make_ready(UserFactory(username="bertil", role="agent", languages=["sv"]), available=False)
    offline = UserFactory(username="cecilia", role="agent", languages=["sv"])  # ready, console closed
    make_ready(offline)
    from contactcentre.intake.chat import presence

    presence.agent_presence_leave(channel_name=f"test.{offline.pk}")
    caseworker = make_ready(UserFactory(username="dora", role="caseworker"))
    for _ in range(4):
        TicketFactory()

    workdist_dispatch()

    assert {o.agent.username for o in open_offers()} == {"anna"}
    assert not Offer.objects.filter(agent__in=[away, offline, caseworker]).exists()


def test_expiry_moves_the_item_to_the_next_agent(ready_agent, settings):
    settings.WORKDIST_OFFER_TTL_S = 30
    anna, bertil = ready_agent("anna"), ready_agent("bertil")
    ticket = TicketFactory()
    now = timezone.now()
    workdist_dispatch(now=now)
    first = Offer.objects.get(ticket=ticket)
    assert first.agent == anna and first.expires_at == now + timedelta(seconds=30)

    assert workdist_dispatch(now=now + timedelta(seconds=29)).expired == []
    result = workdist_dispatch(now=now + timedelta(seconds=31))

    first.refresh_from_db()
    assert result.expired == [first.pk] and first.state == "expired"
    second = Offer.objects.get(ticket=ticket, state="offered")
    assert second.agent == bertil
    # Accepting the expired offer is refused.
    with pytest.raises(OfferNotOpen):
        services.offer_accept(offer_id=first.pk, actor=anna)


def test_decline_moves_on_at_once(ready_agent, django_capture_on_commit_callbacks):
    anna, bertil = ready_agent("anna"), ready_agent("bertil")
    ticket = TicketFactory()
    workdist_dispatch()
    offer = Offer.objects.get(ticket=ticket)
    assert offer.agent == anna

    with django_capture_on_commit_callbacks(execute=True):
        services.offer_decline(offer_id=offer.pk, actor=anna)

    offer.refresh_from_db()
    assert offer.state == "declined"
    assert Offer.objects.get(ticket=ticket, state="offered").agent == bertil
    with pytest.raises(OfferNotOpen):
        services.offer_decline(offer_id=offer.pk, actor=anna)


def test_freed_capacity_offers_the_next_waiting_item_at_once(ready_agent, django_capture_on_commit_callbacks):
    anna = ready_agent("anna", capacity=1)
    held = TicketFactory()
    ticket_services.ticket_claim(ticket_id=held.pk, actor=anna)
    waiting = TicketFactory()
    workdist_dispatch()
    assert not Offer.objects.filter(ticket=waiting).exists()  # anna holds one of one

    with django_capture_on_commit_callbacks(execute=True):
        ticket_services.ticket_resolve(ticket_id=held.pk, actor=anna)

    assert Offer.objects.get(ticket=waiting, state="offered").agent == anna


def test_a_new_ticket_is_offered_when_it_arrives(ready_agent, django_capture_on_commit_callbacks, null_router):
    anna = ready_agent("anna")
    with django_capture_on_commit_callbacks(execute=True):
        ticket = web_form_receive(data={"email": "karin@example.org", "message": "Hej, en fråga"}).ticket
    assert Offer.objects.get(ticket=ticket, state="offered").agent == anna


def test_becoming_available_offers_work_and_going_away_withdraws_it(ready_agent, django_capture_on_commit_callbacks):
    anna = ready_agent("anna")
    services.agent_availability_set(actor=anna, available=False)
    ticket = TicketFactory()
    with django_capture_on_commit_callbacks(execute=True):
        services.agent_availability_set(actor=anna, available=True)
    offer = Offer.objects.get(ticket=ticket, state="offered")

    with django_capture_on_commit_callbacks(execute=True):
        services.agent_availability_set(actor=anna, available=False)
    offer.refresh_from_db()
    assert offer.state == "withdrawn"


def test_callbacks_and_chats_are_offered_with_their_kind_chats_first(ready_agent):
    ready_agent("anna", capacity=3)
    ticket = TicketFactory()
    callback = TicketFactory(channel="phone", category="callback", priority="high")
    chat_ticket = TicketFactory(channel="chat")
    session = ChatSession.objects.create(token_hash="x" * 64, ticket=chat_ticket, state="waiting_for_agent",
                                         waiting_since=timezone.now())

    workdist_dispatch()

    offers = list(Offer.objects.order_by("id"))
    assert [(o.kind, o.ticket_id) for o in offers] == [
        ("chat", chat_ticket.pk), ("callback", callback.pk), ("ticket", ticket.pk)
    ]
    assert offers[0].chat_session == session


def test_accepting_assigns_the_ticket_and_the_chat(ready_agent):
    anna = ready_agent("anna", capacity=2)
    ticket = TicketFactory()
    chat_ticket = TicketFactory(channel="chat")
    session = ChatSession.objects.create(token_hash="y" * 64, ticket=chat_ticket, state="waiting_for_agent",
                                         waiting_since=timezone.now())
    workdist_dispatch()

    for offer in Offer.objects.filter(agent=anna):
        accepted = services.offer_accept(offer_id=offer.pk, actor=anna)
        assert accepted.state == "accepted"
    ticket.refresh_from_db()
    session.refresh_from_db()
    assert ticket.assignee == anna and ticket.status == "open"
    assert session.state == "with_agent" and session.accepted_by == anna
    # Someone else's offer is not found, not merely refused.
    other = UserFactory(username="bertil", role="agent")
    from contactcentre.tickets.errors import NotFound

    with pytest.raises(NotFound):
        services.offer_accept(offer_id=Offer.objects.first().pk, actor=other)


def test_work_taken_meanwhile_withdraws_the_offer(ready_agent):
    anna, bertil = ready_agent("anna"), ready_agent("bertil")
    ticket = TicketFactory()
    workdist_dispatch()
    offer = Offer.objects.get(ticket=ticket)
    ticket_services.ticket_claim(ticket_id=ticket.pk, actor=bertil)  # claimed from the queue directly

    with pytest.raises(OfferNotOpen):
        services.offer_accept(offer_id=offer.pk, actor=anna)
    offer.refresh_from_db()
    assert offer.state == "withdrawn"
    assert Ticket.objects.get(pk=ticket.pk).assignee == bertil


def test_the_database_refuses_a_second_open_offer_for_one_item(ready_agent):
    anna, bertil = ready_agent("anna"), ready_agent("bertil")
    ticket = TicketFactory()
    expires = timezone.now() + timedelta(seconds=30)
    Offer.objects.create(ticket=ticket, agent=anna, kind="ticket", expires_at=expires)
    with pytest.raises(IntegrityError), transaction.atomic():
        Offer.objects.create(ticket=ticket, agent=bertil, kind="ticket", expires_at=expires)


# --- the pass requested after a commit: queued once per burst -------------------------------------

def test_requests_after_commits_queue_one_pass_per_burst(monkeypatch, ready_agent):
    """Intakes in a burst each ask for a pass; while one is still queued, the others add nothing.
    The pass clears the flag before it looks, so a commit after that queues the next one."""
    from contactcentre.ops import jobs
    from contactcentre.workdist import tasks

    queued: list[str] = []
    monkeypatch.setattr(jobs, "enqueue", lambda task, *args: queued.append(task.name) or True)
    agent = ready_agent("anna", capacity=5)

    for _ in range(5):
        services.workdist_dispatch_requested()
    assert queued == ["workdist.tasks.dispatch"]

    ticket = TicketFactory()
    tasks.dispatch()  # the worker runs the queued pass: it sees the ticket that came meanwhile
    assert [(o.ticket_id, o.agent_id) for o in open_offers()] == [(ticket.pk, agent.pk)]

    services.workdist_dispatch_requested()
    assert queued == ["workdist.tasks.dispatch"] * 2


def test_a_pass_that_cannot_be_queued_does_not_block_the_next_request(monkeypatch):
    from contactcentre.ops import jobs

    attempts: list[str] = []
    monkeypatch.setattr(jobs, "enqueue", lambda task, *args: attempts.append(task.name) and False)
    services.workdist_dispatch_requested()
    services.workdist_dispatch_requested()
    assert len(attempts) == 2  # the flag went with the failed publish; the tick covers meanwhile
