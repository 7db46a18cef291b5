"""Reads: every query the API and the console make, with their joins decided here."""

from __future__ import annotations

from typing import Any

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet

from .errors import NotFound
from .models import Contact, Department, LiveEvent, Message, Ticket


def ticket_scope(user: Any) -> QuerySet[Ticket]:
    """The tickets a member of staff may see: all for the contact centre, their own department's
    for caseworkers, nothing for anyone else."""
    qs = Ticket.objects.all()
    if not getattr(user, "is_staff_member", False):
        return qs.none()
    if user.sees_all_departments:
        return qs
    if not user.department_id:
        return qs.none()
    # Caseworkers see what was escalated to their department, nothing the contact centre keeps.
    return qs.filter(department_id=user.department_id, escalated_at__isnull=False)


def ticket_list(*, user: Any, filters: dict[str, Any] | None = None) -> QuerySet[Ticket]:
    filters = filters or {}
    qs = ticket_scope(user).select_related("department", "assignee", "contact")
    if status := filters.get("status"):
        qs = qs.filter(status__in=status) if isinstance(status, list | tuple) else qs.filter(status=status)
    if department := filters.get("department"):
        qs = qs.filter(department__code=department)
    if channel := filters.get("channel"):
        qs = qs.filter(channel=channel)
    if "assignee" in filters:
        assignee = filters["assignee"]
        if assignee in ("", "none", None):
            qs = qs.filter(assignee__isnull=True)
        elif assignee == "me":
            qs = qs.filter(assignee_id=user.pk)
        else:
            qs = qs.filter(assignee__username=assignee)
    if filters.get("complaint") is not None:
        qs = qs.filter(is_complaint=filters["complaint"])
    if contact := filters.get("contact"):
        qs = qs.filter(contact_id=contact)
    if text := (filters.get("q") or "").strip():
        in_messages = Message.objects.filter(ticket_id=OuterRef("pk"), body_text__icontains=text)
        qs = qs.filter(
            Q(reference__iexact=text) | Q(subject__icontains=text) | Q(contact__name__icontains=text) | Exists(in_messages)
        )
    return qs.order_by("-id")


def ticket_get(*, user: Any, reference_or_id: str | int) -> Ticket:
    qs = ticket_scope(user).select_related("department", "assignee", "contact", "held_for", "merged_into")
    key = str(reference_or_id)
    ticket = qs.filter(pk=int(key)).first() if key.isdigit() else qs.filter(reference=key.upper()).first()
    if ticket is None:
        raise NotFound(f"Ticket {key} does not exist.")
    return ticket


def message_list(*, ticket: Ticket) -> QuerySet[Message]:
    return ticket.messages.select_related("author").prefetch_related("attachments").order_by("created_at", "id")


def contact_scope(user: Any) -> QuerySet[Contact]:
    if not getattr(user, "is_staff_member", False):
        return Contact.objects.none()
    if user.sees_all_departments:
        return Contact.objects.all()
    return Contact.objects.filter(
        tickets__department_id=user.department_id, tickets__escalated_at__isnull=False
    ).distinct()


def contact_list(*, user: Any, q: str = "") -> QuerySet[Contact]:
    qs = contact_scope(user).prefetch_related("emails", "phones")
    if q := q.strip():
        qs = qs.filter(Q(name__icontains=q) | Q(emails__address__icontains=q) | Q(phones__number__icontains=q)
                       | Q(organisation_number=q)).distinct()
    return qs.order_by("-id")


def contact_get(*, user: Any, contact_id: int) -> Contact:
    contact = (
        contact_scope(user)
        .prefetch_related(
            "emails",
            "phones",
            Prefetch("tickets", queryset=Ticket.objects.select_related("department").order_by("-id")),
        )
        .filter(pk=contact_id)
        .first()
    )
    if contact is None:
        raise NotFound(f"Contact {contact_id} does not exist.")
    return contact


def department_list() -> QuerySet[Department]:
    return Department.objects.filter(is_active=True).order_by("name")


def live_events_since(*, user: Any, since: int, limit: int = 500) -> list[LiveEvent]:
    """Events a reconnecting client missed, in order, filtered to what the user may see."""
    qs = LiveEvent.objects.filter(id__gt=since).order_by("id")
    if not getattr(user, "is_staff_member", False):
        return []
    if not user.sees_all_departments:
        code = user.department.code if user.department_id else None
        if not code:
            return []
        qs = qs.filter(department_code=code)
    return list(qs[:limit])


def live_event_last_id() -> int:
    last = LiveEvent.objects.order_by("-id").values_list("id", flat=True).first()
    return last or 0
