"""Store questions several desk pages ask, each answered with a bounded number of queries (no query per row)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable

from sqlalchemy import ColumnElement, func, literal_column, select
from sqlalchemy.orm import QueryableAttribute, Session

from store.models import Item


def hour_bucket(session: Session,
                column: QueryableAttribute[dt.datetime] | ColumnElement[dt.datetime]) -> ColumnElement[str]:
    """``YYYY-MM-DD HH`` of a stored UTC time, computed by the database (SQLite stores UTC text)."""
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(func.timezone(literal_column("'UTC'"), column), "YYYY-MM-DD HH24")
    return func.substr(column, 1, 13)


def hours(since: dt.datetime, count: int) -> list[str]:
    """The *count* hourly bucket keys from *since* (UTC), oldest first."""
    start = since.astimezone(dt.UTC).replace(minute=0, second=0, microsecond=0)
    return [(start + dt.timedelta(hours=i)).strftime("%Y-%m-%d %H") for i in range(count)]


def items_per_hour(session: Session, event_ids: Iterable[int], since: dt.datetime,
                   count: int = 24) -> dict[int, list[int]]:
    """Items fetched per hour for each event over *count* hours from *since*: one grouped query."""
    ids = list(event_ids)
    if not ids:
        return {}
    bucket = hour_bucket(session, Item.fetched_at)
    rows = session.execute(select(Item.event_id, bucket, func.count())
                           .where(Item.event_id.in_(ids), Item.fetched_at >= since)
                           .group_by(Item.event_id, bucket)).all()
    keys = hours(since, count)
    index = {key: i for i, key in enumerate(keys)}
    out: dict[int, list[int]] = defaultdict(lambda: [0] * count)
    for event_id, key, n in rows:
        if key in index and event_id is not None:
            out[event_id][index[key]] = n
    return {event_id: out[event_id] for event_id in ids}
