"""The working-day clock across Spring Festival and National Day 2026, later years and declared holidays."""

from __future__ import annotations

import datetime as dt
import logging
from zoneinfo import ZoneInfo

import pytest

from playbooks.schema import Playbook
from playbooks.workdays import ClockError, WorkClock, WorkingCalendar

CST = ZoneInfo("Asia/Shanghai")


def at(y: int, m: int, d: int, hh: int = 10, mm: int = 0) -> dt.datetime:
    return dt.datetime(y, m, d, hh, mm, tzinfo=CST)


@pytest.fixture
def clock(playbook: Playbook) -> WorkClock:
    return WorkClock.from_playbook(playbook)


def test_national_day_2026_with_make_up_saturday(clock: WorkClock) -> None:
    # Oct 1–7 off; Sat Oct 10 is a make-up working day (调休).
    due = clock.due_in_working_days(at(2026, 9, 30), 7)
    assert due == dt.datetime(2026, 10, 15, 17, 0, tzinfo=CST)


def test_make_up_day_counts(clock: WorkClock) -> None:
    assert clock.calendar.is_workday(dt.date(2026, 10, 10))  # Saturday, 调休
    assert not clock.calendar.is_workday(dt.date(2026, 10, 5))
    assert clock.due_in_working_days(at(2026, 10, 9), 1) == dt.datetime(2026, 10, 10, 17, 0, tzinfo=CST)


def test_spring_festival_2026(clock: WorkClock) -> None:
    # 2026 Spring Festival: Feb 15–23 off, Sat Feb 14 and Sat Feb 28 are make-up days.
    assert clock.calendar.is_workday(dt.date(2026, 2, 14))
    assert not clock.calendar.is_workday(dt.date(2026, 2, 16))
    assert clock.calendar.is_workday(dt.date(2026, 2, 28))
    # Received Fri Feb 13: Sat 14 (1), Tue 24 (2), 25 (3), 26 (4), 27 (5), Sat 28 (6), Mon Mar 2 (7)
    assert clock.due_in_working_days(at(2026, 2, 13), 7) == dt.datetime(2026, 3, 2, 17, 0, tzinfo=CST)


def test_extended_case_fifteen_working_days(clock: WorkClock) -> None:
    due = clock.due_in_working_days(at(2026, 11, 23), 15)
    assert due == dt.datetime(2026, 12, 14, 17, 0, tzinfo=CST)


def test_year_beyond_library_falls_back_to_weekends_with_warning(
    clock: WorkClock, caplog: pytest.LogCaptureFixture
) -> None:
    calendar = WorkingCalendar()
    fallback = WorkClock(calendar, clock.office_start, clock.office_end, clock.tz)
    with caplog.at_level(logging.WARNING, logger="playbooks.workdays"):
        due = fallback.due_in_working_days(at(2031, 5, 2), 3)  # a Friday
    assert due == dt.datetime(2031, 5, 7, 17, 0, tzinfo=CST)
    assert "no official holiday calendar for 2031" in caplog.text
    caplog.clear()
    fallback.due_in_working_days(at(2031, 6, 2), 1)
    assert "2031" not in caplog.text  # warned once per year


def test_playbook_declared_holidays_and_make_up_days(clock: WorkClock) -> None:
    calendar = WorkingCalendar.from_dates(
        holidays=[dt.date(2031, 1, 1), dt.date(2031, 1, 2)], workdays=[dt.date(2031, 1, 4)]
    )
    declared = WorkClock(calendar, clock.office_start, clock.office_end, clock.tz)
    # Tue Dec 31 2030 → Jan 1–2 off, Fri Jan 3 (1), Sat Jan 4 make-up (2), Mon Jan 6 (3)
    assert declared.due_in_working_days(at(2030, 12, 31), 3) == dt.datetime(2031, 1, 6, 17, 0, tzinfo=CST)


def test_hours_run_around_the_clock(clock: WorkClock) -> None:
    assert clock.due_in(at(2026, 10, 1, 23, 30), dt.timedelta(hours=5)) == at(2026, 10, 2, 4, 30)


def test_other_timezones_are_converted(clock: WorkClock) -> None:
    start = dt.datetime(2026, 9, 30, 2, 0, tzinfo=dt.UTC)  # 10:00 in Shanghai
    assert clock.due_in_working_days(start, 7) == dt.datetime(2026, 10, 15, 17, 0, tzinfo=CST)


def test_naive_start_is_refused(clock: WorkClock) -> None:
    with pytest.raises(ClockError, match="no timezone"):
        clock.due_in_working_days(dt.datetime(2026, 9, 30, 10, 0), 7)


def test_office_time(clock: WorkClock) -> None:
    assert clock.is_office_time(at(2026, 11, 23, 9, 0))
    assert not clock.is_office_time(at(2026, 11, 23, 18, 0))
    assert not clock.is_office_time(at(2026, 10, 3, 9, 0))
