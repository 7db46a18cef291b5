"""Due times on intake and through the lifecycle; warnings and breaches, live."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from rest_framework.authtoken.models import Token

from contactcentre.asgi import application
from contactcentre.commitments.models import CommitmentPolicy
from contactcentre.commitments.services import commitments_check, policies_changed
from contactcentre.tickets import services
from contactcentre.tickets.models import Ticket, TicketEvent
from tests.conftest import web_enquiry
from tests.factories import DepartmentFactory, UserFactory

STO = ZoneInfo("Europe/Stockholm")


def at(*args):
    return datetime(*args, tzinfo=STO)


@pytest.fixture(autouse=True)
def _fresh_policies(db):
    # The defaults come from a data migration, and a transactional test elsewhere may have
    # flushed them: seed them again, the same way.
    import importlib

    from django.apps import apps

    importlib.import_module("contactcentre.commitments.migrations.0002_default_policies").create(apps, None)
    policies_changed()
    yield
    policies_changed()


@pytest.mark.django_db
@pytest.mark.usefixtures("null_router")
def test_intake_sets_due_times_in_business_hours(api):
    # Friday 15:00 + 18 working hours (2 days of 9 h): Mon 8-17 (9 h) + Tue 8-17 (9 h)... from Fri 15:
    # Fri 2 h, Mon 9 h, Tue 7 h -> Tuesday 15:00.
    with time_machine.travel(at(2026, 11, 20, 15), tick=False):
        ref = web_enquiry(api).json()["reference"]
    ticket = Ticket.objects.get(reference=ref)
    assert ticket.first_response_due_at == at(2026, 11, 24, 15)
    assert ticket.commitment.first_response_warn_at < ticket.first_response_due_at


@pytest.mark.django_db
@pytest.mark.usefixtures("null_router")
def test_waiting_on_the_resident_pauses_the_clock(api):
    agent = UserFactory(username="anna", role="agent")
    with time_machine.travel(at(2026, 11, 23, 9), tick=False):
        ticket = Ticket.objects.get(reference=web_enquiry(api).json()["reference"])
    original = ticket.resolution_due_at
    with time_machine.travel(at(2026, 11, 23, 10), tick=False):
        services.ticket_reply(ticket_id=ticket.pk, actor=agent, body="Vilken adress gäller det?", status_after="waiting")
    # The resident answers a working day later: the due time moves by the 9 h waited.
    with time_machine.travel(at(2026, 11, 24, 10), tick=False):
        services.ticket_transition(ticket_id=ticket.pk, to="open", actor=agent)
    ticket.refresh_from_db()
    assert ticket.resolution_due_at - original >= timedelta(hours=9)


@pytest.mark.django_db
def test_department_clock_moves_off_closed_days():
    bygg = DepartmentFactory(code="bygglov")
    CommitmentPolicy.objects.create(name="Bygglov PBL", department=bygg, department_days=70)
    policies_changed()
    agent = UserFactory(username="anna", role="agent")
    from tests.factories import TicketFactory

    # Escalated Friday 10 April 2026: +70 days = Friday 19 June = midsommarafton -> Monday 22 June.
    ticket = TicketFactory()
    with time_machine.travel(at(2026, 4, 10, 10), tick=False):
        services.ticket_escalate(ticket_id=ticket.pk, actor=agent, department_code="bygglov")
    ticket.refresh_from_db()
    assert ticket.department_due_at.astimezone(STO).date().isoformat() == "2026-06-22"


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("null_router")
async def test_a_breach_reaches_a_connected_supervisor():
    @database_sync_to_async
    def setup():
        sup = UserFactory(username="sara", role="supervisor")
        with time_machine.travel(at(2026, 11, 23, 9), tick=False):
            from contactcentre.intake.web import web_form_receive

            ticket = web_form_receive(data={"email": "a@example.org", "message": "Hej"}).ticket
        return Token.objects.create(user=sup).key, ticket

    key, ticket = await setup()
    comm = WebsocketCommunicator(application, "/ws/agent/", headers=[(b"authorization", f"Token {key}".encode())])
    assert (await comm.connect())[0]
    await comm.receive_json_from()

    @database_sync_to_async
    def check(moment):
        # The clock is passed in, not travelled to: the channel layer expires group memberships by
        # the wall clock, and a jump of days would silently drop the frames under test.
        return commitments_check(now=moment)

    assert await check(at(2026, 11, 23, 10)) == {"warnings": 0, "breaches": 0}
    # 80% of 18 working hours = 14.4 h -> Tuesday 14:24
    assert await check(at(2026, 11, 24, 15)) == {"warnings": 1, "breaches": 0}
    frame = await comm.receive_json_from(timeout=3)
    assert (frame["type"], frame["ticket"], frame["clock"]) == ("commitment.warning", ticket.reference, "first_response")
    assert await check(at(2026, 11, 25, 9)) == {"warnings": 0, "breaches": 1}
    frame = await comm.receive_json_from(timeout=3)
    assert (frame["type"], frame["clock"]) == ("commitment.breached", "first_response")
    # Announced once: checking again says nothing new.
    assert await check(at(2026, 11, 25, 10)) == {"warnings": 0, "breaches": 0}
    assert await database_sync_to_async(
        lambda: TicketEvent.objects.filter(ticket=ticket, kind="commitment_breached").count())() == 1
    await comm.disconnect()


@pytest.mark.django_db
@pytest.mark.usefixtures("null_router")
def test_public_page_shows_how_well_each_commitment_was_kept(api, client):
    agent = UserFactory(username="anna", role="agent")
    with time_machine.travel(at(2026, 11, 16, 9), tick=False):
        kept = Ticket.objects.get(reference=web_enquiry(api, email="a@example.org").json()["reference"])
        late = Ticket.objects.get(reference=web_enquiry(api, email="b@example.org").json()["reference"])
    with time_machine.travel(at(2026, 11, 16, 10), tick=False):
        services.ticket_reply(ticket_id=kept.pk, actor=agent, body="Svar i tid")
    with time_machine.travel(at(2026, 11, 19, 10), tick=False):
        services.ticket_reply(ticket_id=late.pk, actor=agent, body="Sent svar")
    with time_machine.travel(at(2026, 11, 20, 10), tick=False):
        from contactcentre.commitments.selectors import commitments_kept

        web = next(r for r in commitments_kept() if r.policy.channel == "web")
        assert (web.first_response_kept, web.first_response_measured, web.first_response_share) == (1, 2, 0.5)
        page = client.get("/ataganden/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "Vi svarar på webbformulär inom 2 arbetsdagar." in html and "50 %" in html


@pytest.mark.django_db
def test_the_completeness_check_is_a_milestone_of_its_own():
    # PBL: a building-permit decision within 10 weeks, the completeness check within 3 weeks.
    bygg = DepartmentFactory(code="bygglov")
    CommitmentPolicy.objects.create(name="Bygglov PBL", department=bygg, department_days=70, department_check_days=21)
    policies_changed()
    agent = UserFactory(username="anna", role="agent")
    caseworker = UserFactory(username="cecilia", role="caseworker", department=bygg)
    from tests.factories import TicketFactory

    late, answered = TicketFactory(), TicketFactory()
    with time_machine.travel(at(2026, 4, 10, 10), tick=False):
        for ticket in (late, answered):
            services.ticket_escalate(ticket_id=ticket.pk, actor=agent, department_code="bygglov")
    late.commitment.refresh_from_db()
    # +21 days is Friday 1 May (Första maj): the milestone moves to Monday 4 May.
    assert late.commitment.department_check_due_at.astimezone(STO).date().isoformat() == "2026-05-04"
    with time_machine.travel(at(2026, 4, 20, 10), tick=False):
        services.ticket_reply(ticket_id=answered.pk, actor=caseworker, body="Ansökan är komplett.")
    answered.commitment.refresh_from_db()
    assert answered.commitment.department_check_done_at is not None

    assert commitments_check(now=at(2026, 5, 5, 9)) == {"warnings": 0, "breaches": 1}
    assert list(TicketEvent.objects.filter(kind="commitment_breached").values_list("ticket_id", "to_value")) == [
        (late.pk, "department_check")
    ]
