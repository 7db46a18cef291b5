"""Indicators aggregate in the database: a pinned number of queries whatever the volume, the
KKiK e-mail measure counts working days, and the insight finds gaps and themes."""

from __future__ import annotations

from datetime import datetime

import pytest

from contactcentre.commitments.calendar import STOCKHOLM
from contactcentre.experience import insight
from contactcentre.experience.indicators import Period, indicators
from tests.factories import TicketFactory

from .seed import seed

pytestmark = pytest.mark.django_db


def test_query_count_is_fixed_whatever_the_grouping(departments, supervisor, django_assert_num_queries):
    seed(weeks=2, per_day=5, actor=supervisor)
    period = Period.from_dates(None, None)
    for group_by in ("none", "channel", "department", "hour", "kind", "week", "language", "category"):
        # questions + tickets + invitations + answers
        with django_assert_num_queries(4):
            report = indicators(period=period, group_by=group_by)
        assert report["total"]["contacts"] == sum(g["contacts"] for g in report["groups"]) or group_by == "none"


def test_kkik_email_counts_two_working_days_across_a_weekend():
    friday = datetime(2026, 3, 13, 15, 0, tzinfo=STOCKHOLM)
    # Answered Tuesday evening before close (in time: Monday and Tuesday are the two days).
    TicketFactory(channel="email", created_at=friday, first_response_at=datetime(2026, 3, 17, 16, 0, tzinfo=STOCKHOLM))
    # Answered Wednesday morning: late.
    TicketFactory(channel="email", created_at=friday, first_response_at=datetime(2026, 3, 18, 9, 0, tzinfo=STOCKHOLM))
    # Not answered yet but the deadline passed: measured, not kept.
    TicketFactory(channel="email", created_at=friday)
    period = Period.from_dates(friday.date(), friday.date(), now=datetime(2026, 3, 20, tzinfo=STOCKHOLM))
    total = indicators(period=period, now=datetime(2026, 3, 20, tzinfo=STOCKHOLM))["total"]
    assert total["kkik_email_answered_within_2_working_days"] == {"numerator": 1, "denominator": 3, "share": 0.3333}


def test_insight_finds_knowledge_gaps_and_feedback_themes(departments, supervisor):
    seed(weeks=3, per_day=6, actor=supervisor)
    period = Period.from_dates(None, None)
    gaps = insight.knowledge_gaps(period=period)
    assert gaps and {"term", "count", "departments", "examples"} <= set(gaps[0])
    assert any(g["term"] in ("förskola", "parkeringstillstånd", "grovsopor", "bygglov") for g in gaps)
    themes = insight.feedback_themes(period=period)
    assert any(t["term"] in ("snabbt", "svar", "väntan", "vänligt") for t in themes)
    trends = insight.topic_trends(by="category", weeks=4)
    assert len(trends["weeks"]) == 4 and trends["topics"][0]["total"] > 0
