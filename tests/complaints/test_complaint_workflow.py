"""A complaint passes through registered -> investigated -> answered -> closed, refuses illegal
or incomplete moves, and shows in the complaint report."""

from __future__ import annotations

import pytest

from contactcentre.complaints.models import Complaint
from contactcentre.intake.ports import RoutingOutcome, RoutingRequest
from contactcentre.tickets.models import Ticket, TicketEvent
from tests.conftest import client_for, web_enquiry

pytestmark = pytest.mark.django_db


def complaint_router(request: RoutingRequest) -> RoutingOutcome:
    return RoutingOutcome(action="agent", complaint=True, category="complaint", language="sv")


def test_agent_marks_a_ticket_and_the_complaint_runs_its_workflow(null_router, api, agent, supervisor, departments):
    assert web_enquiry(api).status_code == 201
    ticket = Ticket.objects.get()
    Ticket.objects.filter(pk=ticket.pk).update(department=departments["bygglov"])
    staff = client_for(agent)

    marked = staff.post(f"/api/v1/tickets/{ticket.reference}/complaint/")
    assert marked.status_code == 201, marked.content
    body = marked.json()
    assert body["status"] == "registered" and body["source"] == "agent" and body["department"] == "bygglov"
    assert body["answer_due_at"] is not None
    assert staff.post(f"/api/v1/tickets/{ticket.reference}/complaint/").status_code == 200  # idempotent
    assert Ticket.objects.get().is_complaint is True
    cid = body["id"]

    # Refused: skipping a stage (409), closing without root cause / improvement (400/409).
    refused = staff.post(f"/api/v1/complaints/{cid}/answer/", {"answer_summary": "Svar"}, format="json")
    assert refused.status_code == 409 and refused.json()["code"] == "transition_not_allowed"
    assert staff.post(f"/api/v1/complaints/{cid}/close/", {"root_cause": "information", "improvement_action": "x"},
                      format="json").status_code == 409
    assert staff.post(f"/api/v1/complaints/{cid}/investigate/", {"findings": "  "}, format="json").status_code == 400

    r = staff.post(f"/api/v1/complaints/{cid}/investigate/", {"findings": "Informationen på webben var fel."}, format="json")
    assert r.status_code == 200 and r.json()["status"] == "investigated" and r.json()["owner"] == "anna"
    r = staff.post(f"/api/v1/complaints/{cid}/answer/", {"answer_summary": "Vi bad om ursäkt och rättade."}, format="json")
    assert r.status_code == 200 and r.json()["answered_on_time"] is True
    no_action = staff.post(f"/api/v1/complaints/{cid}/close/", {"root_cause": "information", "improvement_action": " "},
                           format="json")
    assert no_action.status_code == 400
    bad_cause = staff.post(f"/api/v1/complaints/{cid}/close/", {"root_cause": "nonsense", "improvement_action": "Ny text"},
                           format="json")
    assert bad_cause.status_code == 400 and bad_cause.json()["code"] == "root_cause_required"
    r = staff.post(f"/api/v1/complaints/{cid}/close/",
                   {"root_cause": "information", "improvement_action": "Webbsidan om bygglov skrivs om."}, format="json")
    assert r.status_code == 200 and r.json()["status"] == "closed" and r.json()["root_cause"] == "information"
    again = staff.post(f"/api/v1/complaints/{cid}/close/", {"root_cause": "information", "improvement_action": "x"},
                       format="json")
    assert again.status_code == 409

    # Every step is in the ticket's audit log.
    steps = list(TicketEvent.objects.filter(ticket=ticket, kind="complaint").values_list("to_value", flat=True))
    assert steps == ["registered", "investigated", "answered", "closed"]

    # The complaint report: supervisors only.
    assert staff.get("/api/v1/reports/complaints/").status_code == 403
    report = client_for(supervisor).get("/api/v1/reports/complaints/").json()
    assert report["total"] == 1
    assert report["by_status"] == {"registered": 0, "investigated": 0, "answered": 0, "closed": 1}
    assert report["by_department"][0]["department"] == "bygglov" and report["by_department"][0]["closed"] == 1
    assert report["by_root_cause"] == [{"root_cause": "information", "name": "Brister i information", "count": 1}]
    assert report["answered_on_time"]["kept"] == 1 and report["answered_on_time"]["share"] == 1.0

    listed = staff.get("/api/v1/complaints/?status=closed").json()
    assert [c["ticket"] for c in listed] == [ticket.reference]


def test_a_complaint_the_router_detects_is_registered_at_intake(settings, api):
    settings.CONTACTCENTRE_ROUTER = "tests.complaints.test_complaint_workflow.complaint_router"
    assert web_enquiry(api, message="Jag vill klaga på hur jag blev bemött.").status_code == 201
    complaint = Complaint.objects.select_related("ticket").get()
    assert complaint.source == "routing" and complaint.status == "registered" and complaint.ticket.is_complaint
    # Ten working days from registration, at the close of business.
    assert complaint.answer_due_at > complaint.registered_at


def test_the_sweep_registers_flagged_tickets_without_a_complaint(null_router, api):
    from contactcentre.complaints.services import complaints_sweep

    web_enquiry(api)
    Ticket.objects.update(is_complaint=True)
    assert complaints_sweep() == 1
    assert complaints_sweep() == 0
    assert Complaint.objects.count() == 1
