"""The indicators of docs/indicators.md, aggregated in the database.

One grouped query over tickets (volumes, first-contact resolution, forwarding, commitments and
the KKiK e-mail and phone measures), one over survey answers (satisfaction, effort, treatment)
and one over invitations (response rate), plus the question list: four queries whatever the
period or grouping (two when the period has no tickets). Totals are sums of the groups' numerators and denominators, so the total
row and the group rows always agree (and the CSV carries the very same numbers).

A contact belongs to the period in which its ticket was created (Europe/Stockholm).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Case, Count, DateTimeField, F, Max, Min, Q, Value, When
from django.db.models.functions import ExtractHour, TruncWeek
from django.utils import timezone

from contactcentre.commitments.calendar import STOCKHOLM, BusinessCalendar
from contactcentre.tickets.errors import DomainError
from contactcentre.tickets.models import Channel, Contact, Ticket

from .models import Question, SurveyAnswer, SurveyInvitation

GROUP_BY = ("none", "channel", "department", "category", "language", "hour", "kind", "week")
TREATMENT, EFFORT, GOT_ANSWER = "bemotande", "enkelhet", "fick_svar"
KKIK_EMAIL_WORKING_DAYS = 2
MAX_DAYS = 731
EARLIEST, LATEST = date(2000, 1, 1), date(2100, 12, 31)  # beyond these, day arithmetic overflows
CALENDAR = BusinessCalendar()


@dataclass(frozen=True)
class Period:
    start: datetime  # inclusive
    end: datetime  # exclusive

    @classmethod
    def from_dates(cls, date_from: date | None, date_to: date | None, *, now: datetime | None = None) -> Period:
        """Whole local days [from, to], both inclusive; the last 30 days by default."""
        today = timezone.localtime(now or timezone.now(), STOCKHOLM).date()
        for value in (date_from, date_to):
            if value is not None and not EARLIEST <= value <= LATEST:
                raise DomainError(f"Dates are between {EARLIEST} and {LATEST}.", code="invalid_period")
        date_to = date_to or today
        date_from = date_from or date_to - timedelta(days=29)
        if date_from > date_to:
            raise DomainError("'from' must not be after 'to'.", code="invalid_period")
        if (date_to - date_from).days > MAX_DAYS:
            raise DomainError(f"A period is at most {MAX_DAYS} days.", code="invalid_period")
        return cls(datetime.combine(date_from, time(0), tzinfo=STOCKHOLM),
                   datetime.combine(date_to + timedelta(days=1), time(0), tzinfo=STOCKHOLM))


def _ratio(numerator: int, denominator: int) -> dict[str, Any]:
    return {"numerator": numerator, "denominator": denominator,
            "share": round(numerator / denominator, 4) if denominator else None}


# --- grouping -------------------------------------------------------------------------------

def _group_expr(group_by: str, prefix: str) -> dict[str, Any]:
    """The GROUP BY columns for a grouping, reached through ``prefix`` (e.g. ``response__invitation__ticket__``)."""
    p = prefix
    match group_by:
        case "none":
            return {}
        case "channel" | "category" | "language":
            return {"g": F(f"{p}{group_by}")}
        case "department":
            return {"g": F(f"{p}department__code"), "g_label": F(f"{p}department__name")}
        case "kind":
            return {"g": F(f"{p}contact__kind")}
        case "hour":
            return {"g": ExtractHour(f"{p}created_at", tzinfo=STOCKHOLM)}
        case "week":
            return {"g": TruncWeek(f"{p}created_at", tzinfo=STOCKHOLM)}
    raise DomainError(f"group_by is one of {', '.join(GROUP_BY)}.", code="invalid_group_by")


def _key(group_by: str, value: Any) -> str:
    if group_by == "none":
        return "all"
    if value is None:
        return ""
    if group_by == "hour":
        return f"{int(value):02d}"
    if group_by == "week":
        iso = timezone.localtime(value, STOCKHOLM).date().isocalendar() if isinstance(value, datetime) else value.isocalendar()
        return f"{iso.year}-W{iso.week:02d}"
    return str(value)


def _label(group_by: str, key: str, label: str | None) -> str:
    if group_by == "none":
        return "Alla kontakter"
    if not key:
        return "(saknas)"
    if group_by == "channel":
        return str(dict(Channel.choices).get(key, key))
    if group_by == "kind":
        return str(dict(Contact.Kind.choices).get(key, key))
    if group_by == "hour":
        return f"{key}:00–{key}:59"
    return label or key


def _ticket_filter(period: Period, prefix: str = "") -> Q:
    # Duplicates merged into another ticket and internal tickets are not contacts.
    return (Q(**{f"{prefix}created_at__gte": period.start, f"{prefix}created_at__lt": period.end,
                 f"{prefix}merged_into__isnull": True})
            & ~Q(**{f"{prefix}channel": Channel.INTERNAL}))


# --- KKiK e-mail: answered within two working days -----------------------------------------

def _email_deadline(period: Period) -> Case:
    """Per local arrival day, the end of the second working day after it, as one CASE over
    ranges of days that share a deadline (weekends and holidays fold into the next run)."""
    whens: list[When] = []
    day = period.start.date()
    last = (period.end - timedelta(seconds=1)).date()
    run_start, run_due = day, CALENDAR.add_working_days(_local_noon(day), KKIK_EMAIL_WORKING_DAYS)
    while day <= last:
        nxt = day + timedelta(days=1)
        due_next = CALENDAR.add_working_days(_local_noon(nxt), KKIK_EMAIL_WORKING_DAYS) if nxt <= last else None
        if due_next != run_due:
            whens.append(When(created_at__gte=_local_midnight(run_start), created_at__lt=_local_midnight(nxt),
                              then=Value(run_due)))
            run_start, run_due = nxt, due_next  # type: ignore[assignment]
        day = nxt
    return Case(*whens, default=Value(None), output_field=DateTimeField())


def _local_noon(day: date) -> datetime:
    return datetime.combine(day, time(12), tzinfo=STOCKHOLM)


def _local_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=STOCKHOLM)


# --- the queries ----------------------------------------------------------------------------

def _email_measured_before(period: Period, now: datetime) -> datetime:
    """E-mails that arrived before this instant have had their two working days. The deadline
    never moves backwards as the arrival day moves forwards, so one boundary day suffices."""
    day = min(timezone.localtime(now, STOCKHOLM).date(), (period.end - timedelta(seconds=1)).date())
    while day >= period.start.date() and CALENDAR.add_working_days(_local_noon(day), KKIK_EMAIL_WORKING_DAYS) > now:
        day -= timedelta(days=1)
    return _local_midnight(day + timedelta(days=1))


def _ticket_rows(period: Period, group_by: str, now: datetime) -> list[dict[str, Any]]:
    email = Q(channel=Channel.EMAIL)
    phone = Q(channel=Channel.PHONE)
    answered = Q(first_response_at__isnull=False)
    fr_measured = Q(first_response_due_at__isnull=False) & (answered | Q(first_response_due_at__lte=now))
    fr_kept = answered & Q(first_response_at__lte=F("first_response_due_at"))
    res_measured = Q(resolution_due_at__isnull=False) & (Q(resolved_at__isnull=False) | Q(resolution_due_at__lte=now))
    res_kept = Q(resolved_at__isnull=False, resolved_at__lte=F("resolution_due_at"))
    aggregates = {
        "contacts": Count("pk"),
        "resolved": Count("pk", filter=Q(resolved_at__isnull=False)),
        "fcr_yes": Count("pk", filter=Q(first_contact_resolution=True)),
        "fcr_measured": Count("pk", filter=Q(first_contact_resolution__isnull=False)),
        "escalated": Count("pk", filter=Q(escalated_at__isnull=False)),
        "fr_measured": Count("pk", filter=fr_measured),
        "fr_kept": Count("pk", filter=fr_kept),
        "res_measured": Count("pk", filter=res_measured),
        "res_kept": Count("pk", filter=res_kept),
        # Measured once answered or once the two working days have passed.
        "email_measured": Count("pk", filter=email & (answered | Q(created_at__lt=_email_measured_before(period, now)))),
        "email_kept": Count("pk", filter=email & answered & Q(first_response_at__lte=_email_deadline(period))),
        "phone_contacts": Count("pk", filter=phone),
        "phone_direct": Count("pk", filter=phone & Q(first_contact_resolution=True)),
        "complaints": Count("pk", filter=Q(is_complaint=True)),
    }
    # The lowest and highest id among the period's tickets bound the survey queries (below).
    aggregates |= {ID_MIN: Min("pk"), ID_MAX: Max("pk")}
    groups = _group_expr(group_by, "")
    qs = Ticket.objects.filter(_ticket_filter(period)).order_by()
    if not groups:
        return [qs.aggregate(**aggregates)]
    return list(qs.annotate(**groups).values(*groups).annotate(**aggregates))


# Survey rows belong to the period through their ticket. Reached from the ticket side, every
# invitation of the city was read and hashed against the period's tickets (200,000 at a million
# tickets, for a month's 8,000). The period's tickets have ids within [lowest, highest] whatever
# order ids were given in, so the same range on the invitation's ticket_id is redundant, never
# wrong, and lets its index find the period's invitations; the ticket filter still decides.
ID_MIN, ID_MAX = "_id_min", "_id_max"


def _answer_rows(period: Period, group_by: str, ids: tuple[int, int]) -> list[dict[str, Any]]:
    prefix = "response__invitation__ticket__"
    groups = _group_expr(group_by, prefix)
    qs = (SurveyAnswer.objects.filter(_ticket_filter(period, prefix), response__invitation__ticket_id__gte=ids[0],
                                      response__invitation__ticket_id__lte=ids[1])
          .filter(Q(value_int__isnull=False) | Q(value_bool__isnull=False)).order_by())
    if groups:
        qs = qs.annotate(**groups)
    return list(qs.values(*groups, "question_id", "value_int", "value_bool").annotate(n=Count("pk")))


def _invitation_rows(period: Period, group_by: str, ids: tuple[int, int]) -> list[dict[str, Any]]:
    prefix = "ticket__"
    groups = _group_expr(group_by, prefix)
    sent = Q(status=SurveyInvitation.Status.SENT)
    aggregates = {"sent": Count("pk", filter=sent),
                  "responded": Count("pk", filter=sent & Q(responded_at__isnull=False))}
    qs = SurveyInvitation.objects.filter(_ticket_filter(period, prefix), ticket_id__gte=ids[0],
                                        ticket_id__lte=ids[1]).order_by()
    if not groups:
        return [qs.aggregate(**aggregates)]
    return list(qs.annotate(**groups).values(*groups).annotate(**aggregates))


# --- assembling -----------------------------------------------------------------------------

def _questions() -> list[Question]:
    # Every scored question ever asked (answers keep counting after a survey is edited), by code.
    return list(Question.objects.exclude(kind=Question.Kind.TEXT).order_by("order", "id"))


class _Acc:
    """Counts for one group; blocks are built from these, so totals are plain sums."""

    def __init__(self, questions: list[Question]) -> None:
        self.t: dict[str, int] = defaultdict(int)
        self.inv: dict[str, int] = defaultdict(int)
        self.dist: dict[str, dict[int, int]] = {q.code: {} for q in questions if q.kind == Question.Kind.SCALE}
        self.scale = {q.code: (q.scale_min, q.scale_max) for q in questions if q.kind == Question.Kind.SCALE}
        self.yes_no: dict[str, dict[str, int]] = {q.code: {"yes": 0, "no": 0} for q in questions
                                                  if q.kind == Question.Kind.YES_NO}

    def add(self, other: _Acc) -> None:
        for k, v in other.t.items():
            self.t[k] += v
        for k, v in other.inv.items():
            self.inv[k] += v
        for code, dist in other.dist.items():
            for value, n in dist.items():
                self.dist[code][value] = self.dist[code].get(value, 0) + n
        for code, yn in other.yes_no.items():
            for k, n in yn.items():
                self.yes_no[code][k] += n

    def _scale(self, code: str) -> dict[str, Any]:
        lo, hi = self.scale[code]
        dist = self.dist[code]
        n = sum(dist.values())
        return {"n": n, "mean": round(sum(v * c for v, c in dist.items()) / n, 2) if n else None,
                "distribution": {str(v): dist.get(v, 0) for v in range(lo, hi + 1)}}

    def block(self) -> dict[str, Any]:
        t = self.t
        treatment = self.dist.get(TREATMENT, {})
        satisfaction: dict[str, Any] = {code: self._scale(code) for code in self.dist}
        for code, yn in self.yes_no.items():
            satisfaction[code] = {"n": yn["yes"] + yn["no"], "yes": yn["yes"], "no": yn["no"],
                                  "share_yes": _ratio(yn["yes"], yn["yes"] + yn["no"])["share"]}
        effort = self._scale(EFFORT) if EFFORT in self.dist else {"n": 0, "mean": None}
        return {
            "contacts": t["contacts"],
            "resolved": t["resolved"],
            "complaints": t["complaints"],
            "first_contact_resolution": _ratio(t["fcr_yes"], t["fcr_measured"]),
            "forwarding_rate": _ratio(t["escalated"], t["contacts"]),
            "commitment_first_response_kept": _ratio(t["fr_kept"], t["fr_measured"]),
            "commitment_resolution_kept": _ratio(t["res_kept"], t["res_measured"]),
            "kkik_email_answered_within_2_working_days": _ratio(t["email_kept"], t["email_measured"]),
            "kkik_phone_direct_answer": _ratio(t["phone_direct"], t["phone_contacts"]),
            "kkik_treatment_good": _ratio(sum(n for v, n in treatment.items() if v >= 4), sum(treatment.values())),
            "survey_response_rate": _ratio(self.inv["responded"], self.inv["sent"]),
            "effort": {"n": effort["n"], "mean": effort["mean"]},
            "satisfaction": satisfaction,
        }


def indicators(*, period: Period, group_by: str = "none", now: datetime | None = None) -> dict[str, Any]:
    """The indicators for a period, per group and in total (see docs/indicators.md)."""
    if group_by not in GROUP_BY:
        raise DomainError(f"group_by is one of {', '.join(GROUP_BY)}.", code="invalid_group_by")
    now = now or timezone.now()
    questions = _questions()
    by_id = {q.pk: q for q in questions}
    accs: dict[str, _Acc] = {}
    labels: dict[str, str | None] = {}

    def acc(row: dict[str, Any]) -> _Acc:
        key = _key(group_by, row.get("g"))
        labels.setdefault(key, row.get("g_label"))
        return accs.setdefault(key, _Acc(questions))

    lowest: list[int] = []
    highest: list[int] = []
    for row in _ticket_rows(period, group_by, now):
        if row.get(ID_MIN) is None:
            continue  # no tickets (an aggregate over none still returns its one row)
        lowest.append(row.pop(ID_MIN))
        highest.append(row.pop(ID_MAX))
        a = acc(row)
        for k, v in row.items():
            if k not in ("g", "g_label"):
                a.t[k] += v or 0
    # No tickets in the period: no invitations or answers to look for.
    ids = (min(lowest), max(highest)) if lowest else None
    for row in _invitation_rows(period, group_by, ids) if ids else []:
        a = acc(row)
        a.inv["sent"] += row["sent"] or 0
        a.inv["responded"] += row["responded"] or 0
    for row in _answer_rows(period, group_by, ids) if ids else []:
        question = by_id.get(row["question_id"])
        if question is None:
            continue
        a = acc(row)
        if question.kind == Question.Kind.SCALE and row["value_int"] is not None:
            a.dist[question.code][row["value_int"]] = a.dist[question.code].get(row["value_int"], 0) + row["n"]
        elif question.kind == Question.Kind.YES_NO and row["value_bool"] is not None:
            a.yes_no[question.code]["yes" if row["value_bool"] else "no"] += row["n"]
    total = _Acc(questions)
    for a in accs.values():
        total.add(a)
    groups = [
        {"key": key, "label": _label(group_by, key, labels.get(key)), **accs[key].block()}
        for key in sorted(accs, key=_sort_key(group_by, accs))
    ] if group_by != "none" else []
    return {
        "from": period.start.date().isoformat(),
        "to": (period.end - timedelta(days=1)).date().isoformat(),
        "timezone": "Europe/Stockholm",
        "group_by": group_by,
        "definitions": "docs/indicators.md",
        "total": total.block(),
        "groups": groups,
    }


def _sort_key(group_by: str, accs: dict[str, _Acc]) -> Callable[[str], Any]:
    if group_by in ("hour", "week"):
        return lambda key: key
    return lambda key: (-accs[key].t["contacts"], key)


# --- CSV ------------------------------------------------------------------------------------

def _flatten(block: dict[str, Any], prefix: str = "") -> Iterable[tuple[str, Any]]:
    for key, value in block.items():
        if isinstance(value, dict):
            yield from _flatten(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value


def indicators_table(report: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    """The report as one row per group plus a total row: the same numbers as the JSON, with
    the nested names joined by dots (``first_contact_resolution.share``)."""
    total = dict(_flatten(report["total"]))
    header = ["group_by", "key", "label", *total]
    rows = [[report["group_by"], g["key"], g["label"],
             *dict(_flatten({k: v for k, v in g.items() if k not in ("key", "label")})).values()]
            for g in report["groups"]]
    rows.append([report["group_by"], "total", "Totalt", *total.values()])
    return header, rows
