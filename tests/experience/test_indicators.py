"""Indicators aggregate in the database: a pinned number of queries whatever the volume, the
KKiK e-mail measure counts working days, and the insight finds gaps and themes."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from contactcentre.commitments.calendar import STOCKHOLM
from contactcentre.experience import insight
from contactcentre.experience.indicators import Period, indicators
from contactcentre.experience.models import Question, SurveyAnswer, SurveyInvitation, SurveyResponse
from contactcentre.tickets.models import Ticket
from tests.conftest import client_for
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


def _naive_survey_figures(start: datetime, end: datetime) -> dict[str, object]:
    """The survey figures computed the slow, obvious way: every invitation in Python."""
    sent = responded = 0
    treatment: dict[int, int] = {}
    for invitation in SurveyInvitation.objects.select_related("ticket"):
        ticket = invitation.ticket
        if not (start <= ticket.created_at < end) or ticket.merged_into_id or ticket.channel == "internal":
            continue
        if invitation.status == "sent":
            sent += 1
            responded += invitation.responded_at is not None
        response = SurveyResponse.objects.filter(invitation=invitation).first()
        for answer in SurveyAnswer.objects.filter(response=response, question__code="bemotande") if response else []:
            treatment[answer.value_int] = treatment.get(answer.value_int, 0) + 1
    return {"sent": sent, "responded": responded, "treatment": treatment}


def test_survey_figures_equal_the_naive_computation_whatever_order_ids_were_given(
        departments, supervisor):
    """The survey queries are bounded by the lowest and highest ticket id of the period: a ticket
    created in the period but given a later id (an import, a clock step) still counts, and
    tickets outside the period with ids inside that range still do not."""
    seed(weeks=6, per_day=4, actor=supervisor)
    questions = {q.code: q for q in Question.objects.all()}
    start = datetime(2026, 3, 1, tzinfo=STOCKHOLM)
    end = datetime(2026, 3, 8, tzinfo=STOCKHOLM)

    def contact(created: datetime, score: int, **kwargs) -> Ticket:  # type: ignore[no-untyped-def]
        ticket = TicketFactory(created_at=created, status="resolved", resolved_at=created, **kwargs)
        invitation = SurveyInvitation.objects.create(ticket=ticket, survey=questions["bemotande"].survey,
                                                     status="sent", via="email", sent_at=created,
                                                     responded_at=created)
        response = SurveyResponse.objects.create(invitation=invitation)
        SurveyAnswer.objects.create(response=response, question=questions["bemotande"], value_int=score)
        return ticket

    contact(start + timedelta(days=1), 5)
    contact(end + timedelta(hours=1), 1)  # after the period, id between the period's tickets
    contact(start + timedelta(days=2), 4)
    contact(start - timedelta(hours=1), 2)  # before the period, id within its range too
    contact(start + timedelta(days=3), 3, merged_into=TicketFactory())  # a merged duplicate: not a contact
    contact(start + timedelta(days=4), 4)
    contact(start + timedelta(days=5), 1, channel="internal")
    contact(start + timedelta(days=6), 2)  # the newest id: in the period, created last
    TicketFactory(created_at=start + timedelta(days=2))  # no invitation at all

    response = client_for(supervisor).get("/api/v1/reports/indicators/", {"from": "2026-03-01", "to": "2026-03-07"})
    assert response.status_code == 200, response.content
    total = response.json()["total"]
    naive = _naive_survey_figures(start, end)
    assert total["survey_response_rate"]["numerator"] == naive["responded"] == 4
    assert total["survey_response_rate"]["denominator"] == naive["sent"] == 4
    assert total["satisfaction"]["bemotande"]["distribution"] == {
        str(v): naive["treatment"].get(v, 0) for v in range(1, 6)} == {"1": 0, "2": 1, "3": 0, "4": 2, "5": 1}
    assert total["contacts"] == 5
    # Grouped, the groups add up to the same figures.
    by_channel = client_for(supervisor).get("/api/v1/reports/indicators/",
                                            {"from": "2026-03-01", "to": "2026-03-07", "group_by": "channel"}).json()
    assert sum(g["survey_response_rate"]["numerator"] for g in by_channel["groups"]) == 4
    assert by_channel["total"]["satisfaction"] == total["satisfaction"]


def test_a_period_without_tickets_reports_zeros_in_two_queries(supervisor, django_assert_num_queries):
    period = Period.from_dates(datetime(2030, 1, 1).date(), datetime(2030, 1, 31).date())
    with django_assert_num_queries(2):  # questions + tickets: no survey rows to look for
        report = indicators(period=period)
    assert report["total"]["contacts"] == 0 and report["total"]["survey_response_rate"]["denominator"] == 0
