"""What the supervisor dashboard shows, read in one place (the view only renders it)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.utils import timezone

from contactcentre.commitments.calendar import STOCKHOLM
from contactcentre.complaints.models import Complaint
from contactcentre.complaints.selectors import complaint_report

from . import charts, insight
from .indicators import Period, indicators

KPIS = (
    ("first_contact_resolution", "Löst vid första kontakten"),
    ("forwarding_rate", "Andel vidarebefordrade"),
    ("commitment_first_response_kept", "Åtagande första svar hållet"),
    ("kkik_email_answered_within_2_working_days", "E-post besvarad inom 2 arbetsdagar (KKiK)"),
    ("kkik_phone_direct_answer", "Direkt svar i telefon (KKiK)"),
    ("kkik_treatment_good", "Gott bemötande, betyg 4–5 (KKiK)"),
    ("survey_response_rate", "Svarsfrekvens, enkäter"),
)
QUESTION_LABELS = {"bemotande": "Bemötande", "tydlighet": "Tydlighet", "enkelhet": "Enkelhet"}


def _share(block: dict[str, Any], name: str) -> float:
    return block[name]["share"] or 0.0


def dashboard(*, date_from: date | None, date_to: date | None) -> dict[str, Any]:
    period = Period.from_dates(date_from, date_to)
    total = indicators(period=period, group_by="none")
    # The weekly view always shows 12 weeks up to the period's end, so trends are visible.
    weeks_period = Period(period.end - timedelta(weeks=12) - timedelta(days=(period.end.weekday())), period.end)
    weekly = indicators(period=weeks_period, group_by="week")
    by = {g: indicators(period=period, group_by=g) for g in ("channel", "department", "hour", "kind")}
    complaints = complaint_report(date_from=period.start, date_to=period.end)
    t = total["total"]
    kpis = [{"name": name, "label": label, **t[name]} for name, label in KPIS]
    satisfaction = t["satisfaction"]
    scale_rows = [(QUESTION_LABELS.get(code, code), block["distribution"]) for code, block in satisfaction.items()
                  if "distribution" in block]
    week_labels = [g["key"] for g in weekly["groups"]]
    hours = {g["key"]: g["contacts"] for g in by["hour"]["groups"]}
    status_labels = dict(Complaint.Status.choices)
    trends = insight.topic_trends(by="category", weeks=8)
    return {
        "period": total,
        "from": period.start.date(),
        "to": (period.end - timedelta(days=1)).date(),
        "today": timezone.localtime(timezone.now(), STOCKHOLM).date(),
        "kpis": kpis,
        "total": t,
        "weekly": weekly["groups"],
        "by": by,
        "complaints": complaints,
        "complaint_status_labels": status_labels,
        "satisfaction": satisfaction,
        "trends": trends,
        "trends_department": insight.topic_trends(by="department", weeks=8),
        "gaps": insight.knowledge_gaps(period=period, top=10),
        "themes": insight.feedback_themes(period=period, top=10),
        "charts": {
            "weekly_volume": charts.line_chart(week_labels, [("Kontakter", [g["contacts"] for g in weekly["groups"]])],
                                               title="Kontakter per vecka"),
            "weekly_rates": charts.line_chart(
                week_labels,
                [("Löst direkt", [g["first_contact_resolution"]["share"] for g in weekly["groups"]]),
                 ("Vidarebefordrade", [g["forwarding_rate"]["share"] for g in weekly["groups"]]),
                 ("Åtagande hållet", [g["commitment_first_response_kept"]["share"] for g in weekly["groups"]])],
                title="Första-kontakt-lösning, vidarebefordran och hållna åtaganden per vecka", unit="%", max_value=1.0),
            "channel": charts.hbar_chart([(g["label"], g["contacts"]) for g in by["channel"]["groups"]],
                                         title="Kontakter per kanal"),
            "department": charts.hbar_chart([(g["label"], g["contacts"]) for g in by["department"]["groups"][:10]],
                                            title="Kontakter per avdelning", color=charts.PALETTE[5]),
            "kind": charts.hbar_chart([(g["label"], g["contacts"]) for g in by["kind"]["groups"]],
                                      title="Privatpersoner och företag", color=charts.PALETTE[3]),
            "hour": charts.column_chart([(f"{h:02d}", hours.get(f"{h:02d}", 0)) for h in range(6, 22)],
                                        title="Kontakter per timme på dygnet", every=2),
            "fcr_channel": charts.hbar_chart(
                [(g["label"], _share(g, "first_contact_resolution")) for g in by["channel"]["groups"]],
                title="Löst vid första kontakten per kanal", unit="%", max_value=1.0, color=charts.PALETTE[1]),
            "satisfaction": charts.distribution_chart(scale_rows, title="Betygsfördelning per fråga (1–5)"),
            "complaint_status": charts.hbar_chart(
                [(str(status_labels[s]), n) for s, n in complaints["by_status"].items()],
                title="Klagomål per status", color=charts.PALETTE[4]),
            "complaint_cause": charts.hbar_chart(
                [(r["name"] or r["root_cause"], r["count"]) for r in complaints["by_root_cause"]],
                title="Klagomål per grundorsak", color=charts.PALETTE[2]),
        },
    }
