"""Every read of personal data by staff leaves a row: who, when, what. One INSERT per request."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from contactcentre.records.models import AccessLog
from tests.trust.conftest import World

pytestmark = pytest.mark.django_db


def test_reads_are_logged_with_who_and_what(world: World) -> None:
    ticket = world.tickets["escalated_own"]
    client = world.client("caseworker_own")
    assert client.get(f"/api/v1/tickets/{ticket.reference}/").status_code == 200
    assert client.get(f"/api/v1/tickets/{ticket.reference}/messages/").status_code == 200
    assert client.get(f"/api/v1/attachments/{world.attachments['escalated_own'].pk}/").status_code == 200
    assert client.get(f"/api/v1/contacts/{ticket.contact_id}/").status_code == 200
    rows = list(AccessLog.objects.order_by("id"))
    assert [(r.username, r.action) for r in rows] == [
        ("cecilia", "ticket.detail"), ("cecilia", "ticket.messages"), ("cecilia", "attachment.download"),
        ("cecilia", "contact.detail"),
    ]
    assert {r.ticket_reference for r in rows[:3]} == {ticket.reference}
    assert rows[2].object_id == str(world.attachments["escalated_own"].pk)
    assert all(r.contact_id == ticket.contact_id and r.created_at for r in rows)


def test_refused_reads_are_not_logged_as_reads(world: World) -> None:
    ticket = world.tickets["escalated_other"]
    assert world.client("caseworker_own").get(f"/api/v1/tickets/{ticket.reference}/").status_code == 404
    assert not AccessLog.objects.exists()


def test_one_insert_per_request(world: World) -> None:
    ticket = world.tickets["new"]
    client = world.client("agent")
    client.get(f"/api/v1/tickets/{ticket.reference}/messages/")  # warm the token lookup path
    with CaptureQueriesContext(connection) as queries:
        client.get(f"/api/v1/tickets/{ticket.reference}/messages/")
    inserts = [q for q in queries.captured_queries if "records_accesslog" in q["sql"]]
    assert len(inserts) == 1 and inserts[0]["sql"].startswith("INSERT")


def test_the_log_is_append_only(world: World) -> None:
    world.client("agent").get(f"/api/v1/tickets/{world.tickets['new'].reference}/")
    row = AccessLog.objects.get()
    row.username = "someone-else"
    with pytest.raises(ValueError):
        row.save()
    with pytest.raises(ValueError):
        row.delete()


@pytest.mark.parametrize("role,code", [("agent", 403), ("caseworker_own", 403), ("supervisor", 200), ("admin", 200),
                                       ("anonymous", 401), ("norole", 403)])
def test_supervisors_and_admins_list_the_log(world: World, role: str, code: int) -> None:
    world.client("agent").get(f"/api/v1/tickets/{world.tickets['new'].reference}/")
    world.client("caseworker_own").get(f"/api/v1/tickets/{world.tickets['escalated_own'].reference}/")
    r = world.client(role).get("/api/v1/records/access-log/")
    assert r.status_code == code
    if code == 200:
        assert {row["username"] for row in r.json()["results"]} >= {"anna", "cecilia"}


def test_the_log_filters_by_ticket_and_user(world: World) -> None:
    a, b = world.tickets["new"], world.tickets["escalated_own"]
    world.client("agent").get(f"/api/v1/tickets/{a.reference}/")
    world.client("agent").get(f"/api/v1/tickets/{b.reference}/")
    world.client("caseworker_own").get(f"/api/v1/tickets/{b.reference}/")
    sup = world.client("supervisor")
    by_ticket = sup.get("/api/v1/records/access-log/", {"ticket": b.reference}).json()["results"]
    assert {(r["username"], r["ticket_reference"]) for r in by_ticket} == {("anna", b.reference), ("cecilia", b.reference)}
    by_user = sup.get("/api/v1/records/access-log/", {"user": "cecilia"}).json()["results"]
    assert [r["ticket_reference"] for r in by_user] == [b.reference]
    by_both = sup.get("/api/v1/records/access-log/", {"user": "anna", "ticket": str(a.pk)}).json()["results"]
    assert [r["ticket_reference"] for r in by_both] == [a.reference]


def test_reads_in_the_html_console_and_workspace_are_logged(world: World) -> None:
    from django.test import Client

    ticket = world.tickets["escalated_own"]
    agent, caseworker = Client(), Client()
    agent.force_login(world.users["agent"])
    caseworker.force_login(world.users["caseworker_own"])
    assert agent.get(f"/console/t/{ticket.reference}/").status_code == 200
    assert caseworker.get(f"/department/t/{ticket.reference}/").status_code == 200
    # A refused read (another department's ticket) is not a read.
    other = world.tickets["escalated_other"]
    assert caseworker.get(f"/department/t/{other.reference}/").status_code == 404
    rows = list(AccessLog.objects.order_by("id"))
    assert [(r.user_id, r.action, r.ticket_reference) for r in rows] == [
        (world.users["agent"].pk, "ticket.detail", ticket.reference),
        (world.users["caseworker_own"].pk, "ticket.detail", ticket.reference),
    ]
    assert rows[0].path.startswith("/console/") and rows[1].path.startswith("/department/")
