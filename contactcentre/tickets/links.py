"""Signed, expiring links that let a resident reach their own ticket without an account."""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.urls import reverse

from .models import Ticket

_SALT = "contactcentre.ticket-status"
MAX_AGE_S = 180 * 24 * 3600  # the link in a receipt works for half a year


def ticket_status_token(ticket: Ticket) -> str:
    return signing.dumps({"t": ticket.pk, "r": ticket.reference}, salt=_SALT, compress=True)


def ticket_from_status_token(token: str, *, max_age: int = MAX_AGE_S) -> Ticket | None:
    try:
        data = signing.loads(token, salt=_SALT, max_age=max_age)
    except signing.BadSignature:  # includes SignatureExpired
        return None
    return Ticket.objects.filter(pk=data.get("t"), reference=data.get("r")).first()


def ticket_status_url(ticket: Ticket) -> str:
    return settings.PUBLIC_BASE_URL + reverse("frontend:ticket-status", args=[ticket_status_token(ticket)])
