"""One schedule, two runners: the embedded scheduler runs CELERY_BEAT_SCHEDULE in-process."""

import pytest

from contactcentre.ops.scheduler import run_due
from routing.models import RoutingCorrection
from tests.factories import DepartmentFactory

pytestmark = pytest.mark.django_db


def test_due_jobs_run_on_their_interval(settings):
    settings.CELERY_BEAT_SCHEDULE = {"retrain": {"task": "routing.tasks.retrain", "schedule": 60.0}}
    due: dict[str, float] = {}
    assert run_due(due, now=1000.0) == []  # the first run is one interval after start
    assert run_due(due, now=1059.0) == []
    assert run_due(due, now=1060.0) == ["retrain"]
    assert run_due(due, now=1100.0) == []
    assert run_due(due, now=1120.0) == ["retrain"]


def test_retrain_skips_when_nothing_was_learned_and_runs_after_a_correction():
    from routing.tasks import retrain

    first = retrain.apply().get()
    assert first != "unchanged"
    assert retrain.apply().get() == "unchanged"
    RoutingCorrection.objects.create(text="Var hyr man kolonilott?", channel="web",
                                     department=DepartmentFactory(code="gata-park"), source="reroute")
    assert retrain.apply().get() not in ("unchanged", first)
