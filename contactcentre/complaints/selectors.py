"""Reads for complaint handling: the list and the complaint report (aggregated in the database)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone

from .models import Complaint, RootCause

Status = Complaint.Status


def complaint_list(*, status: str | None = None, department: str | None = None) -> QuerySet[Complaint]:
    qs = Complaint.objects.select_related("ticket", "department", "owner", "root_cause")
    if status:
        qs = qs.filter(status=status)
    if department:
        qs = qs.filter(department__code=department)
    return qs.order_by("-registered_at", "-id")


def complaint_get(*, complaint_id: int) -> Complaint | None:
    if not 0 < complaint_id <= 2**63 - 1:
        return None
    return complaint_list().filter(pk=complaint_id).first()


def _on_time_counts(qs: QuerySet[Complaint], now: datetime) -> dict[str, int]:
    # Measured once answered, or once the answer is overdue; kept when answered by the due time.
    measured = Q(answered_at__isnull=False) | Q(answer_due_at__lte=now)
    kept = Q(answered_at__isnull=False, answered_at__lte=F("answer_due_at"))
    return qs.aggregate(
        total=Count("pk"),
        measured=Count("pk", filter=measured & Q(answer_due_at__isnull=False)),
        kept=Count("pk", filter=kept),
        overdue_open=Count("pk", filter=Q(answered_at__isnull=True, answer_due_at__lte=now)),
    )


def complaint_report(*, date_from: datetime, date_to: datetime, now: datetime | None = None) -> dict[str, Any]:
    """Complaints registered in [from, to): by status, department and root cause, and the share
    answered within their commitment. Four grouped queries, whatever the volume."""
    now = now or timezone.now()
    qs = Complaint.objects.filter(registered_at__gte=date_from, registered_at__lt=date_to)
    by_status = dict(qs.order_by().values_list("status").annotate(n=Count("pk")))
    by_department = [
        {"department": r["department__code"] or "", "name": r["department__name"] or "", "count": r["n"],
         "closed": r["closed"]}
        for r in qs.values("department__code", "department__name")
        .annotate(n=Count("pk"), closed=Count("pk", filter=Q(status=Status.CLOSED))).order_by("-n", "department__name")
    ]
    causes = {c.code: c.name for c in RootCause.objects.all()}
    by_root_cause = [
        {"root_cause": r["root_cause__code"], "name": causes.get(r["root_cause__code"], ""), "count": r["n"]}
        for r in qs.filter(root_cause__isnull=False).values("root_cause__code").annotate(n=Count("pk")).order_by("-n")
    ]
    on_time = _on_time_counts(qs, now)
    return {
        "from": date_from.isoformat(),
        "to": date_to.isoformat(),
        "total": on_time["total"],
        "by_status": {s: by_status.get(s, 0) for s in Status.values},
        "by_department": by_department,
        "by_root_cause": by_root_cause,
        "answered_on_time": {
            "kept": on_time["kept"],
            "measured": on_time["measured"],
            "share": round(on_time["kept"] / on_time["measured"], 3) if on_time["measured"] else None,
            "overdue_unanswered": on_time["overdue_open"],
        },
    }
