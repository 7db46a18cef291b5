"""Reads for the Open311 endpoints: one query per list, joins decided here."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from contactcentre.tickets.models import Ticket

from .models import ServiceDefinition, ServiceRequest

OPEN_STATUSES = tuple(Ticket.ACTIVE_STATUSES)
CLOSED_STATUSES = (Ticket.Status.RESOLVED, Ticket.Status.CLOSED)


def open311_status(ticket_status: str) -> str:
    """GeoReport v2 knows two states: anything still being worked on is open."""
    return "open" if ticket_status in Ticket.ACTIVE_STATUSES else "closed"


def service_list() -> QuerySet[ServiceDefinition]:
    return ServiceDefinition.objects.filter(is_active=True).order_by("group", "service_name")


def service_get(*, service_code: str) -> ServiceDefinition | None:
    return ServiceDefinition.objects.filter(service_code=service_code, is_active=True).first()


def _base() -> QuerySet[ServiceRequest]:
    return ServiceRequest.objects.select_related("ticket", "ticket__department", "service")


def service_request_list(
    *,
    references: list[str] | None = None,
    service_codes: list[str] | None = None,
    statuses: list[str] | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    now: datetime | None = None,
) -> list[ServiceRequest]:
    qs = _base()
    if references:
        # The spec: with service_request_id, the other filters are ignored.
        return list(qs.filter(ticket__reference__in=[r.upper() for r in references]).order_by("-id"))
    if service_codes:
        qs = qs.filter(service__service_code__in=service_codes)
    if statuses:
        wanted: list[str] = []
        if "open" in statuses:
            wanted += OPEN_STATUSES
        if "closed" in statuses:
            wanted += CLOSED_STATUSES
        qs = qs.filter(ticket__status__in=wanted)
    if start is None and end is None:
        start = (now or timezone.now()) - timedelta(days=settings.OPEN311_DEFAULT_WINDOW_DAYS)
    if start is not None:
        qs = qs.filter(created_at__gte=start)
    if end is not None:
        qs = qs.filter(created_at__lte=end)
    return list(qs.order_by("-created_at", "-id")[: settings.OPEN311_MAX_RESULTS])


def service_request_get(*, reference: str) -> ServiceRequest | None:
    return _base().filter(ticket__reference=reference.upper()).first()
