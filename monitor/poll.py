"""Polling: one result per source, one broken source never stops the others.

:class:`Poller` is the public face the service and the CLI use. It syncs the
sources file into the ``sources`` table, fetches through the shared
:class:`~monitor.fetch.Fetcher`, runs the :class:`~monitor.pipeline.Pipeline`
and records polling state (validators, interval, backoff, health counters).
Store work runs in a worker thread under one lock so the event loop (and the
chat bot on it) stays responsive.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from monitor import decide
from monitor.clock import Clock, system_clock
from monitor.config import SourcesFile, SourceSpec
from monitor.errors import FetchTimeout, SourceError, UnknownSourceError
from monitor.fetch import Fetcher
from monitor.items import host_of
from monitor.pipeline import Pipeline, ProcessResult
from monitor.sources import FetchContext, FetchOutcome, SeenItem, get_kind
from monitor.store.database import session_scope
from monitor.store.models import Item, Source

log = logging.getLogger(__name__)

Status = Literal["ok", "not_modified", "error"]


@dataclass
class PollResult:
    """What one poll of one source did; ``error`` names the source and URL."""

    source: str
    url: str
    status: Status
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    duplicates: int = 0
    reprints: int = 0
    error: str | None = None
    warnings: list[str] = field(default_factory=list)
    next_poll_at: dt.datetime | None = None
    new_item_ids: list[int] = field(default_factory=list)
    change_ids: list[int] = field(default_factory=list)

    @property
    def errors(self) -> int:
        return int(self.error is not None) + len(self.warnings)


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


class Poller:
    """Polls configured sources into the store through the pipeline."""

    def __init__(
        self,
        config: SourcesFile,
        sessions: sessionmaker[Session],
        pipeline: Pipeline,
        fetcher: Fetcher | None = None,
        clock: Clock = system_clock,
        rand: Callable[[], float] = random.random,
    ) -> None:
        self.config = config
        self.sessions = sessions
        self.pipeline = pipeline
        self.fetcher = fetcher or Fetcher(config.fetch.limits())
        self.clock = clock
        self.rand = rand
        self.policy = config.polling.policy()
        self._store_lock = asyncio.Lock()
        self._in_flight: set[asyncio.Task[object]] = set()

    async def aclose(self) -> None:
        await self.fetcher.aclose()

    async def drain(self, timeout: float) -> int:
        """Wait up to *timeout* seconds for the scheduler's polls in progress; returns how many
        were still running (a shutdown then cancels them: their source is polled again next start)."""
        running = {task for task in self._in_flight if not task.done()}
        if not running:
            return 0
        _done, pending = await asyncio.wait(running, timeout=timeout)
        return len(pending)

    def sync(self) -> tuple[int, int]:
        with session_scope(self.sessions) as session:
            return sync_sources(session, self.config)

    def spec(self, name: str) -> SourceSpec:
        spec = self.config.get(name)
        if spec is None:
            raise UnknownSourceError(f"no source named {name!r} in the sources file")
        return spec

    # -- one cycle ----------------------------------------------------------

    async def poll_cycle(self, names: Iterable[str] | None = None, *, only_due: bool = False) -> list[PollResult]:
        """Poll the named (default: all enabled) sources concurrently; one result each."""
        self.sync()
        specs = [self.spec(n) for n in names] if names else [s for s in self.config.sources if s.enabled]
        if only_due:
            specs = [s for s in specs if self._due(s.name)]
        return list(await asyncio.gather(*(self.poll_source(s) for s in specs)))

    async def poll_if_due(self, name: str) -> PollResult | None:
        """The scheduler's job body: poll *name* when its next poll time has come."""
        if not self._due(name):
            return None
        task = asyncio.current_task()
        if task is not None:
            self._in_flight.add(task)
        try:
            return await self.poll_source(self.spec(name))
        finally:
            self._in_flight.discard(task)

    def _due(self, name: str) -> bool:
        with session_scope(self.sessions) as session:
            row = session.scalars(select(Source).where(Source.name == name)).first()
            return row is not None and row.enabled and decide.is_due(row.next_poll_at, self.clock())

    async def poll_source(self, spec: SourceSpec) -> PollResult:
        """Fetch and store one source; never raises for that source's own failures."""
        now = self.clock()
        state = await self._load_state(spec.name)
        try:
            outcome = await self.fetch(spec, etag=state.etag, last_modified=state.last_modified, now=now)
        except SourceError as exc:
            return await self._record_error(spec, exc.located(spec.name, spec.url), now)
        except Exception as exc:  # a bug in a kind must not stop the cycle
            log.exception("unexpected failure polling %s (%s)", spec.name, spec.url)
            wrapped = SourceError(f"unexpected {exc.__class__.__name__}: {exc}", source=spec.name, url=spec.url)
            return await self._record_error(spec, wrapped, now)
        return await self._record_success(spec, outcome, now)

    async def fetch(self, spec: SourceSpec, *, etag: str | None = None, last_modified: str | None = None,
                    now: dt.datetime | None = None) -> FetchOutcome:
        """Fetch once without storing anything (``yuqing sources test`` uses this)."""
        ctx = FetchContext(
            fetcher=self.fetcher, now=now or self.clock(), etag=etag, last_modified=last_modified,
            seen=lambda external_id: self._seen(spec.name, external_id),
        )
        limit = self.config.fetch.source_timeout  # a portal's pages together, so no source holds up a cycle
        try:
            async with asyncio.timeout(limit):
                return await get_kind(spec.kind).fetch(spec, ctx)
        except TimeoutError:
            raise FetchTimeout(f"the poll took more than {limit:g} s in total; stopped", source=spec.name,
                               url=spec.url) from None

    # -- store side (worker thread) ------------------------------------------

    def _seen(self, source: str, external_id: str) -> SeenItem | None:
        with session_scope(self.sessions) as session:
            row = session.execute(
                select(Item.reply_status, Item.reply_text).join(Source).where(
                    Source.name == source, Item.external_id == external_id)
            ).first()
        if row is None:
            return None
        return SeenItem(external_id, row.reply_status, bool(row.reply_text))

    async def _load_state(self, name: str) -> Source:
        def load() -> Source:
            with session_scope(self.sessions) as session:
                row = session.scalars(select(Source).where(Source.name == name)).first()
                if row is None:
                    raise UnknownSourceError(f"source {name!r} is not in the store; run a sync")
                return row
        return await asyncio.to_thread(load)

    async def _record_success(self, spec: SourceSpec, outcome: FetchOutcome, now: dt.datetime) -> PollResult:
        def store() -> PollResult:
            with session_scope(self.sessions) as session:
                row = session.scalars(select(Source).where(Source.name == spec.name)).one()
                processed = ProcessResult()
                if not outcome.not_modified:
                    processed = self.pipeline.process(session, row, outcome.items, now)
                    if outcome.keep_validators:
                        row.etag, row.last_modified = outcome.etag, outcome.last_modified
                    else:  # a partial parse must not stop us from fetching the full body next time
                        row.etag = row.last_modified = None
                published = [i.published_at for i in outcome.items if i.published_at is not None]
                next_at, interval = decide.next_poll_after_success(
                    now, dt.timedelta(seconds=row.interval_seconds), published, processed.new, self._policy(spec))
                row.interval_seconds = int(interval.total_seconds())
                row.next_poll_at = next_at
                row.last_polled_at = row.last_success_at = now
                row.consecutive_failures = 0
                if processed.new:
                    row.last_new_item_at = now
                    row.items_total += processed.new
                return PollResult(
                    spec.name, spec.url, "not_modified" if outcome.not_modified else "ok",
                    new=processed.new, updated=processed.updated, unchanged=processed.unchanged,
                    duplicates=processed.duplicates, reprints=processed.reprints,
                    warnings=list(outcome.warnings), next_poll_at=next_at,
                    new_item_ids=processed.new_item_ids, change_ids=processed.change_ids,
                )
        async with self._store_lock:
            return await asyncio.to_thread(store)

    async def _record_error(self, spec: SourceSpec, exc: SourceError, now: dt.datetime) -> PollResult:
        host_failures = self.fetcher.host_failures.get(host_of(spec.url), 0)
        jitter = self.rand()

        def store() -> PollResult:
            with session_scope(self.sessions) as session:
                row = session.scalars(select(Source).where(Source.name == spec.name)).one()
                row.consecutive_failures += 1
                row.last_polled_at = row.last_error_at = now
                row.last_error = str(exc)
                row.next_poll_at = decide.next_poll_after_error(
                    now, row.consecutive_failures, host_failures, self._policy(spec), jitter)
                return PollResult(spec.name, spec.url, "error", error=str(exc), next_poll_at=row.next_poll_at)
        log.warning("%s", exc)
        async with self._store_lock:
            return await asyncio.to_thread(store)

    def _policy(self, spec: SourceSpec) -> decide.PollPolicy:
        """The file's polling bounds; a source's own interval may lower the maximum."""
        base = self.policy
        high = max(base.min_interval, min(base.max_interval, spec.interval * 4))
        return decide.PollPolicy(base.min_interval, high, base.backoff_base, base.backoff_cap, base.jitter)
