from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import select

from monitor.config import SourcesFile, parse_sources
from monitor.poll import PollResult
from monitor.wiring import Monitor
from store import session_scope
from store.models import Item, ItemChange, Reprint, Source


def cycle(monitor: Monitor, *names: str) -> dict[str, PollResult]:
    results = asyncio.run(monitor.poller.poll_cycle(names or None))
    return {r.source: r for r in results}


def stored(monitor: Monitor, model: Any = Item) -> list[Any]:
    with session_scope(monitor.sessions) as session:
        return list(session.scalars(select(model).order_by(model.id)))


def source_row(monitor: Monitor, name: str) -> Source:
    with session_scope(monitor.sessions) as session:
        return session.scalars(select(Source).where(Source.name == name)).one()


__all__ = ["Item", "ItemChange", "Reprint", "Source", "cycle", "source_row", "stored"]


def sources_config(sources: list[dict[str, Any]], **sections: Any) -> SourcesFile:
    data = {"fetch": {"per_host_min_delay": 0, "read_timeout": 2, "connect_timeout": 2, **sections.pop("fetch", {})},
            "sources": sources, **sections}
    return parse_sources(data, {}, "test-sources.yaml")
