"""Searching tickets (GET /api/v1/tickets/?q= and the console's search box) and the query counts
of the list, detail and thread endpoints, in both modes: full text on PostgreSQL (CI), substring
on the embedded SQLite default. The Swedish stemming and the index maintenance are proved in
test_search_postgres.py."""

from __future__ import annotations

import pytest

from contactcentre.tickets import services
from contactcentre.tickets.models import Message
from tests.conftest import client_for
from tests.factories import ContactFactory, TicketFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("null_router")]


def _refs(client, **params) -> set[str]:  # type: ignore[no-untyped-def]
    response = client.get("/api/v1/tickets/", params)
    assert response.status_code == 200, response.content
    return {t["reference"] for t in response.json()["results"]}


def _message(ticket, body: str) -> Message:  # type: ignore[no-untyped-def]
    return Message.objects.create(ticket=ticket, direction="inbound", channel=ticket.channel, body_text=body)


def test_search_finds_subject_message_text_and_reference(agent_api):
    staket = TicketFactory(subject="Staket mot gatan")
    sop = TicketFactory(subject="Fråga")
    _message(sop, "Soptunnan på Råsundavägen har inte tömts")
    TicketFactory(subject="Något annat")
    assert _refs(agent_api, q="staket") == {staket.reference}
    assert _refs(agent_api, q="Råsundavägen") == {sop.reference}
    assert _refs(agent_api, q=sop.reference) == {sop.reference}
    assert _refs(agent_api, q=sop.reference.lower()) == {sop.reference}
    assert _refs(agent_api, q="ingenting-sådant") == set()


def test_a_message_added_through_the_services_is_found(agent, agent_api):
    ticket = TicketFactory(subject="Fråga")
    assert _refs(agent_api, q="kompostering") == set()
    services.ticket_note(ticket_id=ticket.pk, actor=agent, body="Invånaren frågar om kompostering")
    assert _refs(agent_api, q="kompostering") == {ticket.reference}


def test_a_caseworker_finds_only_what_was_escalated_to_their_department(caseworker, departments):
    mine = TicketFactory(subject="Altan", department=departments["bygglov"], status="escalated")
    mine.escalated_at = mine.created_at
    mine.save(update_fields=["escalated_at"])
    TicketFactory(subject="Altan", department=departments["bygglov"])  # not escalated: the centre's
    TicketFactory(subject="Altan", department=departments["miljotillsyn"], status="escalated")
    TicketFactory(subject="Altan")
    assert _refs(client_for(caseworker), q="altan") == {mine.reference}


def test_search_combines_with_the_other_filters(agent_api, departments):
    new = TicketFactory(subject="Bygglov för altan", status="new", department=departments["bygglov"])
    TicketFactory(subject="Bygglov för altan", status="open", department=departments["bygglov"])
    TicketFactory(subject="Bygglov för altan", status="new", department=departments["miljotillsyn"])
    assert _refs(agent_api, q="altan", status="new", department="bygglov") == {new.reference}


def test_search_text_is_data_never_syntax(agent_api):
    ticket = TicketFactory(subject="Staket")
    for text in ["staket & !", "') OR 1=1 --", "staket:*", "a | b", "\\", "&&&", "'''", "ö"]:
        response = agent_api.get("/api/v1/tickets/", {"q": text})
        assert response.status_code == 200, (text, response.content)
    assert _refs(agent_api, q="staket") == {ticket.reference}


def test_search_pages_walk_every_match_once(agent_api):
    made = {TicketFactory(subject=f"Parkering {i}").reference for i in range(7)}
    TicketFactory(subject="Annat")
    seen: list[str] = []
    url = "/api/v1/tickets/?q=parkering&page_size=3"
    while url:
        body = agent_api.get(url).json()
        seen += [t["reference"] for t in body["results"]]
        url = body["next"]
    assert sorted(seen) == sorted(made)


def test_the_console_search_box_uses_the_same_search(client, agent):
    hit = TicketFactory(subject="Felparkerad bil", status="new")
    TicketFactory(subject="Annat ärende", status="new")
    client.force_login(agent)
    html = client.get("/console/", {"q": "felparkerad"}).content.decode()
    assert hit.reference in html and "Annat ärende" not in html


# --- query counts: fixed, whatever the number of tickets and messages -------------------------------

def _count(django_assert_num_queries, fn, expected: int) -> None:  # type: ignore[no-untyped-def]
    with django_assert_num_queries(expected):
        response = fn()
        assert response.status_code == 200, response.content


@pytest.mark.parametrize("params", [{}, {"status": "new,open"}, {"q": "parkering"}, {"q": "parkering", "department": "bygglov"}])
def test_ticket_list_query_count_is_fixed(agent_api, departments, django_assert_num_queries, params):
    def make(n: int) -> None:
        for i in range(n):
            ticket = TicketFactory(subject=f"Parkering {i}", status="new", department=departments["bygglov"],
                                   contact=ContactFactory())
            _message(ticket, "parkeringstillstånd")

    make(2)
    # The token with its user, then one query for the page: department, assignee and contact joined.
    _count(django_assert_num_queries, lambda: agent_api.get("/api/v1/tickets/", params), 2)
    make(25)
    _count(django_assert_num_queries, lambda: agent_api.get("/api/v1/tickets/", params), 2)


def test_ticket_detail_and_thread_query_counts_are_fixed(agent_api, agent, django_assert_num_queries):
    ticket = TicketFactory(subject="Tråd")
    for i in range(2):
        services.ticket_note(ticket_id=ticket.pk, actor=agent, body=f"anteckning {i}")
    # token, ticket (joined), access-log insert
    _count(django_assert_num_queries, lambda: agent_api.get(f"/api/v1/tickets/{ticket.reference}/"), 3)
    # token, ticket, access-log insert, messages (authors joined), their attachments
    _count(django_assert_num_queries, lambda: agent_api.get(f"/api/v1/tickets/{ticket.reference}/messages/"), 5)
    for i in range(20):
        services.ticket_note(ticket_id=ticket.pk, actor=agent, body=f"anteckning {i}")
    _count(django_assert_num_queries, lambda: agent_api.get(f"/api/v1/tickets/{ticket.reference}/messages/"), 5)


def test_console_search_query_count_is_fixed(client, agent, django_assert_max_num_queries):
    client.force_login(agent)
    TicketFactory.create_batch(2, subject="Felparkerad bil", status="new")
    with django_assert_max_num_queries(12) as few:
        assert client.get("/console/", {"q": "felparkerad"}).status_code == 200
    TicketFactory.create_batch(20, subject="Felparkerad bil", status="new")
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get("/console/", {"q": "felparkerad"}).status_code == 200


def test_ticket_page_query_count_does_not_grow_with_the_thread_or_history(client, agent, django_assert_max_num_queries):
    contact = ContactFactory()
    ticket = TicketFactory(subject="Tråd", contact=contact)
    TicketFactory.create_batch(2, contact=contact)
    services.ticket_note(ticket_id=ticket.pk, actor=agent, body="första")
    client.force_login(agent)
    with django_assert_max_num_queries(20) as few:
        assert client.get(f"/console/t/{ticket.reference}/").status_code == 200
    TicketFactory.create_batch(15, contact=contact)
    for i in range(15):
        services.ticket_note(ticket_id=ticket.pk, actor=agent, body=f"anteckning {i}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(f"/console/t/{ticket.reference}/").status_code == 200
