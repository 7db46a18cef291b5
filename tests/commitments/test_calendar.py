"""Due-time arithmetic: weekends, holidays, early-closing eves, DST, pauses, lag 1930:173."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from contactcentre.commitments.calendar import BusinessCalendar, statutory_deadline

STO = ZoneInfo("Europe/Stockholm")
cal = BusinessCalendar()  # Mon-Fri 08-17, eves close at 14


def at(y, m, d, hh=0, mm=0):
    return datetime(y, m, d, hh, mm, tzinfo=STO)


def test_open_interval_is_in_local_office_hours():
    lo, hi = cal.open_interval(date(2026, 11, 23))
    assert lo.astimezone(STO).time() == time(8) and hi.astimezone(STO).time() == time(17)


def test_within_one_day():
    assert cal.add(at(2026, 11, 23, 9), timedelta(hours=4)) == at(2026, 11, 23, 13)


def test_across_a_weekend():
    # Friday 15:00 + 4 h: 2 h on Friday, 2 h on Monday
    assert cal.add(at(2026, 11, 20, 15), timedelta(hours=4)) == at(2026, 11, 23, 10)


def test_arriving_at_night_or_weekend_starts_at_opening():
    assert cal.add(at(2026, 11, 21, 22), timedelta(hours=1)) == at(2026, 11, 23, 9)
    assert cal.add(at(2026, 11, 24, 3), timedelta(hours=1)) == at(2026, 11, 24, 9)


def test_midsommarafton_is_closed_and_its_eve_closes_early():
    # Thursday 2026-06-18 is "dag före midsommarafton" (closes 14:00); Friday 19 is midsommarafton.
    assert cal.open_interval(date(2026, 6, 18)) == (at(2026, 6, 18, 8), at(2026, 6, 18, 14))
    assert cal.open_interval(date(2026, 6, 19)) is None
    # Thursday 13:00 + 3 h -> 1 h Thursday, then Monday 22 June (Sat 20 is midsommardagen) 10:00
    assert cal.add(at(2026, 6, 18, 13), timedelta(hours=3)) == at(2026, 6, 22, 10)


def test_christmas_and_new_year():
    # 23 Dec closes at 14; 24-26 closed; 27-28 weekend -> Monday 28? (2026: 27 Sun, 28 Mon)
    assert cal.add(at(2026, 12, 23, 13), timedelta(hours=2)) == at(2026, 12, 28, 9)
    assert cal.open_interval(date(2026, 12, 31)) is None
    assert cal.open_interval(date(2027, 1, 1)) is None


def test_a_dst_change_does_not_change_the_working_day():
    # Clocks go forward on Sunday 29 March 2026 and back on Sunday 25 October 2026.
    friday, monday = at(2026, 3, 27, 16), at(2026, 3, 30, 9)
    assert cal.add(friday, timedelta(hours=2)) == monday
    assert cal.elapsed(friday, monday) == timedelta(hours=2)
    # The instant difference is 64 h in March (one hour lost) and 66 h in October (one gained).
    utc = ZoneInfo("UTC")
    assert monday.astimezone(utc) - friday.astimezone(utc) == timedelta(hours=64)
    assert at(2026, 10, 26, 9).astimezone(utc) - at(2026, 10, 23, 16).astimezone(utc) == timedelta(hours=66)
    assert cal.add(at(2026, 10, 23, 16), timedelta(hours=2)) == at(2026, 10, 26, 9)


def test_waiting_on_the_resident_pauses_the_clock():
    start = at(2026, 11, 23, 9)
    pause = (at(2026, 11, 23, 10), at(2026, 11, 24, 10))  # waited a day
    assert cal.add(start, timedelta(hours=3), pauses=[pause]) == at(2026, 11, 24, 12)
    assert cal.elapsed(start, at(2026, 11, 24, 12), pauses=[pause]) == timedelta(hours=3)


def test_working_days():
    # Received Friday: "within 2 working days" ends Tuesday at closing time.
    assert cal.add_working_days(at(2026, 11, 20, 11), 2) == at(2026, 11, 24, 17)
    # Before Easter 2026: Thursday 2 April (skärtorsdag) -> Tue 7 (1st), Wed 8 (2nd)
    assert cal.add_working_days(at(2026, 4, 2, 9), 2) == at(2026, 4, 8, 17)


@pytest.mark.parametrize(
    ("deadline", "moved_to"),
    [
        (date(2026, 11, 21), date(2026, 11, 23)),  # Saturday
        (date(2026, 11, 22), date(2026, 11, 23)),  # Sunday
        (date(2026, 6, 19), date(2026, 6, 22)),  # midsommarafton (Fri) -> Monday
        (date(2026, 12, 24), date(2026, 12, 28)),  # julafton, juldagen, annandag, weekend
        (date(2026, 12, 31), date(2027, 1, 4)),  # nyårsafton, nyårsdagen, weekend
        (date(2026, 6, 6), date(2026, 6, 8)),  # nationaldagen (a Saturday in 2026)
        (date(2026, 11, 24), date(2026, 11, 24)),  # an ordinary Tuesday stays
    ],
)
def test_statutory_deadlines_move_to_the_next_weekday(deadline, moved_to):
    assert statutory_deadline(deadline) == moved_to


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError, match="naive"):
        cal.add(datetime(2026, 11, 23, 9), timedelta(hours=1))


def test_custom_hours():
    late = BusinessCalendar(hours={d: (time(10, 0), time(12, 0)) for d in range(5)})
    assert late.add(at(2026, 11, 23, 11), timedelta(hours=2)) == at(2026, 11, 24, 11)
