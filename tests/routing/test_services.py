"""The Django glue: the router behind intake's port, corrections, retraining, preview API and
the management commands."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from contactcentre.intake.ports import RoutingRequest
from contactcentre.tickets.models import Department
from knowledge.services import knowledge_import
from routing import services
from routing.models import RoutingCorrection, RoutingRule
from routing.tasks import retrain

from .conftest import DEMO, DEV

pytestmark = pytest.mark.urls("tests.knowledge.urls")


@pytest.fixture
def kb(db):  # type: ignore[no-untyped-def]
    services.routing_model_reset()
    knowledge_import(directory=DEMO)
    yield
    services.routing_model_reset()


def test_route_request_answers_a_general_web_question(kb) -> None:  # type: ignore[no-untyped-def]
    outcome = services.route_request(RoutingRequest(text="Hur stort får ett attefallshus vara?", channel="web"))
    assert (outcome.action, outcome.department, outcome.article) == ("answer", "bygglov", "attefallsatgarder")
    assert outcome.answer_title == "Attefallshus och attefallstillbyggnad" and "30 kvadratmeter" in outcome.answer_text
    assert outcome.explanation


def test_route_request_escalates_a_case(kb) -> None:  # type: ignore[no-untyped-def]
    outcome = services.route_request(
        RoutingRequest(text="Hej, hur går det med mitt ärende BYGG 2025-000341? Jag har inte fått något besked.", channel="email")
    )
    assert (outcome.action, outcome.department, outcome.article) == ("escalate", "bygglov", None)
    assert "BYGG 2025-000341" in outcome.explanation


def test_admin_rule_takes_precedence_and_model_rebuilds_after_retrain(kb) -> None:  # type: ignore[no-untyped-def]
    request = RoutingRequest(text="Hur stort får ett attefallshus vara?", channel="email", sender_email="a@polisen.se")
    assert services.route_request(request).department == "bygglov"
    RoutingRule.objects.create(name="Polisen", sender_domain="polisen.se", department=Department.objects.get(code="kundtjanst"), priority="high")
    old = services.routing_model_current()
    retrain.apply()  # the task body, in-process (with Redis, .delay() would wait for a worker)
    assert services.routing_model_current() is not old
    outcome = services.route_request(request)
    assert (outcome.department, outcome.priority) == ("kundtjanst", "high")


def test_correction_is_recorded_from_the_ticket_and_learned(kb) -> None:  # type: ignore[no-untyped-def]
    from tests.factories import TicketFactory  # the lead's factories

    ticket = TicketFactory(channel="email")
    ticket.messages.create(direction="inbound", channel="email", subject="Kolonilott", body_text="Hur får man en kolonilott vid Råstasjön?")
    correction = services.routing_record_correction(ticket_id=ticket.pk, department="gata-park", source="reroute")
    assert correction is not None and correction.department.code == "gata-park"
    assert "kolonilott" in correction.text
    services.routing_retrain()
    assert RoutingCorrection.objects.count() == 1
    assert services.routing_decide(text="Finns det kolonilotter att hyra vid Råstasjön?", channel="web").department == "gata-park"


def test_preview_api_creates_nothing(kb, agent_api) -> None:  # type: ignore[no-untyped-def]
    from contactcentre.tickets.models import Ticket

    response = agent_api.post("/api/v1/routing/preview/", {"text": "När har kundtjänst öppet?", "channel": "chat"}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert (body["action"], body["department"], body["article"]) == ("answer", "kundtjanst", "kundtjanst-kontakt")
    assert body["suggestions"][0]["slug"] == "kundtjanst-kontakt"
    assert Ticket.objects.count() == 0


def test_preview_api_requires_login(kb, api) -> None:  # type: ignore[no-untyped-def]
    assert api.post("/api/v1/routing/preview/", {"text": "hej"}, format="json").status_code in (401, 403)


def test_route_command_writes_one_decision_per_line(kb, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    source = tmp_path / "in.jsonl"
    source.write_text(
        "\n".join(json.dumps(x, ensure_ascii=False) for x in [
            {"id": "a", "text": "Var lämnar jag gamla färgburkar?", "channel": "web"},
            {"id": "b", "text": "Ringer om ärende MHN 2025-0093, vill prata med handläggaren.", "channel": "phone"},
        ]),
        encoding="utf-8",
    )
    out = StringIO()
    call_command("route", jsonl=str(source), stdout=out)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [line["id"] for line in lines] == ["a", "b"]
    assert set(lines[0]) == {"id", "action", "department", "article", "confidence", "language", "complaint", "business"}
    assert (lines[0]["action"], lines[0]["article"]) == ("answer", "farligt-avfall-demo")
    assert (lines[1]["action"], lines[1]["department"]) == ("escalate", "miljotillsyn")


def test_evaluate_routing_command_prints_metrics_without_touching_the_db(db) -> None:  # type: ignore[no-untyped-def]
    out = StringIO()
    call_command("evaluate_routing", str(DEV), folds=0, stdout=out)
    text = out.getvalue()
    assert "dept=" in text and "complaint F1=" in text and "confusion" in text and "lang fi" in text and "ch phone" in text
    assert not Department.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_the_model_is_warmed_in_the_background_at_server_start() -> None:
    import threading

    services.routing_model_reset()
    knowledge_import(directory=DEMO)
    services.routing_model_warm_in_background()
    warmers = [t for t in threading.enumerate() if t.name == "routing-warm-up"]
    for t in warmers:
        t.join(timeout=60)
    assert services._current is not None, "the warm-up did not build the model"
    assert services._current.version == services.routing_model_version()
    # The first enquiry then uses the warmed model instead of building one.
    assert services.routing_model_current() is services._current
    services.routing_model_reset()
