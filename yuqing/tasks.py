"""The cluster's Celery tasks: poll → pipeline → respond, each acknowledged only after its work is committed.

Queues and what a task on each does (``yuqing worker --queues …`` picks them):

``poll``      fetch one source with the state the store holds (:meth:`monitor.poll.Poller.fetch_page`) and
              hand the page to the pipeline queue; a 304 or a failure writes the state here.
``pipeline``  store one page (:meth:`monitor.poll.Poller.store_page`) under the cluster's pipeline lock, so
              reprints and events are found against everything stored before, whichever worker stored it.
``respond``   a responders cycle, the reports that are due, the source-health alerts — each once across
              the cluster (advisory locks; the reports' slots and the outbox are compare-and-set already).

Late acknowledgement (``acks_late``, ``reject_on_worker_lost``): a worker killed mid-task leaves its
message unacknowledged and the broker gives it to another worker; the item uniqueness constraints, the
pipeline lock and the outbox make the second run harmless. A task that fails is retried with a doubling
delay (``YUQING_TASK_RETRIES``, ``YUQING_TASK_RETRY_BACKOFF``); when the retries are spent, or the failure
cannot heal (a source no longer in the sources file), a dead letter is written to the store and
``yuqing sources health`` shows it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

from celery import Celery, Task
from celery.exceptions import Retry
from kombu.entity import Exchange, Queue
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from monitor.errors import UnknownSourceError
from monitor.page_work import Page
from monitor.wiring import Monitor
from playbooks.loader import load_playbook
from store.cluster_locks import LockKey, SessionLock, hold_for_transaction
from store.database import session_scope
from store.models import DeadLetter
from store.types import utcnow
from yuqing.assembly import Responders, monitor_for, responders_for
from yuqing.settings import Settings, load_settings

log = logging.getLogger(__name__)
T = TypeVar("T")

QUEUES = ("poll", "pipeline", "respond")
PERMANENT: tuple[type[Exception], ...] = (UnknownSourceError,)  # retrying cannot help; straight to a dead letter

app = Celery("yuqing")


def configure(settings: Settings) -> Celery:
    """The app for *settings*' broker, with acknowledgement after the work (every process calls this first,
    once: the app keeps its connection pool, so a second broker needs an app of its own, see
    :func:`celery_config`)."""
    app.conf.update(celery_config(settings))
    return app


def _transport_options(visibility_timeout: float) -> dict[str, float]:
    """Redis hands a dead worker's unacknowledged task to another worker once *visibility_timeout* has passed,
    but only when a worker sweeps for such tasks: kombu's default sweep, every 10 s on every 10th tick, left
    them waiting up to 100 s more whatever the timeout. Sweep every tenth of the timeout (1 to 10 s), on
    every tick. RabbitMQ redelivers by itself when the connection drops and ignores these options."""
    return {"visibility_timeout": visibility_timeout,
            "unacked_restore_interval": min(10.0, max(1.0, visibility_timeout / 10)),
            "unacked_restore_throttle": 1}


def celery_config(settings: Settings) -> dict[str, Any]:
    """The Celery settings every yuqing process uses for *settings*' broker."""
    return dict(
        broker_url=settings.broker_url,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_acks_on_failure_or_timeout=True,
        worker_prefetch_multiplier=1,
        task_ignore_result=True,
        task_serializer="json",
        accept_content=["json"],
        task_default_queue="respond",
        # each queue its own direct exchange and key (a bare Queue(name) would be bound to the default one,
        # and on RabbitMQ a message for one queue would then reach all three)
        task_queues=[Queue(name, Exchange(name, type="direct"), routing_key=name) for name in QUEUES],
        task_routes={"yuqing.poll": {"queue": "poll"}, "yuqing.store_page": {"queue": "pipeline"},
                     "yuqing.cycle": {"queue": "respond"}, "yuqing.reports": {"queue": "respond"},
                     "yuqing.health": {"queue": "respond"}},
        broker_transport_options=_transport_options(settings.broker_visibility_timeout),
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
        worker_cancel_long_running_tasks_on_connection_loss=False,
    )


def declare_queues() -> None:
    """Declare the three queues (and on RabbitMQ their exchanges and bindings) before anything is sent: a
    task sent to a queue no worker has declared yet would be dropped by RabbitMQ as unroutable."""
    with app.connection_for_write() as connection:
        channel = connection.default_channel
        for queue in app.amqp.queues.values():
            queue.bind(channel).declare()


@dataclass
class WorkerParts:
    """What a worker process builds once (after the fork): the monitor and the responders, one build path."""

    settings: Settings
    monitor: Monitor
    responders: Responders
    loop: asyncio.AbstractEventLoop

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run *coroutine* on this process's loop (the fetcher's connections belong to it)."""
        return self.loop.run_until_complete(coroutine)


_parts: WorkerParts | None = None


def parts() -> WorkerParts:
    global _parts
    if _parts is None:
        from yuqing.service import load_service_members

        settings = load_settings()
        playbook = load_playbook(settings.playbook)
        monitor = monitor_for(settings, playbook, migrate_schema=False)
        members = load_service_members(settings, playbook)
        responders = responders_for(settings, playbook, members, monitor.sessions, monitor.config)
        _parts = WorkerParts(settings, monitor, responders, asyncio.new_event_loop())
    return _parts


def attempt(task: Task, summary: str, body: Callable[[], T]) -> T | None:
    """Run *body*; on failure retry with a doubling delay, and write a dead letter when that is spent."""
    try:
        return body()
    except Retry:
        raise
    except Exception as exc:
        settings = parts().settings
        tries = task.request.retries
        if not isinstance(exc, PERMANENT) and tries < settings.task_retries:
            delay = settings.task_retry_backoff * 2 ** tries
            log.warning("%s failed (%s); retry %d of %d in %.0f s", summary, exc, tries + 1,
                        settings.task_retries, delay)
            raise task.retry(exc=exc, countdown=delay) from None
        log.error("%s failed %d time(s), given up: %s", summary, tries + 1, exc)
        record_dead_letter(task, summary, exc)
        return None


def record_dead_letter(task: Task, summary: str, exc: BaseException) -> None:
    """The task's dead letter (once per task id: a redelivered message does not write a second)."""
    request = task.request
    queue = (request.delivery_info or {}).get("routing_key")
    try:
        with session_scope(parts().monitor.sessions) as session:
            session.add(DeadLetter(task=task.name, task_id=str(request.id), queue=queue, summary=summary,
                                   error=f"{exc.__class__.__name__}: {exc}"[:4000], attempts=request.retries + 1,
                                   failed_at=utcnow()))
    except IntegrityError:
        pass


@app.task(bind=True, name="yuqing.poll")
def poll(self: Task, name: str) -> str | None:
    """Fetch one source; a page with items goes on to the pipeline queue."""
    def body() -> str:
        got = parts().run(parts().monitor.poller.fetch_page(name))
        if isinstance(got, Page):
            store_page.apply_async((got.to_data(),))
            return f"{name}: {len(got.items)} item(s) fetched"
        return f"{name}: {got.status}"

    return attempt(self, f"poll {name}", body)


def _pipeline_turn(session: Session) -> None:
    hold_for_transaction(session, LockKey.PIPELINE)
    parts().monitor.pipeline.follow(session)


@app.task(bind=True, name="yuqing.store_page")
def store_page(self: Task, data: dict[str, Any]) -> str | None:
    """Store one fetched page and its source's state, batches one after another across the cluster."""
    page = Page.from_data(data)

    def body() -> str:
        result = parts().monitor.poller.store_page(page, before=_pipeline_turn)
        return f"{page.source}: {result.new} new, {result.updated} updated, {result.duplicates} duplicate(s)"

    return attempt(self, f"store {len(page.items)} item(s) of {page.source} fetched {page.polled_at:%Y-%m-%d %H:%M:%S}",
                   body)


def _once(key: LockKey, what: str, body: Callable[[], T]) -> T | None:
    """Run *body* unless another worker is running the same round now (it covers this one)."""
    lock = SessionLock(parts().monitor.engine, key)
    if not lock.try_acquire():
        log.info("%s: another worker is running it", what)
        return None
    try:
        return body()
    finally:
        lock.release()


@app.task(bind=True, name="yuqing.cycle")
def cycle(self: Task, since: str) -> str | None:
    """One responders cycle over the events seen since *since* (ISO 8601), once across the cluster."""
    start = dt.datetime.fromisoformat(since)

    def body() -> str | None:
        report = _once(LockKey.RESPONDERS, "responders cycle", lambda: parts().responders.cycle(utcnow(), start))
        return None if report is None else str(report)

    return attempt(self, f"responders cycle since {since}", body)


@app.task(bind=True, name="yuqing.reports")
def reports(self: Task) -> str | None:
    """Queue the weekly report and the monthly 通报 when their slots have come (compare-and-set: once)."""
    def body() -> str | None:
        posted = _once(LockKey.REPORTS, "reports", lambda: parts().responders.reports(utcnow()))
        return None if posted is None else f"weekly {posted.weekly is not None}, monthly {posted.monthly is not None}"

    return attempt(self, "reports due", body)


@app.task(bind=True, name="yuqing.health")
def health(self: Task) -> str | None:
    """Queue the source-health alerts (each finding once: the outbox's dedupe key)."""
    def body() -> str | None:
        queued = _once(LockKey.HEALTH, "source health", lambda: parts().responders.health(utcnow()))
        return None if queued is None else f"{queued} alert(s) queued"

    return attempt(self, "source health", body)
