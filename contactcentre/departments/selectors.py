"""Reads for the department workspace, the public directory and the supervisor view."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import connection
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from contactcentre.commitments.calendar import BusinessCalendar
from contactcentre.intake.chat.models import ChatSession
from contactcentre.intake.chat.presence import agents_online
from contactcentre.intake.phone.models import CallSession
from contactcentre.tickets.errors import NotFound
from contactcentre.tickets.models import Channel, Department, Ticket
from contactcentre.tickets.selectors import ticket_scope

WORKSPACE_STATUSES = (Ticket.Status.ESCALATED, Ticket.Status.OPEN, Ticket.Status.WAITING)
NEAR_FRACTION = 0.8
# A call stuck in "ringing" longer than this lost its end event; it is not ringing any more.
RINGING_STALE_AFTER = timedelta(minutes=15)


def workspace_departments(user: Any) -> QuerySet[Department]:
    """The departments whose workspace the user may open: their own, or all for admins."""
    if not getattr(user, "is_staff_member", False):
        return Department.objects.none()
    if user.is_superuser or user.role in ("admin", "supervisor"):
        return Department.objects.filter(is_active=True).order_by("name")
    if user.role == "caseworker" and user.department_id:
        return Department.objects.filter(pk=user.department_id)
    return Department.objects.none()


def department_ticket_scope(*, user: Any, department: Department) -> QuerySet[Ticket]:
    # Caseworkers: the domain's own scope (escalated to their department). Admins: the same rule
    # applied to the department they picked.
    base = ticket_scope(user)
    return base.filter(department=department, escalated_at__isnull=False)


def department_ticket_list(*, user: Any, department: Department, view: str = "active") -> QuerySet[Ticket]:
    qs = department_ticket_scope(user=user, department=department).select_related("assignee", "contact")
    if view == "new":
        qs = qs.filter(status=Ticket.Status.ESCALATED, assignee__isnull=True)
    elif view == "mine":
        qs = qs.filter(assignee_id=user.pk, status__in=WORKSPACE_STATUSES)
    elif view == "waiting":
        qs = qs.filter(status=Ticket.Status.WAITING)
    elif view == "done":
        return qs.filter(status__in=(Ticket.Status.RESOLVED, Ticket.Status.CLOSED)).order_by("-resolved_at", "-id")[:100]  # type: ignore[return-value]
    else:
        qs = qs.filter(status__in=WORKSPACE_STATUSES)
    return qs.order_by("escalated_at", "id")


def department_ticket_counts(*, user: Any, department: Department) -> dict[str, int]:
    qs = department_ticket_scope(user=user, department=department).filter(status__in=WORKSPACE_STATUSES)
    rows = qs.values("status").annotate(n=Count("id"))
    by_status = {r["status"]: r["n"] for r in rows}
    return {
        "active": sum(by_status.values()),
        "new": qs.filter(status=Ticket.Status.ESCALATED, assignee__isnull=True).count(),
        "mine": qs.filter(assignee_id=user.pk).count(),
        "waiting": by_status.get(Ticket.Status.WAITING, 0),
    }


def department_ticket_get(*, user: Any, department: Department | None, reference: str) -> Ticket:
    qs = ticket_scope(user).filter(escalated_at__isnull=False, department__isnull=False)
    if department is not None:
        qs = qs.filter(department=department)
    ticket = (qs.select_related("department", "assignee", "contact")
              .prefetch_related("contact__emails", "contact__phones")
              .filter(reference=reference.upper()).first())
    if ticket is None:
        raise NotFound(f"Ticket {reference} does not exist.")
    return ticket


# --- public directory ----------------------------------------------------------------------------

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True, slots=True)
class DirectoryEntry:
    department: Department
    hours: list[tuple[str, str]]  # (day key, "08:00–16:30, 13:00–15:00" or "" when closed)


def directory_list() -> list[DirectoryEntry]:
    entries = []
    for department in Department.objects.filter(is_active=True).order_by("name"):
        raw = department.opening_hours or {}
        hours: list[tuple[str, str]] = []
        if raw:
            for day in DAYS:
                spans = raw.get(day) or []
                hours.append((day, ", ".join(f"{lo}–{hi}" for lo, hi in spans)))
        entries.append(DirectoryEntry(department=department, hours=hours))
    return entries


# --- supervisor ------------------------------------------------------------------------------------

def _commitment_state(ticket: dict[str, Any], now: datetime, calendar: BusinessCalendar) -> str:
    """"breach", "near" (>= 80 % of the time to the due time used) or "ok", worst of the ticket's
    running commitments. Time is business time: a night must not push every ticket to "near"."""
    running: list[tuple[datetime, datetime]] = []
    if ticket["first_response_at"] is None and ticket["first_response_due_at"]:
        running.append((ticket["created_at"], ticket["first_response_due_at"]))
    if ticket["resolution_due_at"]:
        running.append((ticket["created_at"], ticket["resolution_due_at"]))
    if ticket["status"] == Ticket.Status.ESCALATED and ticket["department_due_at"]:
        running.append((ticket["escalated_at"] or ticket["created_at"], ticket["department_due_at"]))
    state = "ok"
    for start, due in running:
        if now >= due:
            return "breach"
        total = calendar.elapsed(start, due)
        used = calendar.elapsed(start, now)
        if total <= timedelta(0):  # due outside business hours: fall back to wall-clock time
            total, used = due - start, now - start
        if total > timedelta(0) and used / total >= NEAR_FRACTION:
            state = "near"
    return state


def _commitment_counts(now: datetime) -> tuple[int, int]:
    """Active tickets near (80 % of business time used) and past their commitments.

    Counted in SQL: the due times are on the ticket, and the 80 % points, computed in business
    time when the commitment was applied, on its TicketCommitment row. At a million tickets a
    Python pass over every active ticket took seconds on a page that polls. Tickets without a
    commitment row (imported, or older than the commitments) are judged in Python, as before.
    """
    if connection.vendor == "postgresql":
        near, breach, rest = _commitment_counts_postgres(now)
    else:
        near, breach, rest = _commitment_counts_orm(now)
    calendar = BusinessCalendar()
    for row in rest:
        state = _commitment_state(row, now, calendar)
        near += state == "near"
        breach += state == "breach"
    return near, breach


def _commitment_counts_orm(now: datetime) -> tuple[int, int, Iterable[dict[str, Any]]]:
    active = Ticket.objects.filter(status__in=Ticket.ACTIVE_STATUSES)
    past = (
        Q(first_response_at__isnull=True, first_response_due_at__lte=now)
        | Q(resolution_due_at__lte=now)
        | Q(status=Ticket.Status.ESCALATED, department_due_at__lte=now)
    )
    warned = (
        Q(first_response_at__isnull=True, commitment__first_response_warn_at__lte=now)
        | Q(resolution_due_at__isnull=False, commitment__resolution_warn_at__lte=now)
        | Q(status=Ticket.Status.ESCALATED, department_due_at__isnull=False, commitment__department_warn_at__lte=now)
    )
    with_row = active.filter(commitment__isnull=False)
    counts = with_row.aggregate(breach=Count("pk", filter=past), near=Count("pk", filter=warned & ~past))
    rest = active.filter(commitment__isnull=True).exclude(
        first_response_due_at__isnull=True, resolution_due_at__isnull=True, department_due_at__isnull=True
    ).values(*_REST_FIELDS)
    return counts["near"], counts["breach"], rest.iterator(chunk_size=500)


_REST_FIELDS = ("status", "created_at", "escalated_at", "first_response_at", "first_response_due_at",
                "resolution_due_at", "department_due_at")

# The same rules as ``_commitment_counts_orm``'s ``past`` and ``warned``, in SQL (PostgreSQL). Each active ticket looks up
# its own commitment row (LATERAL ... LIMIT 1 keeps it a per-ticket index probe): joined as a
# whole, the planner hashed all commitment rows of the city (a million) to match the 15,000
# active tickets, 350 ms per poll; the probes cost a tenth of that.
_PAST = """((t.first_response_at IS NULL AND t.first_response_due_at <= %(now)s)
            OR t.resolution_due_at <= %(now)s
            OR (t.status = %(escalated)s AND t.department_due_at <= %(now)s))"""
_WARNED = """((t.first_response_at IS NULL AND c.first_response_warn_at <= %(now)s)
              OR (t.resolution_due_at IS NOT NULL AND c.resolution_warn_at <= %(now)s)
              OR (t.status = %(escalated)s AND t.department_due_at IS NOT NULL AND c.department_warn_at <= %(now)s))"""
_ANY_DUE = ("(t.first_response_due_at IS NOT NULL OR t.resolution_due_at IS NOT NULL"
            " OR t.department_due_at IS NOT NULL)")
_ACTIVE_WITH_ROW = """
    FROM tickets_ticket t
    LEFT JOIN LATERAL (
        SELECT true AS has, first_response_warn_at, resolution_warn_at, department_warn_at
        FROM commitments_ticketcommitment WHERE ticket_id = t.id LIMIT 1
    ) c ON true
    WHERE t.status = ANY(%(active)s)"""
_COUNTS_SQL = f"""
    SELECT count(*) FILTER (WHERE c.has AND {_PAST}),
           count(*) FILTER (WHERE c.has AND NOT coalesce({_PAST}, false) AND {_WARNED}),
           count(*) FILTER (WHERE c.has IS NULL AND {_ANY_DUE})
    {_ACTIVE_WITH_ROW}"""
_REST_SQL = f"SELECT {', '.join('t.' + f for f in _REST_FIELDS)} {_ACTIVE_WITH_ROW} AND c.has IS NULL AND {_ANY_DUE}"


def _commitment_counts_postgres(now: datetime) -> tuple[int, int, list[dict[str, Any]]]:
    params = {"now": now, "escalated": Ticket.Status.ESCALATED, "active": sorted(Ticket.ACTIVE_STATUSES)}
    with connection.cursor() as cursor:
        cursor.execute(_COUNTS_SQL, params)
        breach, near, without_row = cursor.fetchone()
        rest: list[dict[str, Any]] = []
        if without_row:
            cursor.execute(_REST_SQL, params)
            rest = [dict(zip(_REST_FIELDS, row, strict=True)) for row in cursor.fetchall()]
    return near, breach, rest


def supervisor_counts(*, now: datetime | None = None, online: set[int] | None = None) -> dict[str, Any]:
    now = now or timezone.now()
    near, breach = _commitment_counts(now)
    midnight = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    volumes = dict.fromkeys((c for c in Channel.values if c != Channel.INTERNAL), 0)
    for row in Ticket.objects.filter(created_at__gte=midnight).values("channel").annotate(n=Count("id")):
        volumes[row["channel"]] = volumes.get(row["channel"], 0) + row["n"]
    escalated = [
        {"code": row["department__code"], "name": row["department__name"], "count": row["n"]}
        for row in Ticket.objects.filter(status=Ticket.Status.ESCALATED, department__isnull=False)
        .values("department__code", "department__name").annotate(n=Count("id")).order_by("department__name")
    ]
    return {
        "at": now.isoformat(),
        "waiting_chats": ChatSession.objects.filter(state=ChatSession.State.WAITING, ticket__isnull=False).count(),
        "ringing_calls": CallSession.objects.filter(state=CallSession.State.RINGING,
                                                    started_at__gte=now - RINGING_STALE_AFTER).count(),
        "tickets_near_due": near,
        "tickets_past_due": breach,
        "agents_online": len(agents_online() if online is None else online),
        "today_by_channel": volumes,
        "today_total": sum(volumes.values()),
        "open_tickets": Ticket.objects.filter(status__in=(Ticket.Status.NEW, Ticket.Status.OPEN)).count(),
        "escalated_by_department": escalated,
    }
