"""The console's REST endpoints: merge, tags, canned replies, agents online, availability, offers."""

from __future__ import annotations

import pytest
from django.utils import timezone

from contactcentre.tickets.models import Message, Ticket, TicketEvent
from contactcentre.workdist.models import AgentStatus, CannedReply, Offer
from tests.conftest import client_for
from tests.factories import ContactFactory, TicketFactory, UserFactory

from .conftest import make_ready

pytestmark = pytest.mark.django_db


def message(ticket: Ticket, text: str) -> Message:
    return Message.objects.create(ticket=ticket, direction="inbound", channel=ticket.channel, body_text=text)


def snapshot(*tickets: Ticket) -> list[tuple]:
    return [
        (t.status, t.merged_into_id, t.version, list(t.tags), t.messages.count(), t.events.count())
        for t in Ticket.objects.filter(pk__in=[t.pk for t in tickets]).order_by("pk")
    ]


# --- merge -----------------------------------------------------------------------------------

def test_merge_moves_messages_and_closes_the_duplicate(agent, agent_api):
    contact = ContactFactory(name="Karin Lund")
    target = TicketFactory(contact=contact, status="open", tags=["bygglov"])
    duplicate = TicketFactory(contact=contact, tags=["staket"])
    message(target, "Första")
    moved = message(duplicate, "Samma fråga igen")

    r = agent_api.post(f"/api/v1/tickets/{duplicate.reference}/merge/", {"into": target.reference})

    assert r.status_code == 200, r.json()
    assert r.json()["reference"] == target.reference and r.json()["tags"] == ["bygglov", "staket"]
    duplicate.refresh_from_db()
    assert duplicate.status == "closed" and duplicate.merged_into == target and duplicate.closed_at
    assert Message.objects.get(pk=moved.pk).ticket == target
    assert duplicate.messages.count() == 0
    assert TicketEvent.objects.get(ticket=duplicate, kind="merged").to_value == target.reference
    assert TicketEvent.objects.get(ticket=target, kind="merged_from").from_value == duplicate.reference
    detail = agent_api.get(f"/api/v1/tickets/{duplicate.reference}/").json()
    assert detail["merged_into"] == target.reference


@pytest.mark.parametrize("case,status", [
    ("self", 400), ("into_closed", 409), ("already_merged", 409), ("other_contact", 409), ("missing", 404),
    ("bad_input", 400),
])
def test_merge_refusals_write_nothing(agent_api, case, status):
    target = TicketFactory(status="open")
    duplicate = TicketFactory(contact=target.contact)
    body = {"into": target.reference}
    if case == "self":
        body = {"into": duplicate.reference}
    elif case == "into_closed":
        Ticket.objects.filter(pk=target.pk).update(status="closed")
    elif case == "already_merged":
        Ticket.objects.filter(pk=duplicate.pk).update(status="closed", merged_into=target)
    elif case == "other_contact":
        Ticket.objects.filter(pk=duplicate.pk).update(contact=ContactFactory())
    elif case == "missing":
        body = {"into": "SOL-2026-999999"}
    elif case == "bad_input":
        body = {}
    before = snapshot(target, duplicate)

    r = agent_api.post(f"/api/v1/tickets/{duplicate.reference}/merge/", body, format="json")

    assert r.status_code == status, r.json()
    assert snapshot(target, duplicate) == before


def test_merge_across_scopes_is_not_disclosed(caseworker, departments):
    mine = TicketFactory(department=departments["bygglov"], escalated_at=timezone.now(), status="escalated",
                         contact=None)
    other = TicketFactory(department=departments["miljotillsyn"], escalated_at=timezone.now(), status="escalated",
                          contact=None)
    not_escalated = TicketFactory(department=departments["bygglov"], contact=None)
    api = client_for(caseworker)
    before = snapshot(mine, other, not_escalated)
    for into in (other, not_escalated):
        r = api.post(f"/api/v1/tickets/{mine.reference}/merge/", {"into": into.reference})
        assert r.status_code == 404
    assert snapshot(mine, other, not_escalated) == before


def test_merge_different_contacts_when_asked(agent_api):
    target, duplicate = TicketFactory(status="open"), TicketFactory()
    r = agent_api.post(f"/api/v1/tickets/{duplicate.reference}/merge/",
                       {"into": target.reference, "allow_different_contacts": True})
    assert r.status_code == 200


def test_merge_needs_staff(api):
    target, duplicate = TicketFactory(), TicketFactory()
    assert api.post(f"/api/v1/tickets/{duplicate.reference}/merge/", {"into": target.reference}).status_code in (401, 403)


# --- tags ------------------------------------------------------------------------------------

def test_tags_are_normalised_and_emitted(agent_api, django_capture_on_commit_callbacks):
    ticket = TicketFactory(tags=["gammal", "kvar"])
    with django_capture_on_commit_callbacks() as callbacks:
        r = agent_api.post(f"/api/v1/tickets/{ticket.reference}/tags/",
                           {"add": ["Bygglov Altan", "ÖVERKLAGAN", "bygglov-altan"], "remove": ["GAMMAL"]})
    assert r.status_code == 200, r.json()
    assert r.json()["tags"] == ["kvar", "bygglov-altan", "överklagan"]
    assert callbacks  # the broadcast waits for the commit
    from contactcentre.tickets.models import LiveEvent

    event = LiveEvent.objects.filter(type="ticket.updated").latest("id")
    assert event.payload["change"] == "tags" and event.payload["tags"] == ["kvar", "bygglov-altan", "överklagan"]
    assert TicketEvent.objects.filter(ticket=ticket, kind="tags").count() == 1


@pytest.mark.parametrize("body", [
    {"add": ["x" * 41]},
    {"add": ["!!!"]},
    {"add": [f"tag{i}" for i in range(19)]},  # 2 existing + 19 > 20
    {"add": "not-a-list"},
])
def test_bad_tags_write_nothing(agent_api, body):
    ticket = TicketFactory(tags=["a", "b"])
    before = snapshot(ticket)
    r = agent_api.post(f"/api/v1/tickets/{ticket.reference}/tags/", body, format="json")
    assert r.status_code == 400, r.json()
    assert snapshot(ticket) == before


def test_tags_of_an_unknown_or_foreign_ticket_are_404(agent_api, caseworker):
    assert agent_api.post("/api/v1/tickets/SOL-2026-999999/tags/", {"add": ["x"]}).status_code == 404
    ticket = TicketFactory()
    assert client_for(caseworker).post(f"/api/v1/tickets/{ticket.reference}/tags/", {"add": ["x"]}).status_code == 404


# --- canned replies --------------------------------------------------------------------------

def test_canned_replies_for_a_ticket_are_filtered_and_filled(agent_api, departments, django_assert_max_num_queries):
    bygg = departments["bygglov"]
    ticket = TicketFactory(contact=ContactFactory(name="Karin Lund"), department=bygg, language="sv")
    general = CannedReply.objects.create(title="Tack", body="Hej {name}! Ditt ärende {reference} är mottaget.",
                                         language="sv")
    own = CannedReply.objects.create(title="Bygglov", body="Hej {name}, om bygglov...", language="sv", department=bygg)
    CannedReply.objects.create(title="Miljö", body="x", language="sv", department=departments["miljotillsyn"])
    CannedReply.objects.create(title="Thanks", body="x", language="en")
    CannedReply.objects.create(title="Gammal", body="x", language="sv", active=False)
    for i in range(10):
        CannedReply.objects.create(title=f"Fler {i}", body="{name}", language="sv", department=bygg)

    with django_assert_max_num_queries(4):
        r = agent_api.get(f"/api/v1/tickets/{ticket.reference}/canned-replies/")

    assert r.status_code == 200
    rows = {row["id"]: row for row in r.json()}
    assert len(rows) == 12 and set(rows[general.pk]) == {"id", "title", "language", "department", "body"}
    assert rows[general.pk]["body"] == f"Hej Karin Lund! Ditt ärende {ticket.reference} är mottaget."
    assert rows[own.pk]["department"] == "bygglov"


def test_a_canned_reply_without_a_name_greets_neutrally(agent_api):
    ticket = TicketFactory(contact=None, language="sv")
    ticket_fi = TicketFactory(contact=None, language="fi")
    CannedReply.objects.create(title="Tack", body="Hej {name}, tack! {reference} {oops} {name.__class__}", language="sv")
    CannedReply.objects.create(title="Kiitos", body="Hei {name}, kiitos!", language="fi")
    assert agent_api.get(f"/api/v1/tickets/{ticket.reference}/canned-replies/").json()[0]["body"] == (
        f"Hej där, tack! {ticket.reference} {{oops}} {{name.__class__}}"
    )
    assert agent_api.get(f"/api/v1/tickets/{ticket_fi.reference}/canned-replies/").json()[0]["body"] == "Hei, kiitos!"


def test_canned_reply_crud_is_for_supervisors(supervisor, agent_api, departments, django_assert_max_num_queries):
    api = client_for(supervisor)
    r = api.post("/api/v1/canned-replies/", {"title": "Tack", "body": "Hej {name}", "language": "sv",
                                             "department": "bygglov"})
    assert r.status_code == 201, r.json()
    reply_id = r.json()["id"]
    assert r.json()["department"] == "bygglov"
    assert api.post("/api/v1/canned-replies/", {"title": "X", "body": "y", "department": "nope"}).status_code == 400
    assert api.post("/api/v1/canned-replies/", {"title": "X", "body": "y", "language": "de"}).status_code == 400
    for i in range(5):
        CannedReply.objects.create(title=f"R{i}", body="b", department=departments["miljotillsyn"])
    with django_assert_max_num_queries(4):
        listed = api.get("/api/v1/canned-replies/")
    assert len(listed.json()) == 6
    r = api.patch(f"/api/v1/canned-replies/{reply_id}/", {"active": False, "department": None}, format="json")
    assert r.status_code == 200 and r.json()["active"] is False and r.json()["department"] is None
    assert api.get(f"/api/v1/canned-replies/{reply_id}/").status_code == 200
    # Agents read replies through their tickets; the catalogue is the supervisors'.
    assert agent_api.get("/api/v1/canned-replies/").status_code == 403
    assert agent_api.post("/api/v1/canned-replies/", {"title": "X", "body": "y"}).status_code == 403
    assert agent_api.delete(f"/api/v1/canned-replies/{reply_id}/").status_code == 403
    assert api.delete(f"/api/v1/canned-replies/{reply_id}/").status_code == 204
    assert api.delete(f"/api/v1/canned-replies/{reply_id}/").status_code == 404
    assert api.patch("/api/v1/canned-replies/999999/", {"title": "x"}).status_code == 404


# --- agents online, availability, offers -------------------------------------------------------

def test_agents_online_lists_connected_staff_with_load(agent, agent_api, django_assert_max_num_queries):
    others = [make_ready(UserFactory(username=f"agent{i}", role="agent", capacity=4)) for i in range(8)]
    make_ready(agent, available=False)
    UserFactory(username="offline", role="agent")  # console closed: not listed
    TicketFactory(assignee=others[0], status="open")
    TicketFactory(assignee=others[0], status="waiting")  # the resident's turn: not load
    Offer.objects.create(ticket=TicketFactory(), agent=others[0], kind="ticket", expires_at=timezone.now())

    with django_assert_max_num_queries(6):
        r = agent_api.get("/api/v1/agents/online/")

    assert r.status_code == 200
    rows = {row["username"]: row for row in r.json()}
    assert set(rows) == {"anna", *(u.username for u in others)}
    assert rows["agent0"] | {"name": None} == {"username": "agent0", "name": None, "role": "agent", "available": True,
                                               "load": 2, "capacity": 4}
    assert rows["anna"]["available"] is False and rows["anna"]["name"] == "Anna"


def test_availability_is_set_by_the_agent(agent, agent_api, caseworker):
    make_ready(agent, available=False)
    r = agent_api.post("/api/v1/me/availability/", {"available": True})
    assert r.status_code == 200 and r.json()["available"] is True
    assert AgentStatus.objects.get(user=agent).available is True
    assert agent_api.post("/api/v1/me/availability/", {"available": "maybe"}).status_code == 400
    # Caseworkers work their department's queue; they are not offered work.
    assert client_for(caseworker).post("/api/v1/me/availability/", {"available": True}).status_code == 403


def test_offers_accept_and_decline_over_rest(agent, agent_api, agent2, django_assert_max_num_queries):
    make_ready(agent)
    ticket, other = TicketFactory(), TicketFactory()
    expires = timezone.now() + timezone.timedelta(seconds=30)
    offer = Offer.objects.create(ticket=ticket, agent=agent, kind="ticket", expires_at=expires)
    declined = Offer.objects.create(ticket=other, agent=agent, kind="ticket", expires_at=expires)
    for _ in range(5):
        Offer.objects.create(ticket=TicketFactory(), agent=agent, kind="ticket", expires_at=expires)

    with django_assert_max_num_queries(3):
        listed = agent_api.get("/api/v1/offers/")
    assert len(listed.json()) == 7

    r = agent_api.post(f"/api/v1/offers/{offer.pk}/accept/")
    assert r.status_code == 200, r.json()
    assert r.json()["state"] == "accepted" and r.json()["ticket"] == ticket.reference
    assert Ticket.objects.get(pk=ticket.pk).assignee == agent
    assert agent_api.post(f"/api/v1/offers/{offer.pk}/accept/").status_code == 409
    assert agent_api.post(f"/api/v1/offers/{declined.pk}/decline/").json()["state"] == "declined"
    assert agent_api.post(f"/api/v1/offers/{declined.pk}/accept/").status_code == 409
    assert agent_api.post("/api/v1/offers/999999/accept/").status_code == 404
    # Another agent's offer is not theirs to take.
    assert client_for(agent2).post(f"/api/v1/offers/{declined.pk}/decline/").status_code == 404


def test_a_reply_to_a_merged_duplicate_lands_in_the_ticket_it_was_merged_into(agent_api, null_router):
    from contactcentre.intake.base import InboundMessage
    from contactcentre.intake.services import intake_receive

    def mail(text: str, *, ref: str = "", msgid: str = "", replying_to: tuple[str, ...] = ()) -> Ticket:
        return intake_receive(InboundMessage(
            channel="email", sender_email="karin@example.org", subject="Staket", body_text=text,
            external_id=msgid, thread_reference=ref, thread_external_ids=replying_to)).ticket

    target = mail("Får jag bygga ett staket?", msgid="<a@example.org>")
    duplicate = mail("Jag frågar igen om staketet", msgid="<b@example.org>")
    assert duplicate.pk != target.pk
    r = agent_api.post(f"/api/v1/tickets/{duplicate.reference}/merge/", {"into": target.reference})
    assert r.status_code == 200, r.json()

    by_reference = mail("Tillägg: staketet blir 1,2 m", ref=duplicate.reference, msgid="<c@example.org>")
    by_header = mail("Och en ritning", replying_to=("<b@example.org>",), msgid="<d@example.org>")
    assert by_reference.pk == target.pk and by_header.pk == target.pk
    assert Ticket.objects.count() == 2
    assert target.messages.count() == 4
