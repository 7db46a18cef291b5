"""Is a human available to chat right now? Opening hours and agents online.

``opening_hours_open`` is pure (hours and the clock passed in) so it is tested without a
database; ``chat_availability`` is the Django glue.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from functools import cache
from typing import Any, Literal

from django.conf import settings
from django.utils import timezone

from contactcentre.tickets.models import Department

from . import presence

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
Reason = Literal["", "closed", "no_agent"]


@dataclass(frozen=True, slots=True)
class Availability:
    available: bool
    reason: Reason = ""

    def as_dict(self) -> dict[str, Any]:
        return {"available": self.available, "reason": self.reason}


def _parse(value: str) -> time:
    hours, _, minutes = value.partition(":")
    if hours == "24" and int(minutes or 0) == 0:
        return time.max
    return time(int(hours), int(minutes or 0))


@cache
def _holidays(country: str) -> Any:
    import holidays

    return holidays.country_holidays(country)


def opening_hours_open(hours: dict[str, list[list[str]]] | None, now: datetime, *, holiday_country: str = "") -> bool:
    """``hours`` is ``{"mon": [["08:00", "16:30"]], ...}`` in local time; None or {} = always open."""
    if not hours:
        return True
    local = timezone.localtime(now)
    if holiday_country and local.date() in _holidays(holiday_country):
        return False
    current = local.time()
    for start, end in hours.get(WEEKDAYS[local.weekday()], []) or []:
        try:
            if _parse(start) <= current < _parse(end):
                return True
        except (TypeError, ValueError):
            # A malformed interval in the admin must not open (or crash) the chat.
            continue
    return False


def chat_opening_hours() -> dict[str, list[list[str]]] | None:
    """The chat department's own hours (e.g. kundtjanst) win over the settings default."""
    code = getattr(settings, "CHAT_DEPARTMENT_CODE", "kundtjanst")
    hours = Department.objects.filter(code=code, is_active=True).values_list("opening_hours", flat=True).first()
    return hours or getattr(settings, "CHAT_OPENING_HOURS", None)


def chat_availability(*, now: datetime | None = None) -> Availability:
    now = now or timezone.now()
    always_open = getattr(settings, "CHAT_ALWAYS_OPEN", False)
    holiday_country = getattr(settings, "CHAT_HOLIDAY_COUNTRY", "")
    if not always_open and not opening_hours_open(chat_opening_hours(), now, holiday_country=holiday_country):
        return Availability(False, "closed")
    if getattr(settings, "CHAT_REQUIRE_AGENT_ONLINE", True) and not presence.agents_online():
        return Availability(False, "no_agent")
    return Availability(True)
