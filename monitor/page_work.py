"""A fetched page in transit between the cluster's poll and pipeline queues, and the polling leases.

On one machine the poller fetches and stores in one call. In a cluster (``yuqing worker``) a poll task
fetches a source and hands the page, as JSON, to a pipeline task that stores it (the unit of work is a
fetched page). :class:`Page` is that hand-over: the items as every kind normalises them, and what the
poll learnt (validators, warnings) for the source's state, written with the items.

:func:`claim_due` is the scheduler's half: it moves each due source's next poll time forward by a lease
(compare-and-set in one UPDATE), so a source is handed to one poll task at a time; the poll's own state
replaces the lease, and a poll lost with its worker is due again when the lease runs out.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from monitor.items import NormalisedItem
from monitor.sources import FetchOutcome
from store.models import Source

_TIMES = ("published_at", "reply_at")


@dataclass(frozen=True)
class Page:
    """One fetch of one source, ready for the pipeline (JSON-safe through :meth:`to_data`)."""

    source: str
    polled_at: dt.datetime
    items: list[NormalisedItem]
    etag: str | None = None
    last_modified: str | None = None
    warnings: list[str] = field(default_factory=list)
    keep_validators: bool = True

    @classmethod
    def of(cls, source: str, polled_at: dt.datetime, outcome: FetchOutcome) -> Page:
        return cls(source, polled_at, list(outcome.items), outcome.etag, outcome.last_modified,
                   list(outcome.warnings), outcome.keep_validators)

    def outcome(self) -> FetchOutcome:
        return FetchOutcome(items=list(self.items), etag=self.etag, last_modified=self.last_modified,
                            warnings=list(self.warnings), keep_validators=self.keep_validators)

    def to_data(self) -> dict[str, Any]:
        return {"source": self.source, "polled_at": self.polled_at.isoformat(),
                "items": [_item_data(item) for item in self.items], "etag": self.etag,
                "last_modified": self.last_modified, "warnings": list(self.warnings),
                "keep_validators": self.keep_validators}

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Page:
        return cls(source=str(data["source"]), polled_at=dt.datetime.fromisoformat(data["polled_at"]),
                   items=[_item_from(entry) for entry in data["items"]], etag=data.get("etag"),
                   last_modified=data.get("last_modified"), warnings=list(data.get("warnings") or []),
                   keep_validators=bool(data.get("keep_validators", True)))


def _item_data(item: NormalisedItem) -> dict[str, Any]:
    from monitor.pipeline import _jsonable  # the pipeline stores raw the same way

    data = {f.name: getattr(item, f.name) for f in dataclasses.fields(item)}
    for name in _TIMES:
        if data[name] is not None:
            data[name] = data[name].isoformat()
    data["links"] = list(item.links)
    data["raw"] = _jsonable(item.raw)
    return data


def _item_from(data: Mapping[str, Any]) -> NormalisedItem:
    values = dict(data)
    for name in _TIMES:
        if values.get(name) is not None:
            values[name] = dt.datetime.fromisoformat(values[name])
    values["links"] = tuple(values.get("links") or ())
    return NormalisedItem(**values)


def claim_due(session: Session, now: dt.datetime, lease: dt.timedelta, limit: int = 10_000) -> list[str]:
    """The enabled sources whose next poll has come, each leased to one poll until *now* + *lease*."""
    due = (Source.enabled.is_(True), or_(Source.next_poll_at.is_(None), Source.next_poll_at <= now))
    ids = list(session.scalars(select(Source.id).where(*due)
                               .order_by(Source.next_poll_at.nulls_first(), Source.id).limit(limit)))
    if not ids:
        return []
    claimed = session.execute(
        update(Source).where(Source.id.in_(ids), *due).values(next_poll_at=now + lease).returning(Source.name)
        .execution_options(synchronize_session=False))
    return sorted(name for (name,) in claimed)
