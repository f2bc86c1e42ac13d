"""Column types shared by the schema: timezone-aware UTC timestamps on every database."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import DateTime, Dialect
from sqlalchemy.types import TypeDecorator

from store.errors import StoreError

SHANGHAI = ZoneInfo("Asia/Shanghai")


class NaiveDatetimeError(StoreError, ValueError):
    """A timestamp without a timezone reached the store; its meaning would be a guess."""


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Store UTC, hand back aware UTC datetimes, refuse naive ones.

    PostgreSQL keeps ``timestamptz``; SQLite has no timezone type, so values
    are normalised to UTC before they are written and tagged UTC when read.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise NaiveDatetimeError(f"timestamp {value.isoformat()} has no timezone")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


def utcnow() -> dt.datetime:
    """The current time, aware, in UTC (the only place the store reads the wall clock)."""
    return dt.datetime.now(dt.UTC)


def shown(value: dt.datetime | None) -> str:
    """Render a stored timestamp as people in the office read it (Asia/Shanghai)."""
    if value is None:
        return "—"
    return value.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")
