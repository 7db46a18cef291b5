"""Business time for service commitments, in Europe/Stockholm.

Pure Python (no Django): the clock and the calendar are inputs, so the arithmetic is tested
exhaustively without a database.

* Open hours per weekday; closed on Swedish public holidays and the de-facto holidays
  (påskafton, midsommarafton, julafton, nyårsafton, ...), all from the ``holidays`` package.
* The eves that offices close early (trettondagsafton, skärtorsdagen, valborgsmässoafton, the
  day before Kristi himmelsfärd, ...; the package marks them "från kl. 14.00") close at
  ``eve_close``.
* Local opening and closing times are turned into instants day by day with ``zoneinfo``, so a
  daylight-saving change shortens or lengthens the night, never the working day.
* Pauses (a ticket waiting on the resident) are cut out of the working intervals.
* ``statutory_deadline`` moves a deadline that falls on a Saturday, Sunday, public holiday,
  midsommarafton, julafton or nyårsafton to the next weekday (lag 1930:173 om beräkning av
  lagstadgad tid).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

Interval = tuple[datetime, datetime]
STOCKHOLM = ZoneInfo("Europe/Stockholm")
MAX_DAYS = 3 * 366  # a commitment further away than this is a configuration error


@lru_cache(maxsize=16)
def _swedish_days(year: int) -> tuple[frozenset[date], frozenset[date], frozenset[date]]:
    """(closed days, early-closing eves, klämdagar) of one year."""
    public = holidays.Sweden(years=year, include_sundays=False, categories=("public",))
    de_facto = holidays.Sweden(years=year, include_sundays=False, categories=("de_facto",))
    bank = holidays.Sweden(years=year, include_sundays=False, categories=("bank",), language="sv")
    optional = holidays.Sweden(years=year, include_sundays=False, categories=("optional",))
    closed = frozenset(public) | frozenset(de_facto)
    eves = frozenset(d for d, name in bank.items() if "14.00" in name and d not in closed)
    return closed, eves, frozenset(optional) - closed


def statutory_closed(day: date) -> bool:
    """Saturday, Sunday, a public holiday, midsommarafton, julafton or nyårsafton (lag 1930:173)."""
    if day.weekday() >= 5:
        return True
    closed, _, _ = _swedish_days(day.year)
    return day in closed


def statutory_deadline(day: date) -> date:
    """A statutory deadline that falls on a closed day moves to the next weekday that is open."""
    while statutory_closed(day):
        day += timedelta(days=1)
    return day


@dataclass(frozen=True)
class BusinessCalendar:
    # Monday=0 ... Sunday=6 -> (open, close) in local time; a missing day is closed.
    hours: dict[int, tuple[time, time]] = field(
        default_factory=lambda: {d: (time(8, 0), time(17, 0)) for d in range(5)}
    )
    eve_close: time = time(14, 0)
    klamdag_open: bool = True
    tz: ZoneInfo = STOCKHOLM

    # --- days -------------------------------------------------------------------------------
    def is_closed_day(self, day: date) -> bool:
        if day.weekday() not in self.hours:
            return True
        closed, _, klamdagar = _swedish_days(day.year)
        return day in closed or (not self.klamdag_open and day in klamdagar)

    def open_interval(self, day: date) -> Interval | None:
        if self.is_closed_day(day):
            return None
        opens, closes = self.hours[day.weekday()]
        _, eves, _ = _swedish_days(day.year)
        if day in eves:
            closes = min(closes, self.eve_close)
        # Arithmetic happens in UTC: Python subtracts datetimes that share a tzinfo as wall-clock
        # times, which is wrong across a daylight-saving change.
        start = datetime.combine(day, opens, tzinfo=self.tz).astimezone(UTC)
        end = datetime.combine(day, closes, tzinfo=self.tz).astimezone(UTC)
        return (start, end) if end > start else None

    def working_intervals(self, start: datetime, *, pauses: Sequence[Interval] = ()) -> Iterable[Interval]:
        """Working intervals from ``start`` on, with the pauses cut out."""
        _require_aware(start)
        day = start.astimezone(self.tz).date()
        start = start.astimezone(UTC)
        ordered_pauses = sorted((lo.astimezone(UTC), hi.astimezone(UTC)) for lo, hi in pauses)
        for _ in range(MAX_DAYS):
            interval = self.open_interval(day)
            day += timedelta(days=1)
            if interval is None or interval[1] <= start:
                continue
            lo = max(interval[0], start)
            yield from _subtract(lo, interval[1], ordered_pauses)
        else:  # pragma: no cover - only with an calendar that is never open
            return

    # --- arithmetic -------------------------------------------------------------------------
    def add(self, start: datetime, duration: timedelta, *, pauses: Sequence[Interval] = ()) -> datetime:
        """The instant when ``duration`` of business time has passed since ``start``."""
        if duration < timedelta(0):
            raise ValueError("duration must not be negative")
        remaining = duration
        last_end = start
        for lo, hi in self.working_intervals(start, pauses=pauses):
            span = hi - lo
            if remaining <= span:
                return lo + remaining
            remaining -= span
            last_end = hi
        raise ValueError(f"no business time within {MAX_DAYS} days of {last_end}")

    def elapsed(self, start: datetime, end: datetime, *, pauses: Sequence[Interval] = ()) -> timedelta:
        """Business time between two instants (zero if ``end`` is not after ``start``)."""
        _require_aware(end)
        total = timedelta(0)
        end = end.astimezone(UTC)
        if end <= start:
            return total
        for lo, hi in self.working_intervals(start, pauses=pauses):
            if lo >= end:
                break
            total += min(hi, end) - lo
        return total

    def add_working_days(self, start: datetime, days: int) -> datetime:
        """End of the ``days``-th working day after ``start`` ("we answer within 2 working days")."""
        if days < 0:
            raise ValueError("days must not be negative")
        day = start.astimezone(self.tz).date()
        counted = 0
        for _ in range(MAX_DAYS):
            day += timedelta(days=1)
            interval = self.open_interval(day)
            if interval is not None:
                counted += 1
                if counted >= days:
                    return interval[1]
        raise ValueError(f"no {days} working days within {MAX_DAYS} days")


def _subtract(lo: datetime, hi: datetime, pauses: Sequence[Interval]) -> Iterable[Interval]:
    cursor = lo
    for p_lo, p_hi in pauses:
        if p_hi <= cursor or p_lo >= hi:
            continue
        if p_lo > cursor:
            yield cursor, p_lo
        cursor = max(cursor, p_hi)
        if cursor >= hi:
            return
    if cursor < hi:
        yield cursor, hi


def _require_aware(value: datetime) -> None:
    if value.tzinfo is None:
        raise ValueError("naive datetimes are refused: pass an aware datetime")
