"""Calendar periods the office reports by — ISO week, month, quarter — as aware UTC ranges.

Labels are what people type (``2026-W47``, ``2026-11``, ``2026-Q4``); bounds
are local midnights in the playbook's timezone, so a week is the office's week.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from responders.errors import BadCommand

_WEEK = re.compile(r"^(\d{4})-W(\d{1,2})$")
_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")


@dataclass(frozen=True)
class Period:
    """[start, end) in UTC with the label it was asked for."""

    label: str
    start: dt.datetime
    end: dt.datetime

    def contains(self, moment: dt.datetime) -> bool:
        return self.start <= moment < self.end


def _midnight(day: dt.date, tz: ZoneInfo) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0), tz).astimezone(dt.UTC)


def week(label: str, tz: ZoneInfo) -> Period:
    """ISO week ``YYYY-Www``, Monday 00:00 to the next Monday."""
    match = _WEEK.match(label.strip())
    if not match:
        raise BadCommand(reply="bad_period", kind="week", label=label)
    try:
        monday = dt.date.fromisocalendar(int(match.group(1)), int(match.group(2)), 1)
    except ValueError:
        raise BadCommand(reply="no_such_week", label=label) from None
    return Period(f"{match.group(1)}-W{int(match.group(2)):02d}", _midnight(monday, tz),
                  _midnight(monday + dt.timedelta(days=7), tz))


def month(label: str, tz: ZoneInfo) -> Period:
    match = _MONTH.match(label.strip())
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise BadCommand(reply="bad_period", kind="month", label=label)
    year, mon = int(match.group(1)), int(match.group(2))
    first = dt.date(year, mon, 1)
    nxt = dt.date(year + (mon == 12), mon % 12 + 1, 1)
    return Period(f"{year}-{mon:02d}", _midnight(first, tz), _midnight(nxt, tz))


def quarter(label: str, tz: ZoneInfo) -> Period:
    match = _QUARTER.match(label.strip())
    if not match:
        raise BadCommand(reply="bad_period", kind="quarter", label=label)
    year, q = int(match.group(1)), int(match.group(2))
    first = dt.date(year, 3 * q - 2, 1)
    nxt = dt.date(year + (q == 4), (3 * q) % 12 + 1, 1)
    return Period(f"{year}-Q{q}", _midnight(first, tz), _midnight(nxt, tz))


def week_of(moment: dt.datetime, tz: ZoneInfo) -> Period:
    year, number, _ = moment.astimezone(tz).isocalendar()
    return week(f"{year}-W{number:02d}", tz)


def month_of(moment: dt.datetime, tz: ZoneInfo) -> Period:
    local = moment.astimezone(tz)
    return month(f"{local.year}-{local.month:02d}", tz)


def quarter_of(moment: dt.datetime, tz: ZoneInfo) -> Period:
    local = moment.astimezone(tz)
    return quarter(f"{local.year}-Q{(local.month - 1) // 3 + 1}", tz)


def previous_week(period: Period, tz: ZoneInfo) -> Period:
    return week_of(period.start - dt.timedelta(days=1), tz)


def previous_month(period: Period, tz: ZoneInfo) -> Period:
    return month_of(period.start - dt.timedelta(days=1), tz)


def year_of(moment: dt.datetime, tz: ZoneInfo) -> Period:
    """The calendar year *moment* falls in (the annual roll-up for 年度评议考核)."""
    year = moment.astimezone(tz).year
    return Period(f"{year}", _midnight(dt.date(year, 1, 1), tz), _midnight(dt.date(year + 1, 1, 1), tz))
