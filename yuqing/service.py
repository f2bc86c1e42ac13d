"""The long-running service: every stage on one asyncio loop.

    pollers (APScheduler, monitor) → pipeline → events in the store
    responders cycle (routing → cases + alerts, portal replies, escalation) every ``cycle_every``
    source-health findings → duty chat, every ``health_every``
    outbox sender → the chat backend (yuqing.chat), every ``outbox_every``
    the bot (Telegram long polling), stdin commands (console), or the vendors' callbacks (yuqing.web)

Shutdown (SIGTERM or SIGINT): stop taking updates and polling, let the
current outbox round and responders cycle finish, then close. Everything
that matters is in the store, so the next start resumes where this one
stopped; an alert claimed but not confirmed sent is retried (see
:mod:`responders.outbox`).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import signal
from collections.abc import Awaitable, Callable, Mapping

from apscheduler.events import EVENT_JOB_EXECUTED, JobExecutionEvent
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy.orm import Session, sessionmaker

from monitor.clock import Clock, system_clock
from monitor.poll import PollResult
from monitor.scheduler import start_polling
from monitor.wiring import Monitor
from playbooks.members import VENDORS, Members, load_members
from playbooks.schema import Playbook
from responders.chat.http import CallbackHandler
from responders.desk import Desk
from responders.messages import Templates
from responders.outbox import OutboxSender
from store.database import session_scope, sync_departments
from yuqing.assembly import Responders, monitor_for, responders_for
from yuqing.cadence import Cadence
from yuqing.chat import build_backend
from yuqing.malloc_arenas import limit_malloc_arenas
from yuqing.settings import Settings, SettingsError
from yuqing.web import WebServer, web_server
from yuqing.webdesk.site import build_site

log = logging.getLogger(__name__)


def load_service_members(settings: Settings, playbook: Playbook) -> Members:
    """The members file, with YUQING_DUTY_CHAT_ID overriding its duty chat (on the chosen backend)."""
    members = load_members(settings.effective_members_file, playbook)
    chat = settings.duty_chat_id
    if settings.chat_backend in VENDORS:
        return members.with_vendor_duty_chat(settings.chat_backend, None if chat is None else str(chat))
    try:
        return members.with_duty_chat(None if chat is None else int(chat))
    except ValueError:
        raise SettingsError(f"YUQING_DUTY_CHAT_ID={chat!r}: a Telegram chat id is a number") from None


async def _pause(seconds: float, stop: asyncio.Event, wake: asyncio.Event | None) -> None:
    """Sleep *seconds*, or less when *stop* or *wake* is set (then *wake* is cleared)."""
    waiters = [asyncio.ensure_future(stop.wait())]
    if wake is not None:
        waiters.append(asyncio.ensure_future(wake.wait()))
    _done, pending = await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()
    if wake is not None:
        wake.clear()


async def _every(seconds: float, stop: asyncio.Event, name: str, fn: Callable[[], Awaitable[object]],
                 wake: asyncio.Event | None = None) -> None:
    """Run *fn* every *seconds*, or as soon as *wake* is set, until *stop*; a round in progress
    always finishes (nothing half-done at shutdown)."""
    while not stop.is_set():
        try:
            await fn()
        except Exception:
            log.exception("service: %s round failed", name)
        await _pause(seconds, stop, wake)


class Service:
    def __init__(self, settings: Settings, playbook: Playbook, members: Members, *, backend: str | None = None,
                 clock: Clock = system_clock, cadence: Cadence | None = None, chat_only: bool = False) -> None:
        self.chat_only = chat_only  # yuqing bot: the chat backend, the outbox and the desk; workers do the rest
        self.settings = settings
        self.playbook = playbook
        self.members = members
        self.backend = backend or settings.chat_backend
        self.clock = clock
        self.cadence = cadence or Cadence()
        self.templates = Templates.from_playbook(playbook)
        missing = settings.model_copy(update={"chat_backend": self.backend}).missing_for_backend()
        if missing:
            hint = " (or use the console backend: yuqing run --console)" if self.backend == "telegram" else ""
            raise SettingsError(f"{', '.join(missing)} not set for the {self.backend} chat backend{hint}")
        self.stop_event = asyncio.Event()
        # Set when a poll stored or changed items, and when a cycle queued messages, so that an
        # alert waits for the next step of the pipeline, not for the next tick of a slow loop.
        self.items_arrived = asyncio.Event()
        self.messages_queued = asyncio.Event()
        self._since: dt.datetime | None = None
        self._steps: Responders | None = None
        self.web: WebServer | None = None  # once running: the desk's and callbacks' server (its address)

    # ------------------------------------------------------------------ pieces

    def _build_monitor(self) -> Monitor:
        return monitor_for(self.settings, self.playbook, clock=self.clock)

    def _responders(self, monitor: Monitor) -> Responders:
        """The responders' steps over *monitor*'s store and sources file (built once per monitor)."""
        if self._steps is None or self._steps.sessions is not monitor.sessions:
            self._steps = responders_for(self.settings, self.playbook, self.members, monitor.sessions,
                                         monitor.config)
        return self._steps

    async def _cycle(self, monitor: Monitor) -> None:
        now = self.clock()
        since = self._since or now - self.cadence.first_lookback
        report = await asyncio.to_thread(self._responders(monitor).cycle, now, since)
        self._since = now - self.cadence.routing_overlap  # routing is idempotent, so overlap is harmless
        self.messages_queued.set()
        if report.opened_cases or report.escalations or report.portal_replies or report.closed_events:
            log.info("responders: %s", report)

    def _on_poll(self, loop: asyncio.AbstractEventLoop) -> Callable[[JobExecutionEvent], None]:
        """A scheduler listener that wakes the responders when a poll stored or changed items."""
        def listener(event: JobExecutionEvent) -> None:
            result = event.retval
            if isinstance(result, PollResult) and (result.new or result.updated):
                loop.call_soon_threadsafe(self.items_arrived.set)

        return listener

    async def _reports(self, monitor: Monitor) -> None:
        """Post last week's report and last month's 通报 once their slots have come (exactly once, even
        across restarts)."""
        posted = await asyncio.to_thread(self._responders(monitor).reports, self.clock())
        if posted.weekly is not None:
            log.info("weekly report queued for the duty chat: %s", posted.weekly.attachment_path)
        if posted.monthly is not None:
            log.info("monthly 通报 queued for the duty chat: %s", posted.monthly.attachment_path)

    async def _health(self, monitor: Monitor) -> None:
        await asyncio.to_thread(self._responders(monitor).health, self.clock())

    # ------------------------------------------------------------------ run

    async def run(self) -> None:
        limit_malloc_arenas(self.settings.malloc_arenas)  # before the worker threads start (peak memory)
        monitor = self._build_monitor()
        sessions = monitor.sessions

        def prepare() -> None:
            if not self.chat_only:  # yuqing bot classifies nothing
                monitor.load_models()  # first, before the store's and the pollers' memory: see load_models
            with session_scope(sessions) as session:
                sync_departments(session, self.playbook)
            if not self.chat_only:
                monitor.poller.ensure_synced()

        await asyncio.to_thread(prepare)
        desk = Desk(sessions, self.playbook, self.members, self.templates, self.clock)
        backend = build_backend(self.backend, self.settings, desk, self.clock)
        sender = OutboxSender(sessions, backend.notifier, self.clock)
        await asyncio.to_thread(sender.recover)
        scheduler = AsyncIOScheduler(timezone=dt.UTC)
        web: WebServer | None = None
        try:
            if backend.routes or self.settings.web_desk:
                web = self._web_server(backend.routes, sessions)
                await web.start()
            await backend.start()
            loops = [asyncio.create_task(_every(self.cadence.outbox_every, self.stop_event, "outbox",
                                                sender.run_once, wake=self.messages_queued))]
            if not self.chat_only:
                scheduler.add_listener(self._on_poll(asyncio.get_running_loop()), EVENT_JOB_EXECUTED)
                start_polling(monitor.poller, scheduler)
                loops += [
                    asyncio.create_task(_every(self.cadence.cycle_every, self.stop_event, "responders",
                                               lambda: self._cycle(monitor), wake=self.items_arrived)),
                    asyncio.create_task(_every(self.cadence.report_every, self.stop_event, "reports",
                                               lambda: self._reports(monitor))),
                    asyncio.create_task(_every(self.cadence.health_every, self.stop_event, "source health",
                                               lambda: self._health(monitor))),
                ]
            log.info("yuqing running (%s backend); stop with SIGTERM or Ctrl-C", self.backend)
            await self.stop_event.wait()
            log.info("yuqing stopping: finishing the rounds in progress")
            if scheduler.running:
                scheduler.pause()  # no new polls; let the ones in progress store what they fetched
                left = await monitor.poller.drain(self.cadence.shutdown_grace)
                if left:
                    log.warning("yuqing stopping: %d poll(s) still running are cancelled; "
                                "their sources are polled again at the next start", left)
                scheduler.shutdown(wait=False)
            await asyncio.gather(*loops)
            await self._last_delivery(sender)
        finally:
            if scheduler.running:
                scheduler.shutdown(wait=False)
            await backend.stop()
            if web is not None:
                await web.stop()
            await monitor.aclose()
        log.info("yuqing stopped")

    @staticmethod
    async def _last_delivery(sender: OutboxSender) -> None:
        """Deliver what the last rounds queued before the chat backend closes (else it waits for the next start)."""
        try:
            await sender.run_once()
        except Exception:
            log.exception("service: the last outbox round failed; the messages stay queued for the next start")

    def _web_server(self, routes: Mapping[str, CallbackHandler], sessions: sessionmaker[Session]) -> WebServer:
        """The vendors' callbacks and, unless YUQING_WEB_DESK=0, the web desk, on YUQING_WEB_ADDRESS."""
        site = None
        if self.settings.web_desk:
            site = build_site(self.settings, self.playbook, self.members, sessions, self.templates, self.clock)
        self.web = web_server(self.settings, routes, site)
        return self.web

    def stop(self) -> None:
        self.stop_event.set()


async def serve(service: Service) -> None:
    """Run *service* until SIGTERM or SIGINT."""
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, service.stop)
    await service.run()


def run_service(settings: Settings, playbook: Playbook, *, backend: str | None = None,
                chat_only: bool = False) -> None:
    """Entry point of ``yuqing run`` (and, *chat_only*, of ``yuqing bot``)."""
    logging.getLogger().setLevel(settings.log_level)
    members = load_service_members(settings, playbook)

    async def main() -> None:
        await serve(Service(settings, playbook, members, backend=backend, chat_only=chat_only))

    asyncio.run(main())
