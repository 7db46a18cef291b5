"""The console's server-rendered pages and partials: access, content, constant query counts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from contactcentre.tickets.models import Message, Ticket
from tests.factories import TicketFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def client_as(client):
    def login(user):
        client.force_login(user)
        return client

    return login


def test_sign_in_is_required(client):
    response = client.get("/console/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/console/")


def test_caseworkers_use_their_workspace(client_as, departments):
    caseworker = UserFactory(username="bygg", role="caseworker", department=departments["bygglov"])
    assert client_as(caseworker).get("/console/").status_code == 403


def test_queue_lists_tickets_with_commitment_and_swedish_labels(client_as, agent, departments):
    now = timezone.now()
    TicketFactory(subject="Staket mot granne", department=departments["bygglov"], channel="email",
                  first_response_due_at=now + timedelta(minutes=30))
    TicketFactory(subject="Gammal fråga", first_response_due_at=now - timedelta(hours=1))
    TicketFactory(subject="Utan åtagande")
    TicketFactory(subject="Klar", status=Ticket.Status.RESOLVED)
    html = client_as(agent).get("/console/").content.decode()
    assert "Staket mot granne" in html and "Utan åtagande" in html
    assert "Klar" not in html  # "all active" by default
    assert "sla-warn" in html and "sla-breach" in html and "sla-none" in html
    assert "Ärendekö" in html and "Alla aktiva" in html
    assert 'data-last-event-id="' in html


def test_queue_filters_by_view_channel_and_department(client_as, agent, agent2, departments):
    TicketFactory(subject="Mitt ärende", assignee=agent, status=Ticket.Status.OPEN, channel="chat")
    TicketFactory(subject="Annans ärende", assignee=agent2, status=Ticket.Status.OPEN)
    TicketFactory(subject="Bygg", department=departments["bygglov"])
    c = client_as(agent)
    mine = c.get("/console/?view=mine&partial=rows").content.decode()
    assert "Mitt ärende" in mine and "Annans ärende" not in mine
    assert mine.lstrip().startswith("<tbody")
    chat = c.get("/console/?channel=chat&partial=rows").content.decode()
    assert "Mitt ärende" in chat and ">Bygg<" not in chat
    dept = c.get("/console/?department=bygglov&partial=rows").content.decode()
    assert ">Bygg<" in dept and "Mitt ärende" not in dept


def test_queue_query_count_does_not_grow_with_rows(client_as, agent, departments, django_assert_max_num_queries):
    c = client_as(agent)
    TicketFactory.create_batch(2, department=departments["bygglov"], assignee=agent)
    with django_assert_max_num_queries(12) as few:
        c.get("/console/")
    TicketFactory.create_batch(20, department=departments["bygglov"], assignee=agent)
    with django_assert_max_num_queries(len(few.captured_queries)):
        c.get("/console/")


def test_ticket_view_shows_thread_folded_mail_contact_and_routing(client_as, agent, departments):
    ticket = TicketFactory(subject="Bygglov altan", channel="email", department=departments["bygglov"],
                           routing={"action": "agent", "department": "bygglov", "confidence": 0.42,
                                    "explanation": "Ordet altan pekar på bygglov.", "suggestions": []})
    earlier = TicketFactory(contact=ticket.contact, subject="Tidigare fråga")
    body = "Hej, behöver jag bygglov?\n\n> Den 1 jan skrev ni:\n> gammalt"
    Message.objects.create(ticket=ticket, direction="inbound", channel="email", body_text=body,
                           sender="a@example.org", meta={"fold_at": body.index(">")})
    Message.objects.create(ticket=ticket, direction="note", channel="internal", author=agent, body_text="Kolla detaljplan")
    html = client_as(agent).get(f"/console/t/{ticket.reference}/").content.decode()
    assert "Hej, behöver jag bygglov?" in html
    assert '<details class="folded">' in html and "gammalt" in html
    assert "msg-note" in html and "Kolla detaljplan" in html
    assert earlier.reference in html
    assert "Ordet altan pekar på bygglov." in html
    assert 'id="console-i18n"' in html
    assert "<script>" not in html and "onchange" not in html and "onclick" not in html


def test_ticket_view_warns_when_someone_else_holds_it(client_as, agent, agent2):
    ticket = TicketFactory(assignee=agent2, status=Ticket.Status.OPEN)
    html = client_as(agent).get(f"/console/t/{ticket.reference}/").content.decode()
    assert "handlägger ärendet" in html
    assert 'id="reply-body" name="body" rows="6" required aria-keyshortcuts="r" disabled' in html


def test_unknown_ticket_is_404(client_as, agent):
    assert client_as(agent).get("/console/t/SOL-2026-999999/").status_code == 404


def test_english_is_available(client_as, agent):
    c = client_as(agent)
    c.post("/i18n/setlang/", {"language": "en", "next": "/console/"})
    html = c.get("/console/").content.decode()
    assert "Queue" in html and "All active" in html


def test_an_escalated_ticket_shows_the_departments_clock(client_as, agent, departments):
    now = timezone.now()
    TicketFactory(subject="Hos bygglov", status=Ticket.Status.ESCALATED, department=departments["bygglov"],
                  escalated_at=now, resolution_due_at=now - timedelta(hours=2),
                  department_due_at=now + timedelta(days=9))
    html = client_as(agent).get("/console/?view=escalated").content.decode()
    row = html.split("Hos bygglov", 1)[1].split("</tr>", 1)[0]
    # Not the contact centre's passed resolution time: the department's nine days.
    assert "sla-ok" in row and "sla-breach" not in row
    assert "Avdelningen klar senast" in row


def test_the_queue_shows_a_page_and_more_on_request(client_as, agent):
    from frontend.console_views import QUEUE_PAGE

    for n in range(QUEUE_PAGE + 5):
        TicketFactory(subject=f"Fråga {n}")
    client = client_as(agent)
    html = client.get("/console/").content.decode()
    assert html.count('class="c-subject"') == QUEUE_PAGE
    assert "all=1" in html and "Visa fler" in html
    html = client.get("/console/?all=1").content.decode()
    assert html.count('class="c-subject"') == QUEUE_PAGE + 5
    assert "Visa fler" not in html


def test_queue_times_are_the_compact_text_the_page_clock_keeps(client_as, agent):
    """The server writes ages and time left as console.js's duration() does (so the first paint
    does not change when the script takes over); a commitment still running shows time left,
    one past due the time since, with a minus sign."""
    now = timezone.now()
    TicketFactory(subject="Snart", created_at=now - timedelta(hours=5, minutes=2),
                  first_response_due_at=now + timedelta(hours=1, minutes=30, seconds=20))
    TicketFactory(subject="Sent", created_at=now - timedelta(days=3, hours=1),
                  first_response_due_at=now - timedelta(minutes=20, seconds=10))
    TicketFactory(subject="Nyss", created_at=now - timedelta(minutes=7, seconds=10),
                  resolution_due_at=now + timedelta(days=4, hours=3), first_response_at=now)
    html = client_as(agent).get("/console/").content.decode()

    def row(subject: str) -> str:
        return html.split(f">{subject}<", 1)[1].split("</tr>", 1)[0]

    assert "data-age>5 h 2 min</time>" in row("Snart")
    assert 'class="sla sla-warn"' in row("Snart") and ">1 h 30 min</span>" in row("Snart")
    assert "Första svar senast" in row("Snart")
    assert "data-age>3 d</time>" in row("Sent")
    assert 'class="sla sla-breach"' in row("Sent") and ">\u221220 min</span>" in row("Sent")
    assert "data-age>7 min</time>" in row("Nyss")
    assert 'class="sla sla-ok"' in row("Nyss") and ">4 d</span>" in row("Nyss") and "Löst senast" in row("Nyss")


def test_compact_duration_matches_the_page_clock():
    from frontend.console_views import compact_duration

    # console.js: Math.round to minutes; "N min" below an hour; "H h M min" (or "H h ") below 48 h.
    assert compact_duration(timedelta(seconds=29)) == "0 min"
    assert compact_duration(timedelta(seconds=30)) == "1 min"
    assert compact_duration(timedelta(minutes=-59, seconds=-29)) == "59 min"
    assert compact_duration(timedelta(hours=2)) == "2 h "
    assert compact_duration(timedelta(hours=47, minutes=59)) == "47 h 59 min"
    assert compact_duration(timedelta(hours=48)) == "2 d"
