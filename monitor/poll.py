"""Polling: one result per source, one broken source never stops the others.

:class:`Poller` is the public face the service and the CLI use. It syncs the
sources file into the ``sources`` table, fetches through the shared
:class:`~monitor.fetch.Fetcher`, runs the :class:`~monitor.pipeline.Pipeline`
and records polling state (validators, interval, backoff, health counters).
Store work runs in a worker thread (writes under one lock) so the event loop (and
the chat bot on it) stays responsive.

Cheap polls: the poller holds every source's :class:`PollState` in memory. A poll
that stores nothing (304, an error) changes only that copy; the changed states are
written in one transaction at the end of a cycle, or, under the scheduler, with the
next refresh (at most every ``refresh_every`` seconds), and on :meth:`Poller.flush`,
:meth:`Poller.drain` and :meth:`Poller.aclose`. A poll that stores items writes its
state in the pipeline's own transaction. The refresh reads every state in one query
(so a source disabled from the desk stops being due) and mirrors the sources file
into the table only when the file's contents changed since the last mirror.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import logging
import random
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from typing import Any, Literal

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from monitor import decide
from monitor.clock import Clock, system_clock
from monitor.config import SourcesFile, SourceSpec
from monitor.errors import FetchTimeout, SourceError, StoreFailed, UnknownSourceError
from monitor.fetch import Fetcher
from monitor.items import host_of
from monitor.page_work import Page
from monitor.pipeline import Pipeline, ProcessResult, SourceBatch
from monitor.source_table import sync_sources
from monitor.sources import FetchContext, FetchOutcome, SeenItem, get_kind
from store.database import session_scope
from store.models import Item, Source

log = logging.getLogger(__name__)

Status = Literal["ok", "not_modified", "error"]

STORE_BATCH_ITEMS = 500  # a store batch's size in items: one classification call, one transaction
STORE_HOLD_SECONDS = 1.0  # how long a poll cycle's page waits for others before it is stored anyway


@dataclass(frozen=True)
class PollState:
    """A source's polling state as the poller holds it between writes (the row's polling columns)."""

    id: int
    name: str
    enabled: bool
    etag: str | None = None
    last_modified: str | None = None
    interval_seconds: int = 900
    next_poll_at: dt.datetime | None = None
    last_polled_at: dt.datetime | None = None
    last_success_at: dt.datetime | None = None
    last_error_at: dt.datetime | None = None
    last_error: str | None = None
    consecutive_failures: int = 0

    def values(self) -> dict[str, Any]:
        """The columns the poller writes (``enabled`` belongs to the sources file and the desk)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name not in _NOT_WRITTEN}

    def apply(self, row: Source) -> None:
        for key, value in self.values().items():
            setattr(row, key, value)


_NOT_WRITTEN = frozenset({"id", "name", "enabled"})
_STATE_COLUMNS = tuple(getattr(Source, f.name) for f in fields(PollState))


def load_states(session: Session) -> dict[str, PollState]:
    """Every source's polling state, in one query."""
    return {row.name: PollState(*row) for row in session.execute(select(*_STATE_COLUMNS))}


def write_states(session: Session, states: Sequence[PollState]) -> None:
    """Write many sources' polling state as one executemany UPDATE by primary key."""
    if states:
        session.execute(update(Source), [{"id": s.id, **s.values()} for s in states])


def fingerprint(config: SourcesFile) -> str:
    """A hash of the sources as the file gives them: the table is mirrored again only when it changes."""
    return hashlib.blake2b(config.model_dump_json(include={"sources"}).encode(), digest_size=16).hexdigest()


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
        refresh_every: float = 10.0,
    ) -> None:
        self.config = config
        self.sessions = sessions
        self.pipeline = pipeline
        self.fetcher = fetcher or Fetcher(config.fetch.limits())
        self.clock = clock
        self.rand = rand
        self.policy = config.polling.policy()
        self.refresh_every = refresh_every  # seconds between the scheduler's reads of every state
        self._store_lock = asyncio.Lock()
        self._lock_loop: asyncio.AbstractEventLoop | None = None
        self._in_flight: set[asyncio.Task[object]] = set()
        self._states: dict[str, PollState] = {}
        self._dirty: set[str] = set()  # states changed in memory, not yet written
        self._synced: str | None = None  # fingerprint of the sources last mirrored into the table
        self._refreshed_at: float | None = None  # time.monotonic() of the last read of every state
        self._queue: list[_Fetched] = []  # fetched pages waiting for the next store batch
        self._storer: asyncio.Task[None] | None = None  # stores the queue, a batch at a time
        self._fetching = 0  # polls of a cycle still fetching (their pages are stored together)
        self._warming: asyncio.Future[None] | None = None  # the models loading ahead of the first batch

    async def aclose(self) -> None:
        try:
            await self.flush()
        finally:
            await self.fetcher.aclose()
            warming = self._warming
            if warming is not None and warming.get_loop() is asyncio.get_running_loop():
                await warming  # a thread cannot be stopped; let it finish before the loop closes

    async def drain(self, timeout: float) -> int:
        """Wait up to *timeout* seconds for the scheduler's polls in progress, then write the polling
        state held in memory; returns how many polls were still running (a shutdown then cancels them:
        their source is polled again next start)."""
        running = {task for task in self._in_flight if not task.done()}
        pending: set[asyncio.Task[object]] = set()
        if running:
            _done, pending = await asyncio.wait(running, timeout=timeout)
        await self.flush()
        return len(pending)

    def sync(self) -> tuple[int, int]:
        """Mirror the sources file into the table now (blocking; the CLI and start-up call it) and read
        every polling state; returns (added, updated)."""
        pending = self._take_dirty()
        mark = fingerprint(self.config)
        try:
            with session_scope(self.sessions) as session:
                write_states(session, pending)
                counts = sync_sources(session, self.config)
                states = load_states(session)
        except BaseException:
            self._dirty.update(s.name for s in pending)
            raise
        self._synced = mark
        self._install(states)
        return counts

    def ensure_synced(self) -> None:
        """:meth:`sync` unless the sources have not changed since the last one (blocking)."""
        if self._synced != fingerprint(self.config):
            self.sync()

    def spec(self, name: str) -> SourceSpec:
        spec = self.config.get(name)
        if spec is None:
            raise UnknownSourceError(f"no source named {name!r} in the sources file")
        return spec

    # -- one cycle ----------------------------------------------------------

    async def poll_cycle(self, names: Iterable[str] | None = None, *, only_due: bool = False) -> list[PollResult]:
        """Poll the named (default: all enabled) sources concurrently; one result each. The cycle reads
        every state in one transaction and writes the states of polls that stored nothing in one more.
        The pages fetched are stored together once every fetch of the cycle is done, or sooner in batches
        of :data:`STORE_BATCH_ITEMS` items, or once a page has waited :data:`STORE_HOLD_SECONDS`."""
        await self.refresh()
        specs = [self.spec(n) for n in names] if names else [s for s in self.config.sources if s.enabled]
        if only_due:
            specs = [s for s in specs if self._due(s.name)]
        cycle = _CycleFetches(len(specs))
        self._fetching += cycle.left
        try:
            return list(await asyncio.gather(*(self.poll_source(s, cycle=cycle) for s in specs)))
        finally:
            self._fetched(cycle, cycle.left)  # polls cancelled before they began
            await self.flush()

    async def poll_if_due(self, name: str) -> PollResult | None:
        """The scheduler's job body: poll *name* when its next poll time has come."""
        if self._refreshed_at is None or time.monotonic() - self._refreshed_at >= self.refresh_every:
            await self.refresh()
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
        state = self._states.get(name)
        return state is not None and state.enabled and decide.is_due(state.next_poll_at, self.clock())

    async def poll_source(self, spec: SourceSpec, *, cycle: _CycleFetches | None = None) -> PollResult:
        """Fetch and store one source; never raises for that source's own failures. *cycle*: the poll cycle
        this poll belongs to (its page waits for the cycle's batch)."""
        now = self.clock()
        try:
            state = await self._state(spec.name)
            fetched = await self._fetch_or_error(spec, state, now)
        finally:
            if cycle is not None:
                self._fetched(cycle, 1)
        if isinstance(fetched, PollResult):
            return fetched
        try:
            return await self._record_success(spec, fetched, now)
        except Exception as exc:  # the store or a model refused this page; the other sources go on
            log.error("storing the page of %s failed", spec.name, exc_info=exc)
            failed = StoreFailed(f"{len(fetched.items)} fetched items could not be stored "
                                 f"({exc.__class__.__name__}: {exc}); they are fetched again next poll",
                                 source=spec.name, url=spec.url)
            return self._record_error(spec, failed, now)

    async def _fetch_or_error(self, spec: SourceSpec, state: PollState, now: dt.datetime) -> FetchOutcome | PollResult:
        """The fetched page, or the result of a poll that stores nothing (a 304, a failure: recorded in memory)."""
        try:
            outcome = await self.fetch(spec, etag=state.etag, last_modified=state.last_modified, now=now)
        except SourceError as exc:
            return self._record_error(spec, exc.located(spec.name, spec.url), now)
        except Exception as exc:  # a bug in a kind must not stop the cycle
            log.exception("unexpected failure polling %s (%s)", spec.name, spec.url)
            wrapped = SourceError(f"unexpected {exc.__class__.__name__}: {exc}", source=spec.name, url=spec.url)
            return self._record_error(spec, wrapped, now)
        if outcome.not_modified:
            return self._record_not_modified(spec, outcome, now)
        return outcome

    async def fetch(self, spec: SourceSpec, *, etag: str | None = None, last_modified: str | None = None,
                    now: dt.datetime | None = None) -> FetchOutcome:
        """Fetch once without storing anything (``yuqing sources test`` uses this)."""

        async def seen(external_ids: Sequence[str]) -> dict[str, SeenItem]:
            return await asyncio.to_thread(self._seen, spec.name, external_ids)

        ctx = FetchContext(fetcher=self.fetcher, now=now or self.clock(), etag=etag, last_modified=last_modified,
                           seen=seen)
        limit = self.config.fetch.source_timeout  # a portal's pages together, so no source holds up a cycle
        try:
            async with asyncio.timeout(limit):
                return await get_kind(spec.kind).fetch(spec, ctx)
        except TimeoutError:
            raise FetchTimeout(f"the poll took more than {limit:g} s in total; stopped", source=spec.name,
                               url=spec.url) from None

    # -- polling state in memory ---------------------------------------------

    async def refresh(self) -> None:
        """In one transaction in a worker thread: write the states changed in memory, mirror the sources
        file when it changed, and read every state back (a source disabled elsewhere stops being due)."""
        config = self.config
        mark = fingerprint(config)
        mirror = self._synced != mark

        def work(pending: list[PollState]) -> dict[str, PollState]:
            with session_scope(self.sessions) as session:
                write_states(session, pending)
                if mirror:
                    sync_sources(session, config)
                return load_states(session)

        async with self._lock():
            pending = self._take_dirty()
            try:
                states = await asyncio.to_thread(work, pending)
            except BaseException:
                self._dirty.update(s.name for s in pending)
                raise
        if mirror:
            self._synced = mark
        self._install(states)

    async def flush(self) -> int:
        """Write the polling states changed in memory, in one transaction in a worker thread; returns how many."""
        if not self._dirty:
            return 0

        def work(pending: list[PollState]) -> None:
            with session_scope(self.sessions) as session:
                write_states(session, pending)

        async with self._lock():
            pending = self._take_dirty()
            if not pending:
                return 0
            try:
                await asyncio.to_thread(work, pending)
            except BaseException:
                self._dirty.update(s.name for s in pending)
                raise
        return len(pending)

    def _lock(self) -> asyncio.Lock:
        """The store lock of the running loop (the CLI and the tests run one loop after another)."""
        loop = asyncio.get_running_loop()
        if self._lock_loop is not loop:
            self._store_lock, self._lock_loop = asyncio.Lock(), loop
        return self._store_lock

    def _take_dirty(self) -> list[PollState]:
        pending = [self._states[name] for name in self._dirty if name in self._states]
        self._dirty.clear()
        return pending

    def _install(self, loaded: dict[str, PollState]) -> None:
        """Take the states read from the store, except those changed in memory since (newer; their
        ``enabled`` still comes from the store)."""
        for name in self._dirty:
            mine = self._states.get(name)
            if mine is not None and name in loaded:
                loaded[name] = replace(mine, enabled=loaded[name].enabled)
        self._states = loaded
        self._refreshed_at = time.monotonic()

    async def _state(self, name: str) -> PollState:
        if name not in self._states:
            await self.refresh()
        state = self._states.get(name)
        if state is None:
            raise UnknownSourceError(f"source {name!r} is not in the store; run a sync")
        return state

    def _remember(self, state: PollState) -> None:
        self._states[state.name] = state
        self._dirty.add(state.name)

    # -- recording a poll ----------------------------------------------------

    def _record_not_modified(self, spec: SourceSpec, outcome: FetchOutcome, now: dt.datetime) -> PollResult:
        """A 304 changes only the state in memory (written with the cycle's batch)."""
        state = self._states[spec.name]
        state = self._after_success(spec, state, outcome, 0, now)
        self._remember(state)
        return PollResult(spec.name, spec.url, "not_modified", warnings=list(outcome.warnings),
                          next_poll_at=state.next_poll_at)

    def _record_error(self, spec: SourceSpec, exc: SourceError, now: dt.datetime) -> PollResult:
        """A failure changes only the state in memory (written with the cycle's batch)."""
        host_failures = self.fetcher.host_failures.get(host_of(spec.url), 0)
        state = self._states[spec.name]
        failures = state.consecutive_failures + 1
        state = replace(state, consecutive_failures=failures, last_polled_at=now, last_error_at=now,
                        last_error=str(exc), next_poll_at=decide.next_poll_after_error(
                            now, failures, host_failures, self._policy(spec), self.rand()))
        self._remember(state)
        log.warning("%s", exc)
        return PollResult(spec.name, spec.url, "error", error=str(exc), next_poll_at=state.next_poll_at)

    def _after_success(self, spec: SourceSpec, state: PollState, outcome: FetchOutcome, new: int,
                       now: dt.datetime) -> PollState:
        published = [i.published_at for i in outcome.items if i.published_at is not None]
        next_at, interval = decide.next_poll_after_success(
            now, dt.timedelta(seconds=state.interval_seconds), published, new, self._policy(spec))
        if not outcome.not_modified:  # a partial parse must not stop us from fetching the full body next time
            keep = outcome.keep_validators
            state = replace(state, etag=outcome.etag if keep else None,
                            last_modified=outcome.last_modified if keep else None)
        return replace(state, interval_seconds=int(interval.total_seconds()), next_poll_at=next_at,
                       last_polled_at=now, last_success_at=now, consecutive_failures=0)

    async def _record_success(self, spec: SourceSpec, outcome: FetchOutcome, now: dt.datetime) -> PollResult:
        """Items fetched: queued for the next store batch, stored with the pages fetched meanwhile.

        Group commit: while one batch is being stored, the pages other polls fetch wait, and then go
        through the pipeline together (one classification call, one clustering pass, one transaction for
        their items and their sources' states). An idle poller stores a page at once; a poll cycle holds
        its pages until its fetches are done or a batch is full.
        """
        loop = asyncio.get_running_loop()
        waiting = _Fetched(spec, outcome, now, loop.create_future(), time.monotonic())
        self._queue.append(waiting)
        self._warm_ahead()
        self._kick()
        if not self._batch_ready():  # held for the cycle's other pages, but not past the hold
            loop.call_later(STORE_HOLD_SECONDS, self._kick)
        return await waiting.result

    def _fetched(self, cycle: _CycleFetches, done: int) -> None:
        """*done* polls of *cycle* finished fetching: its pages may be ready to store."""
        cycle.left -= done
        self._fetching -= done
        self._kick()

    def _warm_ahead(self) -> None:
        """At the first page with items, load the models in a worker thread while the other fetches go on
        (seconds, at a command's first poll), instead of in the first store batch after them. A poll
        where every source answers 304 never loads them."""
        if self._warming is None:
            self._warming = asyncio.get_running_loop().run_in_executor(None, self._warm_quietly)

    def _warm_quietly(self) -> None:
        try:
            self.pipeline.warm()
        except Exception:  # noqa: BLE001 - the store batch loads again and reports it for each source
            log.debug("loading the models ahead failed", exc_info=True)

    def _kick(self) -> None:
        """Start storing the queue when a batch is ready and no store is running."""
        if self._batch_ready() and (self._storer is None or self._storer.done()):
            self._storer = asyncio.create_task(self._store_queued())

    def _batch_ready(self) -> bool:
        """Pages wait while a poll cycle's fetches are still going, they make less than a full batch and
        the oldest has waited less than :data:`STORE_HOLD_SECONDS` (a cycle slowed by per-host politeness
        stores while it waits)."""
        if not self._queue:
            return False
        return (self._fetching <= 0 or sum(len(w.outcome.items) for w in self._queue) >= STORE_BATCH_ITEMS
                or time.monotonic() - self._queue[0].queued_at >= STORE_HOLD_SECONDS)

    async def _store_queued(self) -> None:
        """Store what the polls queued, a batch at a time, while a batch is ready."""
        while self._batch_ready():
            batch = self._take_batch()
            try:
                outcomes = await self._store_taken(batch)
            except asyncio.CancelledError as exc:  # shutdown: the polls waiting are told so
                for waiting in batch:
                    _settle(waiting, exc)
                raise
            for waiting, outcome in zip(batch, outcomes, strict=True):
                _settle(waiting, outcome)

    async def _store_taken(self, batch: Sequence[_Fetched]) -> list[PollResult | Exception]:
        """Store a batch under the store lock; each poll's result, or the failure of its page."""
        async with self._lock():
            states = {w.spec.name: self._states[w.spec.name] for w in batch}  # rows are never deleted
            stored = await asyncio.to_thread(self._store_batch, batch, states)
            outcomes: list[PollResult | Exception] = []
            for waiting, done in zip(batch, stored, strict=True):
                if isinstance(done, Exception):
                    outcomes.append(done)
                    continue
                self._states[waiting.spec.name] = done[0]
                self._dirty.discard(waiting.spec.name)  # written with the items
                outcomes.append(_ok(waiting.spec, waiting.outcome, *done))
            return outcomes

    def _take_batch(self) -> list[_Fetched]:
        """The queued pages up to :data:`STORE_BATCH_ITEMS` items (at least one page), each source once (a
        second page of a source waits for the next batch)."""
        batch: list[_Fetched] = []
        later: list[_Fetched] = []
        names: set[str] = set()
        items = 0
        for waiting in self._queue:
            full = bool(batch) and items + len(waiting.outcome.items) > STORE_BATCH_ITEMS
            if full or waiting.spec.name in names:
                later.append(waiting)
                continue
            batch.append(waiting)
            names.add(waiting.spec.name)
            items += len(waiting.outcome.items)
        self._queue = later
        return batch

    def _store_batch(self, batch: Sequence[_Fetched], states: Mapping[str, PollState],
                     ) -> list[tuple[PollState, ProcessResult] | Exception]:
        """Store the pages in one transaction (worker thread); when that fails, each page alone, so one
        page the store refuses costs only its own source's poll."""
        if len(batch) > 1:
            try:
                with session_scope(self.sessions) as session:
                    return list(self._store_pages(session, batch, states))
            except Exception:
                self.pipeline.forget()  # what it indexed from the rolled-back batch is not in the store
                log.warning("storing %d fetched pages together failed; storing each page alone", len(batch),
                            exc_info=True)
        return [self._store_alone(waiting, states) for waiting in batch]

    def _store_alone(self, waiting: _Fetched,
                     states: Mapping[str, PollState]) -> tuple[PollState, ProcessResult] | Exception:
        """One page in its own transaction; the failure is returned, for its own poll to report."""
        try:
            with session_scope(self.sessions) as session:
                return self._store_pages(session, [waiting], states)[0]
        except Exception as exc:
            self.pipeline.forget()
            return exc

    def _store_pages(self, session: Session, batch: Sequence[_Fetched],
                     states: Mapping[str, PollState]) -> list[tuple[PollState, ProcessResult]]:
        """The pipeline over the fetched pages and their sources' new states, in the caller's transaction."""
        ids = {states[w.spec.name].id for w in batch}
        rows = {row.id: row for row in session.scalars(select(Source).where(Source.id.in_(ids)))}
        missing = [w.spec.name for w in batch if states[w.spec.name].id not in rows]
        if missing:
            raise UnknownSourceError(f"source {missing[0]!r} is not in the store; run a sync")
        sources = [rows[states[w.spec.name].id] for w in batch]
        now = max(w.polled_at for w in batch)
        processed = self.pipeline.process_many(
            session, [SourceBatch(row, w.outcome.items) for row, w in zip(sources, batch, strict=True)], now)
        return [self._after_stored(row, w.spec, states[w.spec.name], w.outcome, result, w.polled_at)
                for row, w, result in zip(sources, batch, processed, strict=True)]

    def _after_stored(self, row: Source, spec: SourceSpec, state: PollState, outcome: FetchOutcome,
                      processed: ProcessResult, now: dt.datetime) -> tuple[PollState, ProcessResult]:
        """The source's new state, written to its row in the pipeline's transaction."""
        state = self._after_success(spec, state, outcome, processed.new, now)
        state.apply(row)
        if processed.new:
            row.last_new_item_at = now
            row.items_total += processed.new
        return state, processed

    # -- a cluster's two halves (yuqing worker: the poll queue, then the pipeline queue) -------

    async def fetch_page(self, name: str) -> Page | PollResult:
        """Fetch *name* with its state as the store holds it now (another worker may have polled it last):
        the page to store, or the result of a poll that stores nothing (its state written here)."""
        spec = self.spec(name)
        state = await asyncio.to_thread(self._read_state, name)
        self._states[name] = state
        now = self.clock()
        fetched = await self._fetch_or_error(spec, state, now)
        if isinstance(fetched, PollResult):
            await self.flush()
            return fetched
        return Page.of(name, now, fetched)

    def store_page(self, page: Page, before: Callable[[Session], None] = lambda _session: None) -> PollResult:
        """Store a fetched page and its source's state in one transaction (blocking); *before* runs first in
        that transaction (the cluster takes its pipeline lock there)."""
        spec = self.spec(page.source)
        outcome = page.outcome()
        with session_scope(self.sessions) as session:  # classified before the lock, side by side with others
            found = session.scalar(select(Source).where(Source.name == page.source))
            if found is None:
                raise UnknownSourceError(f"source {page.source!r} is not in the store; run a sync")
            ahead = self.pipeline.annotate_ahead(session, found, outcome.items)
        try:
            with session_scope(self.sessions) as session:
                before(session)
                row = session.scalar(select(Source).where(Source.name == page.source).with_for_update())
                if row is None:
                    raise UnknownSourceError(f"source {page.source!r} is not in the store; run a sync")
                state = PollState(*(getattr(row, column.key) for column in _STATE_COLUMNS))
                processed = self.pipeline.process(session, row, outcome.items, page.polled_at, ahead)
                state, processed = self._after_stored(row, spec, state, outcome, processed, page.polled_at)
        except BaseException:
            self.pipeline.forget()  # what it indexed from the rolled-back batch is not in the store
            raise
        self._states[spec.name] = state
        self._dirty.discard(spec.name)
        return _ok(spec, outcome, state, processed)

    def _read_state(self, name: str) -> PollState:
        with session_scope(self.sessions) as session:
            row = session.execute(select(*_STATE_COLUMNS).where(Source.name == name)).first()
        if row is None:
            raise UnknownSourceError(f"source {name!r} is not in the store; run a sync")
        return PollState(*row)

    # -- store side (worker thread) ------------------------------------------

    def _seen(self, source: str, external_ids: Sequence[str]) -> dict[str, SeenItem]:
        """What the store holds of *external_ids* for *source*, in one query."""
        if not external_ids:
            return {}
        with session_scope(self.sessions) as session:
            rows = session.execute(
                select(Item.external_id, Item.reply_status, Item.reply_text).join(Source).where(
                    Source.name == source, Item.external_id.in_(set(external_ids)))
            ).all()
        return {row.external_id: SeenItem(row.external_id, row.reply_status, bool(row.reply_text)) for row in rows}

    def _policy(self, spec: SourceSpec) -> decide.PollPolicy:
        """The file's polling bounds; a source's own interval may lower the maximum."""
        base = self.policy
        high = max(base.min_interval, min(base.max_interval, spec.interval * 4))
        return decide.PollPolicy(base.min_interval, high, base.backoff_base, base.backoff_cap, base.jitter)


@dataclass
class _CycleFetches:
    """How many polls of one poll cycle are still fetching."""

    left: int


@dataclass
class _Fetched:
    """A fetched page waiting for the next store batch, and the future its poll awaits."""

    spec: SourceSpec
    outcome: FetchOutcome
    polled_at: dt.datetime
    result: asyncio.Future[PollResult]
    queued_at: float  # time.monotonic() when it joined the queue


def _settle(waiting: _Fetched, outcome: PollResult | BaseException) -> None:
    """Hand a poll its result (or the failure of its page), unless it stopped waiting."""
    if waiting.result.done():
        return
    if isinstance(outcome, PollResult):
        waiting.result.set_result(outcome)
    elif isinstance(outcome, asyncio.CancelledError):
        waiting.result.cancel()
    else:
        waiting.result.set_exception(outcome)


def _ok(spec: SourceSpec, outcome: FetchOutcome, state: PollState, processed: ProcessResult) -> PollResult:
    return PollResult(
        spec.name, spec.url, "ok", new=processed.new, updated=processed.updated, unchanged=processed.unchanged,
        duplicates=processed.duplicates, reprints=processed.reprints, warnings=list(outcome.warnings),
        next_poll_at=state.next_poll_at, new_item_ids=processed.new_item_ids, change_ids=processed.change_ids,
    )
