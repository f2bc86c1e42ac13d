from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from mon_helpers import sources_config
from mon_server import LoopbackServer

from monitor.clock import FrozenClock
from monitor.fetch import Fetcher, FetchLimits
from monitor.pipeline import Annotator
from monitor.wiring import Monitor, build_monitor
from playbooks.schema import Playbook

START = dt.datetime(2026, 11, 23, 2, 0, tzinfo=dt.UTC)


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    with LoopbackServer() as srv:
        yield srv


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(START)


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'monitor.sqlite3'}"


@pytest.fixture
def make_monitor(db_url: str, playbook: Playbook, clock: FrozenClock, trained_annotator: Annotator) -> Iterator[Any]:
    built: list[Monitor] = []

    def make(sources: list[dict[str, Any]], **sections: Any) -> Monitor:
        config = sources_config(sources, **sections)
        monitor = build_monitor(db_url, config, playbook, fetcher=Fetcher(config.fetch.limits()), clock=clock,
                                annotator=trained_annotator)
        built.append(monitor)
        return monitor

    yield make
    for monitor in built:
        monitor.engine.dispose()


@pytest.fixture
def limits() -> FetchLimits:
    return FetchLimits(connect_timeout=2, read_timeout=2, per_host_min_delay=0)
