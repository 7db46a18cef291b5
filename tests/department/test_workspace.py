"""The department workspace's scope and actions, and the supervisor's counts (no browser)."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from contactcentre.departments.selectors import supervisor_counts
from contactcentre.intake.chat.models import ChatSession
from contactcentre.intake.phone.models import CallSession
from contactcentre.tickets.models import LiveEvent, Message, Ticket
from tests.factories import DepartmentFactory, TicketFactory, UserFactory

from .conftest import make_escalated

pytestmark = pytest.mark.django_db


def signed_in(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    return client


def test_caseworkers_see_their_own_departments_escalations_only(agent, caseworker, miljo_caseworker):
    ours = make_escalated(agent=agent, code="bygglov", subject="Altan i Råsunda")
    theirs = make_escalated(agent=agent, code="miljotillsyn", subject="Buller från fläkt")
    not_escalated = TicketFactory(subject="Hos kontaktcenter", department=ours.department, status="open")
    client = signed_in(caseworker)
    page = client.get("/department/").content.decode()
    assert ours.reference in page and "Altan i Råsunda" in page
    assert theirs.reference not in page and "Buller" not in page
    assert not_escalated.reference not in page
    assert client.get(f"/department/t/{ours.reference}/").status_code == 200
    assert client.get(f"/department/t/{theirs.reference}/").status_code == 404
    assert client.get(f"/department/t/{not_escalated.reference}/").status_code == 404
    assert client.post(f"/department/t/{theirs.reference}/accept/").status_code == 404
    # A department picked in the URL does not widen a caseworker's scope.
    assert theirs.reference not in client.get("/department/?d=miljotillsyn").content.decode()


def test_admins_pick_a_department_and_agents_have_no_workspace(agent, departments):
    theirs = make_escalated(agent=agent, code="miljotillsyn")
    admin = UserFactory(username="adam", role="admin")
    page = signed_in(admin).get("/department/?d=miljotillsyn").content.decode()
    assert theirs.reference in page and 'id="ws-dept"' in page
    assert signed_in(agent).get("/department/").status_code == 403


def test_accept_ask_answer_and_resolve(agent, caseworker, django_capture_on_commit_callbacks):
    ticket = make_escalated(agent=agent, code="bygglov")
    client = signed_in(caseworker)
    base = f"/department/t/{ticket.reference}"
    assert client.post(f"{base}/accept/").status_code == 302
    ticket.refresh_from_db()
    assert ticket.assignee == caseworker and ticket.status == "escalated"

    client.post(f"{base}/ask/", {"ask-body": "Hur hög blir altanen?"})
    ticket.refresh_from_db()
    assert ticket.status == "waiting"
    assert Message.objects.filter(ticket=ticket, direction="outbound", body_text="Hur hög blir altanen?").exists()

    client.post(f"{base}/answer/", {"answer-body": "Då behövs inget bygglov.", "answer-resolve": "on"})
    ticket.refresh_from_db()
    assert ticket.status == "resolved"
    assert ticket.first_contact_resolution is False

    empty = client.post(f"{base}/answer/", {"answer-body": ""}, follow=True)
    assert "Skriv ett svar." in empty.content.decode()


def test_resolve_from_the_workspace(agent, caseworker):
    ticket = make_escalated(agent=agent, code="bygglov")
    signed_in(caseworker).post(f"/department/t/{ticket.reference}/resolve/", {"resolve-note": "Klart i telefon."})
    ticket.refresh_from_db()
    assert ticket.status == "resolved"
    assert Message.objects.filter(ticket=ticket, direction="note", body_text="Klart i telefon.").exists()


def test_return_to_the_contact_centre(agent, caseworker, django_capture_on_commit_callbacks):
    ticket = make_escalated(agent=agent, code="bygglov")
    client = signed_in(caseworker)
    client.post(f"/department/t/{ticket.reference}/accept/")
    refused = client.post(f"/department/t/{ticket.reference}/return/", {"return-note": ""}, follow=True)
    assert "Skriv en anteckning" in refused.content.decode()
    response = client.post(f"/department/t/{ticket.reference}/return/", {"return-note": "Gäller parkering, inte bygglov."})
    assert response.status_code == 302 and response["Location"].startswith("/department/")
    ticket.refresh_from_db()
    assert (ticket.status, ticket.assignee_id, ticket.escalated_at) == ("open", None, None)
    assert ticket.department.code == "bygglov"  # kept: the agent decides where it goes next
    assert ticket.events.filter(kind="returned").exists()
    assert Message.objects.filter(ticket=ticket, direction="note", body_text="Gäller parkering, inte bygglov.").exists()
    # The department's screens hear about it (and can resync it), then lose access.
    event = LiveEvent.objects.filter(ticket_reference=ticket.reference).latest("id")
    assert (event.payload["change"], event.department_code) == ("returned", "bygglov")
    assert client.get(f"/department/t/{ticket.reference}/").status_code == 404
    # The contact centre can escalate it again.
    from contactcentre.tickets.services import ticket_escalate

    ticket_escalate(ticket_id=ticket.pk, actor=agent, department_code="miljotillsyn")


# --- supervisor -----------------------------------------------------------------------------------

def test_supervisor_counts(agent, supervisor, agent2):
    from contactcentre.intake.chat.presence import agent_presence_touch

    now = timezone.now()
    for n in range(2):
        ChatSession.objects.create(token_hash=hashlib.sha256(f"t{n}".encode()).hexdigest(),
                                   ticket=TicketFactory(channel="chat"), state="waiting_for_agent", waiting_since=now)
    ChatSession.objects.create(token_hash="x" * 64, ticket=TicketFactory(channel="chat"), state="with_agent")
    CallSession.objects.create(call_id="c1", state="ringing", started_at=now - timedelta(seconds=20))
    CallSession.objects.create(call_id="c2", state="ringing", started_at=now - timedelta(hours=2))  # lost its end
    CallSession.objects.create(call_id="c3", state="answered")
    # Wall-clock due times far from business hours' influence: 90 % used, 10 % used, past due.
    TicketFactory(status="open", channel="email", created_at=now - timedelta(days=9),
                  resolution_due_at=now + timedelta(days=1))
    TicketFactory(status="open", channel="email", created_at=now - timedelta(days=1),
                  resolution_due_at=now + timedelta(days=9))
    TicketFactory(status="open", channel="phone", created_at=now - timedelta(days=2),
                  first_response_due_at=now - timedelta(hours=1))
    TicketFactory(status="resolved", channel="web", created_at=now - timedelta(days=3),
                  resolution_due_at=now - timedelta(days=1))  # not active: not counted
    agent_presence_touch(channel_name="chan-a", user_id=agent.pk)
    agent_presence_touch(channel_name="chan-b", user_id=agent2.pk)
    agent_presence_touch(channel_name="chan-a2", user_id=agent.pk)

    counts = supervisor_counts(now=now)
    assert counts["waiting_chats"] == 2
    assert counts["ringing_calls"] == 1
    assert counts["tickets_near_due"] == 1
    assert counts["tickets_past_due"] == 1
    assert counts["agents_online"] == 2
    today = Ticket.objects.filter(created_at__gte=timezone.localtime(now).replace(hour=0, minute=0, second=0,
                                                                                  microsecond=0))
    assert counts["today_by_channel"]["chat"] == today.filter(channel="chat").count() == 3
    assert counts["today_total"] == today.count()

    client = signed_in(supervisor)
    data = client.get("/supervisor/counts/").json()
    assert data["waiting_chats"] == 2 and data["ringing_calls"] == 1
    page = client.get("/supervisor/").content.decode()
    assert "Chattar i kö" in page and 'data-count="waiting_chats">2<' in page


def test_the_supervisor_view_is_for_supervisors(caseworker, agent):
    assert signed_in(caseworker).get("/supervisor/").status_code == 403
    assert signed_in(agent).get("/supervisor/counts/").status_code == 403
    assert Client().get("/supervisor/").status_code == 302  # to the login page


def test_the_public_directory(departments):
    departments["bygglov"].opening_hours = {"mon": [["09:00", "12:00"]], "tue": [["09:00", "12:00"], ["13:00", "15:00"]]}
    departments["bygglov"].save()
    page = Client().get("/kontakt/").content.decode()
    assert "bygglov@solna.example.org" in page and 'href="tel:084650041' in page
    assert "09:00–12:00, 13:00–15:00" in page and "Stängt" in page


def test_supervisor_counts_read_the_stored_warning_points():
    """Tickets with a commitment row are counted in SQL from its 80 % points (computed in
    business time when the commitment was applied) and the ticket's due times."""
    from contactcentre.commitments.models import TicketCommitment

    now = timezone.now()
    near = TicketFactory(status="open", resolution_due_at=now + timedelta(hours=3))
    TicketCommitment.objects.create(ticket=near, resolution_warn_at=now - timedelta(minutes=5))
    calm = TicketFactory(status="open", resolution_due_at=now + timedelta(days=3))
    TicketCommitment.objects.create(ticket=calm, resolution_warn_at=now + timedelta(days=2))
    late = TicketFactory(status="escalated", department=DepartmentFactory(code="miljo"),
                         escalated_at=now - timedelta(days=20), department_due_at=now - timedelta(hours=1))
    TicketCommitment.objects.create(ticket=late, department_warn_at=now - timedelta(days=2))
    answered = TicketFactory(status="open", first_response_at=now - timedelta(hours=2),
                             first_response_due_at=now - timedelta(hours=1))  # answered in time: not late
    TicketCommitment.objects.create(ticket=answered, first_response_warn_at=now - timedelta(hours=3))
    counts = supervisor_counts(now=now)
    assert (counts["tickets_near_due"], counts["tickets_past_due"]) == (1, 1)


def _naive_near_and_past(now):  # type: ignore[no-untyped-def]
    """Every active ticket judged one by one in Python: from its commitment row's 80 % points when
    it has one, by the business-time rule otherwise."""
    from contactcentre.commitments.calendar import BusinessCalendar
    from contactcentre.commitments.models import TicketCommitment
    from contactcentre.departments.selectors import _commitment_state

    near = past = 0
    rows = {c.ticket_id: c for c in TicketCommitment.objects.all()}
    for t in Ticket.objects.filter(status__in=Ticket.ACTIVE_STATUSES):
        c = rows.get(t.pk)
        if c is None:
            if t.first_response_due_at or t.resolution_due_at or t.department_due_at:
                state = _commitment_state({f: getattr(t, f) for f in (
                    "status", "created_at", "escalated_at", "first_response_at", "first_response_due_at",
                    "resolution_due_at", "department_due_at")}, now, BusinessCalendar())
                near += state == "near"
                past += state == "breach"
            continue
        escalated = t.status == Ticket.Status.ESCALATED
        is_past = ((t.first_response_at is None and t.first_response_due_at is not None and t.first_response_due_at <= now)
                   or (t.resolution_due_at is not None and t.resolution_due_at <= now)
                   or (escalated and t.department_due_at is not None and t.department_due_at <= now))
        warned = ((t.first_response_at is None and c.first_response_warn_at is not None and c.first_response_warn_at <= now)
                  or (t.resolution_due_at is not None and c.resolution_warn_at is not None and c.resolution_warn_at <= now)
                  or (escalated and t.department_due_at is not None and c.department_warn_at is not None
                      and c.department_warn_at <= now))
        past += is_past
        near += warned and not is_past
    return near, past


def test_supervisor_near_and_past_counts_equal_the_naive_judgement_and_follow_state_changes(supervisor, agent):
    """On PostgreSQL the counts come from one SQL statement (a per-ticket lookup of the commitment
    row); on SQLite from the ORM. Both must equal judging every active ticket in Python, with and
    without commitment rows, and follow a ticket that is answered or resolved."""
    from contactcentre.commitments.models import TicketCommitment
    from contactcentre.departments.selectors import _commitment_counts_orm
    from contactcentre.tickets import services

    now = timezone.now()
    h = timedelta(hours=1)
    dept = DepartmentFactory(code="miljo")
    cases = [  # (ticket fields, commitment warn points or None for no row)
        ({"status": "new", "first_response_due_at": now + 2 * h, "resolution_due_at": now + 40 * h},
         {"first_response_warn_at": now - h, "resolution_warn_at": now + 30 * h}),                  # near (first response)
        ({"status": "new", "first_response_due_at": now - h}, {"first_response_warn_at": now - 2 * h}),  # past
        ({"status": "open", "first_response_at": now - 3 * h, "first_response_due_at": now - h,
          "resolution_due_at": now + 9 * h}, {"first_response_warn_at": now - 2 * h, "resolution_warn_at": now + h}),  # calm
        ({"status": "waiting", "resolution_due_at": now + h}, {"resolution_warn_at": now - h}),       # near
        ({"status": "escalated", "department": dept, "escalated_at": now - 200 * h, "department_due_at": now - h},
         {"department_warn_at": now - 50 * h}),                                                       # past (department)
        ({"status": "escalated", "department": dept, "escalated_at": now - 100 * h,
          "department_due_at": now + 10 * h, "resolution_due_at": now + 500 * h},
         {"department_warn_at": now - h, "resolution_warn_at": now + 400 * h}),                        # near (department)
        ({"status": "open", "created_at": now - 240 * h, "resolution_due_at": now - h}, None),        # past, no row
        ({"status": "open", "created_at": now - 24 * h, "resolution_due_at": now + 2400 * h}, None),  # calm, no row
        ({"status": "open"}, None),                                                                    # no promise at all
        ({"status": "resolved", "resolution_due_at": now - h}, {"resolution_warn_at": now - 2 * h}),  # not active
    ]
    tickets = []
    for fields, warn in cases:
        ticket = TicketFactory(**fields)
        if warn is not None:
            TicketCommitment.objects.create(ticket=ticket, **warn)
        tickets.append(ticket)

    def counted() -> tuple[int, int]:
        counts = supervisor_counts(now=now)
        assert signed_in(supervisor).get("/supervisor/counts/").status_code == 200
        return counts["tickets_near_due"], counts["tickets_past_due"]

    orm_near, orm_past, _ = _commitment_counts_orm(now)
    assert counted() == _naive_near_and_past(now) == (3, 3)
    assert (orm_near, orm_past) == (3, 2)  # the ORM's SQL part; the ticket without a row is judged after

    services.ticket_resolve(ticket_id=tickets[1].pk, actor=agent)  # past and resolved: no longer active
    Ticket.objects.filter(pk=tickets[0].pk).update(first_response_at=now)  # answered: its first clock stops
    assert counted() == _naive_near_and_past(now) == (2, 2)
