"""The ``sources`` table as a mirror of the sources file.

Its own module so that commands which only mirror or list sources (``yuqing sources list``, the desk's
sources page) do not import the poller, its HTTP client and the pipeline.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from monitor.config import SourcesFile
from monitor.items import host_of
from store.models import Source


def sync_sources(session: Session, config: SourcesFile) -> tuple[int, int]:
    """Mirror the sources file into the table; returns (added, updated). Rows are never deleted."""
    rows = {s.name: s for s in session.scalars(select(Source))}
    added = updated = 0
    for spec in config.sources:
        values = {
            "kind": spec.kind,
            "url": spec.url,
            "host": host_of(spec.url),
            "weight_class": spec.weight_class,
            "department_key": spec.department,
            "enabled": spec.enabled,
            "config": spec.model_dump(mode="json"),
        }
        row = rows.pop(spec.name, None)
        if row is None:
            row = Source(name=spec.name, interval_seconds=int(spec.interval.total_seconds()), **values)
            session.add(row)
            added += 1
            continue
        if any(getattr(row, k) != v for k, v in values.items()):
            for key, value in values.items():
                setattr(row, key, value)
            updated += 1
    for row in rows.values():  # dropped from the file: keep the history, stop polling
        if row.enabled and row.kind != "import":
            row.enabled = False
            updated += 1
    session.flush()
    return added, updated
