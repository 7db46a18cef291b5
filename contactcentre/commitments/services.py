"""Due times: set on intake, kept right on every change, checked by a periodic job.

The clock pauses while a ticket waits on the resident: due times are recomputed from the
ticket's creation with every waiting period (from the audit log) cut out. While it waits, no
warning or breach is raised.
"""

from __future__ import annotations

import time as _time
from datetime import datetime, time, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from contactcentre.observability.metrics import BREACHES_TOTAL as COMMITMENT_EVENTS
from contactcentre.tickets import events
from contactcentre.tickets.models import Ticket, TicketEvent

from .calendar import BusinessCalendar, Interval, statutory_deadline
from .models import CommitmentPolicy, TicketCommitment

Status = Ticket.Status
WARN_SHARE = 0.8
CALENDAR = BusinessCalendar()
_POLICY_CACHE: dict[str, Any] = {"at": 0.0, "version": None, "policies": []}
_POLICY_TTL_S = 30.0  # intake is hot; policies change rarely
_POLICY_VERSION_KEY = "commitments:policy-version"


def policies_active() -> list[CommitmentPolicy]:
    """Active policies, cached per process; a change anywhere (``policies_changed``) bumps a
    shared version so every process reloads at once instead of holding deleted rows."""
    from django.core.cache import cache

    version = cache.get(_POLICY_VERSION_KEY)
    if version != _POLICY_CACHE["version"] or _time.monotonic() - _POLICY_CACHE["at"] > _POLICY_TTL_S:
        _POLICY_CACHE["policies"] = list(CommitmentPolicy.objects.filter(is_active=True).select_related("department"))
        _POLICY_CACHE["at"] = _time.monotonic()
        _POLICY_CACHE["version"] = version
    return _POLICY_CACHE["policies"]


def policies_changed() -> None:
    from django.core.cache import cache

    _POLICY_CACHE["at"] = 0.0
    cache.set(_POLICY_VERSION_KEY, _time.time_ns(), timeout=None)


def policy_for(ticket: Ticket, policies: list[CommitmentPolicy] | None = None) -> CommitmentPolicy | None:
    best, best_score = None, -1
    for p in policies if policies is not None else policies_active():
        checks = [
            (p.channel, ticket.channel),
            (p.department_id, ticket.department_id),
            (p.category, ticket.category),
            (p.priority, ticket.priority),
        ]
        if any(want and want != have for want, have in checks):
            continue
        score = sum(1 for want, _ in checks if want)
        if score > best_score:
            best, best_score = p, score
    return best


def waiting_periods(ticket: Ticket, *, now: datetime | None = None) -> list[Interval]:
    """When the ticket waited on the resident, from its status history."""
    periods: list[Interval] = []
    started: datetime | None = None
    history = TicketEvent.objects.filter(ticket=ticket, kind="status").order_by("created_at", "id")
    for from_value, to_value, at in history.values_list("from_value", "to_value", "created_at"):
        if to_value == Status.WAITING and started is None:
            started = at
        elif from_value == Status.WAITING and started is not None:
            periods.append((started, at))
            started = None
    if started is not None:
        periods.append((started, now or timezone.now()))
    return periods


def _statutory_due(start: datetime, days: int) -> datetime:
    """Close of business on the day ``days`` calendar days after ``start``, moved off closed days."""
    due_day = statutory_deadline((timezone.localtime(start) + timedelta(days=days)).date())
    interval = CALENDAR.open_interval(due_day)
    return interval[1] if interval else datetime.combine(due_day, time(23, 59), tzinfo=CALENDAR.tz)


def _department_has_answered(ticket: Ticket) -> bool:
    # The first besked: the department answered the resident, asked for more, or decided.
    if ticket.status in (Status.WAITING, Status.RESOLVED, Status.CLOSED):
        return True
    return ticket.messages.filter(direction="outbound", created_at__gte=ticket.escalated_at).exists()


def _warn_and_due(start: datetime, hours: float, pauses: list[Interval]) -> tuple[datetime, datetime]:
    total = timedelta(hours=hours)
    return (CALENDAR.add(start, total * WARN_SHARE, pauses=pauses), CALENDAR.add(start, total, pauses=pauses))


def commitments_apply(ticket: Ticket, *, now: datetime | None = None, fresh: bool = False) -> list[str]:
    """Set the ticket's due fields from its policy (caller saves the returned fields).

    ``fresh``: the caller created the ticket in this transaction, so it has no commitment row,
    no status history and no answer yet (intake's hot path skips those three lookups)."""
    now = now or timezone.now()
    policy = policy_for(ticket)
    # Callers hold the ticket (created in this transaction, or locked), so nobody else creates
    # its commitment row meanwhile: a new row is built in memory and inserted once, complete.
    state = None if fresh else TicketCommitment.objects.filter(ticket=ticket).first()
    is_new = state is None
    if state is None:
        state = TicketCommitment(ticket=ticket)
    pauses = waiting_periods(ticket, now=now) if ticket.status != Status.NEW and not fresh else []
    changed: list[str] = []

    def put(field: str, value: datetime | None) -> None:
        if getattr(ticket, field) != value:
            setattr(ticket, field, value)
            changed.append(field)

    warn: dict[str, datetime | None] = {
        "first_response_warn_at": None, "resolution_warn_at": None, "department_warn_at": None,
        "department_check_warn_at": None, "department_check_due_at": None,
        "department_check_done_at": state.department_check_done_at,
    }
    first_due = resolution_due = department_due = None
    if policy is not None:
        if policy.first_response_hours:
            warn["first_response_warn_at"], first_due = _warn_and_due(ticket.created_at, policy.first_response_hours, pauses)
        if policy.resolution_hours:
            warn["resolution_warn_at"], resolution_due = _warn_and_due(ticket.created_at, policy.resolution_hours, pauses)
        if policy.department_days and ticket.escalated_at:
            department_due = _statutory_due(ticket.escalated_at, policy.department_days)
            warn["department_warn_at"] = ticket.escalated_at + (department_due - ticket.escalated_at) * WARN_SHARE
        if policy.department_check_days and ticket.escalated_at:
            check_due = _statutory_due(ticket.escalated_at, policy.department_check_days)
            warn["department_check_warn_at"] = ticket.escalated_at + (check_due - ticket.escalated_at) * WARN_SHARE
            warn["department_check_due_at"] = check_due
            if state.department_check_done_at is None and not fresh and _department_has_answered(ticket):
                warn["department_check_done_at"] = now
    put("first_response_due_at", first_due)
    put("resolution_due_at", resolution_due)
    put("department_due_at", department_due)
    state_fields = [k for k, v in warn.items() if getattr(state, k) != v]
    for k in state_fields:
        setattr(state, k, warn[k])
    if state.policy_id != (policy.pk if policy else None):
        state.policy = policy
        state_fields.append("policy")
    if is_new:
        state.save(force_insert=True)
    elif state_fields:
        state.save(update_fields=state_fields)
    return changed


def commitment_working_days(ticket: Ticket) -> int | None:
    """The first-response promise in whole working days, as receipts state it."""
    state = TicketCommitment.objects.filter(ticket=ticket).select_related("policy").first()
    policy = state.policy if state else policy_for(ticket)
    if policy is None or not policy.first_response_hours:
        return None
    day = CALENDAR.hours[0][1].hour - CALENDAR.hours[0][0].hour  # hours in a working day
    return max(1, -(-int(policy.first_response_hours) // day))


# --- the periodic check --------------------------------------------------------------------

CLOCKS = (
    # clock, warn field (TicketCommitment), due and done lookups (from TicketCommitment)
    ("first_response", "first_response_warn_at", "ticket__first_response_due_at", "ticket__first_response_at"),
    ("resolution", "resolution_warn_at", "ticket__resolution_due_at", "ticket__resolved_at"),
    ("department", "department_warn_at", "ticket__department_due_at", "ticket__resolved_at"),
    ("department_check", "department_check_warn_at", "department_check_due_at", "department_check_done_at"),
)


def commitments_check(*, now: datetime | None = None) -> dict[str, int]:
    """Announce each ticket's 80% warning and breach once per clock (live, to agents and
    supervisors; the department clock also to the department's caseworkers)."""
    now = now or timezone.now()
    counts = {"warnings": 0, "breaches": 0}
    active = Ticket.ACTIVE_STATUSES - {Status.WAITING}
    for clock, warn_field, due_field, done_field in CLOCKS:
        for kind, time_q, flag in (
            ("breached", Q(**{f"{due_field}__lte": now}), f"{clock}_breached"),
            ("warning", Q(**{f"{warn_field}__lte": now}), f"{clock}_warned"),
        ):
            rows = (
                TicketCommitment.objects.filter(time_q, **{flag: False, "ticket__status__in": active,
                                                           f"{done_field}__isnull": True})
                .select_related("ticket__department", "ticket__assignee")
                .order_by("pk")[:500]
            )
            for state in rows:
                if _announce(state, clock=clock, kind=kind, flag=flag, due_field=due_field):
                    counts["breaches" if kind == "breached" else "warnings"] += 1
    return counts


@transaction.atomic
def _announce(state: TicketCommitment, *, clock: str, kind: str, flag: str, due_field: str) -> bool:
    # The flag flips under the row lock: two checkers never announce the same thing twice.
    updated = TicketCommitment.objects.filter(pk=state.pk, **{flag: False}).update(**{flag: True})
    if not updated:
        return False
    if kind == "breached":
        # A breach found first makes the warning moot.
        TicketCommitment.objects.filter(pk=state.pk).update(**{flag.replace("breached", "warned"): True})
    ticket = state.ticket
    due = getattr(ticket, due_field.removeprefix("ticket__")) if due_field.startswith("ticket__") else getattr(state, due_field)
    COMMITMENT_EVENTS.labels(clock=clock, kind=kind).inc()
    TicketEvent.objects.create(ticket=ticket, kind=f"commitment_{kind}", to_value=clock,
                               data={"due_at": due.isoformat() if due else None})
    events.emit_ticket_event(f"commitment.{kind}", ticket, clock=clock,
                             due_at=due.isoformat() if due else None)
    return True
