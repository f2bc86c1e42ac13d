"""The working-day clock: deadlines counted in Chinese working days or in hours.

Working days follow the State Council holiday notices with their make-up
working days (调休), via the chinese-calendar library. That library only knows
the years published when it was released, so a playbook may declare holidays
and make-up days for later years; where neither knows a year we fall back to
"Monday to Friday" and log a warning once — a deadline is never refused.

Everything here is pure: the start time is passed in, nothing reads the clock.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import chinese_calendar

from playbooks.errors import PlaybookError
from playbooks.schema import Playbook

log = logging.getLogger(__name__)

_MAX_SCAN_DAYS = 3660  # no holiday calendar has ten years without a working day


class ClockError(PlaybookError, ValueError):
    """A deadline was asked for with inputs that have no meaning (naive time, negative days)."""


MAX_WORKING_DAYS = 366  # no clock of ours runs longer than a year
MAX_SPAN = dt.timedelta(days=366)


@dataclass
class WorkingCalendar:
    """Which dates are working days: playbook declarations, then chinese-calendar, then weekends."""

    holidays: frozenset[dt.date] = frozenset()
    workdays: frozenset[dt.date] = frozenset()
    _warned_years: set[int] = field(default_factory=set, repr=False, compare=False)

    @classmethod
    def from_dates(cls, holidays: Iterable[dt.date] = (), workdays: Iterable[dt.date] = ()) -> WorkingCalendar:
        return cls(frozenset(holidays), frozenset(workdays))

    def is_workday(self, day: dt.date) -> bool:
        if day in self.workdays:
            return True
        if day in self.holidays:
            return False
        try:
            return bool(chinese_calendar.is_workday(day))
        except NotImplementedError:
            self._warn_unknown_year(day.year)
            return day.weekday() < 5

    def _warn_unknown_year(self, year: int) -> None:
        if year in self._warned_years:
            return
        self._warned_years.add(year)
        log.warning(
            "no official holiday calendar for %d: counting Monday–Friday as working days; "
            "declare the year's holidays and make-up days under calendar: in the playbook",
            year,
        )

    def next_workday(self, day: dt.date) -> dt.date:
        """The first working day strictly after *day*."""
        for offset in range(1, _MAX_SCAN_DAYS):
            candidate = day + dt.timedelta(days=offset)
            if self.is_workday(candidate):
                return candidate
        raise ClockError(f"no working day within ten years after {day}")


@dataclass(frozen=True)
class WorkClock:
    """Deadlines under one playbook's calendar, office hours and timezone."""

    calendar: WorkingCalendar
    office_start: dt.time
    office_end: dt.time
    tz: ZoneInfo

    @classmethod
    def from_playbook(cls, playbook: Playbook) -> WorkClock:
        calendar = WorkingCalendar.from_dates(playbook.calendar.holidays, playbook.calendar.workdays)
        return cls(calendar, playbook.office_hours.start, playbook.office_hours.end, ZoneInfo(playbook.timezone))

    def _local(self, moment: dt.datetime) -> dt.datetime:
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ClockError(f"start time {moment.isoformat()} has no timezone (write e.g. +08:00)")
        return moment.astimezone(self.tz)

    def due_in_working_days(self, start: dt.datetime, days: int) -> dt.datetime:
        """End of the office day of the *days*-th working day after the start day.

        The count starts on the next working day (the day of receipt does not count),
        as the 2015 document's "7个工作日内反馈" is applied in practice.
        """
        if days < 0:
            raise ClockError(f"working days must not be negative, got {days}")
        if days > MAX_WORKING_DAYS:
            raise ClockError(f"{days} working days is more than a year; the most a clock counts is {MAX_WORKING_DAYS}")
        day = self._local(start).date()
        if days == 0:
            return dt.datetime.combine(day, self.office_end, self.tz)
        for _ in range(days):
            day = self.calendar.next_workday(day)
        return dt.datetime.combine(day, self.office_end, self.tz)

    def due_in(self, start: dt.datetime, duration: dt.timedelta) -> dt.datetime:
        """A deadline in elapsed time (rumours and emergencies run around the clock)."""
        if duration < dt.timedelta(0):
            raise ClockError(f"duration must not be negative, got {duration}")
        if duration > MAX_SPAN:
            raise ClockError(f"{duration} is more than a year; the longest clock is {MAX_SPAN.days} days")
        return self._local(start) + duration

    def due_in_office_hours(self, start: dt.datetime, duration: dt.timedelta) -> dt.datetime:
        """A deadline counted in office time on working days: a 签收 clock that stops overnight and on holidays."""
        if duration < dt.timedelta(0):
            raise ClockError(f"duration must not be negative, got {duration}")
        if duration > MAX_SPAN:
            raise ClockError(f"{duration} is more than a year; the longest clock is {MAX_SPAN.days} days")
        moment = self._local(start)
        left = duration
        day = moment.date()
        for _ in range(_MAX_SCAN_DAYS):
            if self.calendar.is_workday(day):
                begin = max(moment, dt.datetime.combine(day, self.office_start, self.tz))
                close = dt.datetime.combine(day, self.office_end, self.tz)
                if begin < close:
                    if left <= close - begin:
                        return begin + left
                    left -= close - begin
            day += dt.timedelta(days=1)
            moment = dt.datetime.combine(day, self.office_start, self.tz)
        raise ClockError(f"no office time within ten years after {start.isoformat()}")

    def is_office_time(self, moment: dt.datetime) -> bool:
        local = self._local(moment)
        return self.calendar.is_workday(local.date()) and self.office_start <= local.time() < self.office_end
