"""How well the city kept its promises: the public page and the reports read from here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, F, Q
from django.utils import timezone

from .models import CommitmentPolicy, TicketCommitment


@dataclass(frozen=True)
class PolicyRecord:
    policy: CommitmentPolicy
    first_response_measured: int
    first_response_kept: int
    resolution_measured: int
    resolution_kept: int

    @staticmethod
    def _share(kept: int, measured: int) -> float | None:
        return round(kept / measured, 3) if measured else None

    @property
    def first_response_share(self) -> float | None:
        return self._share(self.first_response_kept, self.first_response_measured)

    @property
    def resolution_share(self) -> float | None:
        return self._share(self.resolution_kept, self.resolution_measured)


def commitments_kept(*, days: int = 30, now: datetime | None = None) -> list[PolicyRecord]:
    """Per active policy, over tickets opened in the last ``days``: a promise is *measured* once
    it was met or its due time passed, and *kept* when it was met in time (one grouped query)."""
    now = now or timezone.now()
    since = now - timedelta(days=days)
    t = "ticket__"
    fr_measured = Q(**{f"{t}first_response_due_at__isnull": False}) & (
        Q(**{f"{t}first_response_at__isnull": False}) | Q(**{f"{t}first_response_due_at__lte": now}))
    fr_kept = Q(**{f"{t}first_response_at__isnull": False, f"{t}first_response_at__lte": F(f"{t}first_response_due_at")})
    res_measured = Q(**{f"{t}resolution_due_at__isnull": False}) & (
        Q(**{f"{t}resolved_at__isnull": False}) | Q(**{f"{t}resolution_due_at__lte": now}))
    res_kept = Q(**{f"{t}resolved_at__isnull": False, f"{t}resolved_at__lte": F(f"{t}resolution_due_at")})
    rows = (
        TicketCommitment.objects.filter(policy__isnull=False, ticket__created_at__gte=since)
        .values("policy_id")
        .annotate(
            frm=Count("pk", filter=fr_measured), frk=Count("pk", filter=fr_kept),
            rsm=Count("pk", filter=res_measured), rsk=Count("pk", filter=res_kept),
        )
    )
    by_policy = {r["policy_id"]: r for r in rows}
    records = []
    for policy in CommitmentPolicy.objects.filter(is_active=True).select_related("department").order_by("name"):
        r = by_policy.get(policy.pk, {})
        records.append(PolicyRecord(policy, r.get("frm", 0), r.get("frk", 0), r.get("rsm", 0), r.get("rsk", 0)))
    return records
