"""Insight into what people ask: topic trends, knowledge gaps and feedback themes.

Counting happens in the database (trends); the text work (gaps, themes) reads a bounded
sample of recent subjects and free-text answers, because term extraction is not SQL.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Count, F, Q
from django.db.models.functions import TruncWeek
from django.utils import timezone

from contactcentre.commitments.calendar import STOCKHOLM
from contactcentre.tickets.models import Channel, Ticket

from .indicators import TREATMENT, Period
from .models import Question, SurveyAnswer
from .text import TermCounter

TREND_DIMENSIONS = ("category", "department", "article")
_TREND_FIELD = {"category": "category", "department": "department__code", "article": "routing__article"}
SAMPLE = 3000


def _week_start(moment: datetime) -> datetime:
    local = timezone.localtime(moment, STOCKHOLM).date()
    return datetime.combine(local - timedelta(days=local.weekday()), time(0), tzinfo=STOCKHOLM)


def _week_label(moment: datetime) -> str:
    iso = timezone.localtime(moment, STOCKHOLM).date().isocalendar()
    return f"{iso.year}-W{iso.week:02d}"


def topic_trends(*, by: str = "category", weeks: int = 8, now: datetime | None = None, top: int = 10) -> dict[str, Any]:
    """Contacts per topic over the last complete ``weeks`` weeks, with the change from the week
    before the last to the last one (one grouped query)."""
    end = _week_start(now or timezone.now())
    start = end - timedelta(weeks=weeks)
    field = _TREND_FIELD[by]
    rows = (Ticket.objects.filter(created_at__gte=start, created_at__lt=end, merged_into__isnull=True)
            .exclude(channel=Channel.INTERNAL).order_by()
            .annotate(week=TruncWeek("created_at", tzinfo=STOCKHOLM), topic=F(field))
            .values("week", "topic").annotate(n=Count("pk")))
    labels = [_week_label(start + timedelta(weeks=i)) for i in range(weeks)]
    series: dict[str, list[int]] = defaultdict(lambda: [0] * weeks)
    for row in rows:
        label = _week_label(row["week"])
        if label in labels:
            series[str(row["topic"] or "")][labels.index(label)] += row["n"]
    topics = []
    for topic, counts in sorted(series.items(), key=lambda kv: (-sum(kv[1]), kv[0]))[:top]:
        last, before = counts[-1], counts[-2] if weeks > 1 else 0
        topics.append({"topic": topic, "counts": counts, "total": sum(counts), "last_week": last,
                       "previous_week": before, "change": last - before, "peak": max(counts),
                       "change_share": round((last - before) / before, 3) if before else None})
    return {"by": by, "weeks": labels, "topics": topics}


def knowledge_gaps(*, period: Period, top: int = 15) -> list[dict[str, Any]]:
    """What people asked that the knowledge base could not answer, but an agent could at once:
    tickets resolved at first contact by a person, where routing had no confident article.
    Grouped by the most common normalised subject terms, with the departments they concern."""
    threshold = settings.INSIGHT_ARTICLE_CONFIDENCE
    no_article = (Q(routing__article__isnull=True) | Q(routing__article=None) | Q(routing__article="")
                  | Q(routing__confidence__lt=threshold))
    rows = (Ticket.objects.filter(created_at__gte=period.start, created_at__lt=period.end, first_contact_resolution=True,
                                  merged_into__isnull=True)
            .filter(no_article).exclude(routing__action="answer").exclude(channel=Channel.INTERNAL)
            .order_by("-id").values_list("reference", "subject", "language", "department__code")[:SAMPLE])
    counter = TermCounter()
    departments: dict[str, Counter[str]] = defaultdict(Counter)
    examples: dict[str, list[str]] = defaultdict(list)
    for reference, subject, language, department in rows:
        for stem in counter.add(subject, language):
            departments[stem][department or "kontaktcenter"] += 1
            if len(examples[stem]) < 3:
                examples[stem].append(reference)
    return [{"term": counter.word(stem), "count": count, "departments": departments[stem].most_common(3),
             "examples": examples[stem][:2]} for stem, count in counter.top(top)]


def feedback_themes(*, period: Period, top: int = 15) -> list[dict[str, Any]]:
    """Recurring words in the free-text answers, with the mean treatment score of the answers
    that mention them (so a theme reads as praise or as a problem)."""
    texts = list(SurveyAnswer.objects.filter(
        question__kind=Question.Kind.TEXT, response__invitation__ticket__created_at__gte=period.start,
        response__invitation__ticket__created_at__lt=period.end,
    ).exclude(value_text="").order_by("-id").values_list("response_id", "value_text", "response__language")[:SAMPLE])
    scores = dict(SurveyAnswer.objects.filter(response_id__in=[r for r, _, _ in texts], question__code=TREATMENT,
                                              value_int__isnull=False).values_list("response_id", "value_int"))
    counter = TermCounter()
    score_sum: Counter[str] = Counter()
    score_n: Counter[str] = Counter()
    for response_id, text, language in texts:
        for stem in counter.add(text, language):
            if response_id in scores:
                score_sum[stem] += scores[response_id]
                score_n[stem] += 1
    return [{"term": counter.word(stem), "count": count, "share": round(count / len(texts), 3),
             "mean_treatment": round(score_sum[stem] / score_n[stem], 2) if score_n[stem] else None}
            for stem, count in counter.top(top)]
