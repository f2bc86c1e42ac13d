"""``yuqing scheduler``: decide what is due and enqueue it; the workers do the work.

APScheduler ticks as in ``yuqing run``, but a tick sends tasks instead of running them: every ``tick`` the
sources whose next poll has come are leased (:func:`monitor.page_work.claim_due`) and each gets a poll task;
every ``cycle_every``, ``report_every`` and ``health_every`` a respond task goes out.

One scheduler acts at a time: it holds the PostgreSQL advisory lock ``SCHEDULER`` on a connection of its
own. A second scheduler stands by, trying the lock every few seconds; when the first dies (its connection
closes, and PostgreSQL frees the lock) the second takes over. A scheduler that loses its connection (a
PostgreSQL restart) stops acting and stands by until it holds the lock again.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import Engine

from monitor.clock import Clock, system_clock
from monitor.page_work import claim_due
from monitor.poll import Poller
from playbooks.schema import Playbook
from store.cluster_locks import LockKey, SessionLock
from store.database import session_scope, sync_departments
from yuqing import tasks
from yuqing.cadence import SchedulerCadence

log = logging.getLogger(__name__)


class ClusterScheduler:
    def __init__(self, poller: Poller, engine: Engine, lease: dt.timedelta, *, cadence: SchedulerCadence | None = None,
                 clock: Clock = system_clock, prepare: Callable[[], None] = lambda: None) -> None:
        self.poller = poller
        self.engine = engine
        self.lease = lease
        self.cadence = cadence or SchedulerCadence()
        self.clock = clock
        self.prepare = prepare
        self.lock = SessionLock(engine, LockKey.SCHEDULER)
        self._since: dt.datetime | None = None

    # -- the jobs ---------------------------------------------------------------

    def send_due_polls(self) -> int:
        """Lease every due source and send one poll task each; returns how many were sent."""
        self.poller.ensure_synced()  # the sources file, mirrored when it changed
        with session_scope(self.poller.sessions) as session:
            names = claim_due(session, self.clock(), self.lease)
        for name in names:
            tasks.poll.apply_async((name,))
        if names:
            log.info("scheduler: %d poll(s) sent", len(names))
        return len(names)

    def send_cycle(self) -> None:
        now = self.clock()
        since = self._since or now - self.cadence.first_lookback
        tasks.cycle.apply_async((since.isoformat(),), expires=self.cadence.cycle_every)  # not piled up
        self._since = now - self.cadence.routing_overlap  # routing is idempotent, so overlap is harmless

    def send_reports(self) -> None:
        tasks.reports.apply_async(expires=self.cadence.report_every)

    def send_health(self) -> None:
        tasks.health.apply_async(expires=self.cadence.health_every)

    # -- acting and standing by ---------------------------------------------------

    def run(self, stop: threading.Event) -> None:
        """Act while this process holds the scheduler lock, stand by while another does, until *stop*."""
        waiting_said = False
        while not stop.is_set():
            try:
                got = self.lock.try_acquire()
            except Exception as exc:  # the store is down: wait for it like for another scheduler
                log.warning("scheduler: cannot reach the store (%s); trying again", exc)
                got = False
            if not got:
                if not waiting_said:
                    log.warning("scheduler: another scheduler is active; standing by")
                    waiting_said = True
                stop.wait(self.cadence.standby_every)
                continue
            waiting_said = False
            log.warning("scheduler: active (this process decides what is due)")
            try:
                self._act(stop)
            finally:
                self.lock.release()
        log.warning("scheduler: stopped")

    def _act(self, stop: threading.Event) -> None:
        self.prepare()
        self._since = None
        scheduler = BackgroundScheduler(timezone=dt.UTC)
        now = dt.datetime.now(dt.UTC)
        c = self.cadence
        for job, every in ((self.send_due_polls, c.tick), (self.send_cycle, c.cycle_every),
                           (self.send_reports, c.report_every), (self.send_health, c.health_every)):
            scheduler.add_job(job, IntervalTrigger(seconds=every), max_instances=1, coalesce=True,
                              next_run_time=now, misfire_grace_time=None)
        scheduler.start()
        try:
            while not stop.wait(c.standby_every):
                if not self.lock.still_held():
                    log.warning("scheduler: lost the store connection that held the scheduler lock; standing by")
                    return
        finally:
            scheduler.shutdown(wait=True)


def prepare_store(poller: Poller, playbook: Playbook) -> Callable[[], None]:
    """What the active scheduler does once when it takes over: mirror the sources file and the departments."""
    def prepare() -> None:
        poller.sync()
        with session_scope(poller.sessions) as session:
            sync_departments(session, playbook)
    return prepare
