"""*Sources*: each source's health (what ``yuqing sources health`` says), and the duty desk's operator actions.

Everyone signed in reads the page; only duty staff add, test, disable or enable a source (anyone else's
POST is 403). The actions go through the same code as the command line: ``add_source`` and
``set_enabled`` write the sources file after validating the whole result (the fetch policy refuses
cloud-metadata addresses and anything but http/https), and a test is ``Poller.fetch``, run in a worker
thread with its own event loop and a bounded time, storing nothing. A refusal is a message naming the
source, never a traceback.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from monitor.config import SourcesFile, add_source, set_enabled
from monitor.errors import MonitorError
from monitor.health import health_findings
from monitor.items import NormalisedItem, host_of
from monitor.urls import redact_url
from playbooks.loader import PolicyFileError
from playbooks.schema import Playbook
from responders.messages import Templates
from store.database import session_scope
from store.errors import StoreError
from store.models import Source
from yuqing.settings import Settings
from yuqing.webdesk.access import Person
from yuqing.webdesk.site import DeskSite, Forbidden

KINDS = ("feed", "weibo", "portal")  # never "import" from the web: its url is a path on the server
TEST_SECONDS = 30.0  # a test from the desk waits at most this long (the poll's own limit is longer)
SHOWN_ITEMS = 20
_FILE_LOCK = threading.Lock()  # one write of the sources file at a time from this process

PROBLEMS = {"ok": "正常", "failing": "连续失败", "silent": "长时间无新条目", "never_polled": "从未成功抓取",
            "disabled": "已停用", "unsynced": "待同步", "import": "导入（不轮询）"}


@dataclass(frozen=True)
class SourceRow:
    """One source as the page shows it: its store row's state and, when enabled, its health finding."""

    name: str
    kind: str
    url: str
    enabled: bool
    problem: str
    message: str = ""
    last_success_at: dt.datetime | None = None
    consecutive_failures: int = 0
    last_error: str | None = None
    items_total: int = 0
    items_per_day: float = 0.0

    @property
    def state(self) -> str:
        return PROBLEMS.get(self.problem, self.problem)


@dataclass
class TestResult:
    """What one test fetch found (or why it failed)."""

    name: str
    ok: bool
    message: str
    items: list[NormalisedItem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def source_rows(session: Session, config: SourcesFile, now: dt.datetime) -> list[SourceRow]:
    """Every source in the store or the file: problems first, then by name."""
    findings = {f.source: f for f in health_findings(session, config, now)}
    rows: list[SourceRow] = []
    stored: set[str] = set()
    for src in session.scalars(select(Source).order_by(Source.name)):
        stored.add(src.name)
        found = findings.get(src.name)
        problem = found.problem if found else ("import" if src.kind == "import" and src.enabled else "disabled")
        rows.append(SourceRow(src.name, src.kind, redact_url(src.url), src.enabled, problem,
                              found.message if found and found.problem != "ok" else "", src.last_success_at,
                              src.consecutive_failures, src.last_error, src.items_total,
                              found.items_per_day if found else 0.0))
    for spec in config.sources:
        if spec.name not in stored:
            rows.append(SourceRow(spec.name, spec.kind, redact_url(spec.url), spec.enabled, "unsynced"))
    order = {"failing": 0, "silent": 1, "never_polled": 2, "unsynced": 3, "ok": 4, "import": 5, "disabled": 6}
    return sorted(rows, key=lambda r: (order.get(r.problem, 9), r.name))


def _config(settings: Settings) -> SourcesFile:
    from yuqing.store_setup import sources_config  # the CLI's reading of the file, settings filling the fetch values

    return sources_config(settings)


def _refusal(templates: Templates, name: str, exc: Exception) -> Markup:
    """A sentence naming the source; a policy file's problems without their file prefix."""
    problems = [p.message for p in exc.problems] if isinstance(exc, PolicyFileError) else [str(exc)]
    return templates.reply("web_source_refused", source=name, problems=problems)


def run_test(settings: Settings, sessions: sessionmaker[Session], playbook: Playbook, templates: Templates,
             name: str, limit: float = TEST_SECONDS) -> TestResult:
    """One fetch of *name* as ``yuqing sources test`` does it (``Poller.fetch``, nothing stored), in a
    fresh event loop of the calling thread and within *limit* seconds."""
    from monitor.fetch import Fetcher  # the poller and its pipeline load only when a test is asked for
    from monitor.pipeline import Pipeline
    from monitor.poll import Poller

    try:
        config = _config(settings)
    except PolicyFileError as exc:
        return TestResult(name, False, _refusal(templates, name, exc))

    async def fetch() -> TestResult:
        poller = Poller(config, sessions, Pipeline(playbook, config.dedupe), Fetcher(config.fetch.limits()))
        try:
            async with asyncio.timeout(limit):
                outcome = await poller.fetch(poller.spec(name))
        except TimeoutError:
            return TestResult(name, False, templates.reply("web_source_timeout", source=name, seconds=limit))
        except (MonitorError, StoreError) as exc:
            return TestResult(name, False, _refusal(templates, name, exc))
        finally:
            await poller.aclose()
        found = templates.reply("web_source_fetched", source=name, not_modified=outcome.not_modified,
                                count=len(outcome.items))
        return TestResult(name, True, found, outcome.items[:SHOWN_ITEMS], outcome.warnings)

    return asyncio.run(fetch())


def routes(site: DeskSite) -> list[BaseRoute]:
    def settings() -> Settings:
        if site.settings is None:
            raise Forbidden("web_no_sources_file")
        return site.settings

    def duty(request: Request) -> Person:
        person = site.person(request, acting=True)
        if not person.is_duty:
            raise Forbidden("web_sources_duty_only")
        return person

    def render(request: Request, person: Person, tested: TestResult | None = None, status: int = 200,
               form: dict[str, str] | None = None) -> Response:
        error = None
        with session_scope(site.sessions) as session:
            try:
                config = _config(settings())
            except PolicyFileError as exc:
                error, config = site.templates.reply("web_sources_file_error", why=str(exc)), SourcesFile()
            rows = source_rows(session, config, site.clock())
        return site.page(request, "sources.html.j2", person, status=status, rows=rows, tested=tested,
                         kinds=KINDS, file_error=error, form=form or {"name": "", "kind": "feed", "url": ""},
                         problems_shown=sum(r.problem not in ("ok", "disabled", "import") for r in rows))

    def page(request: Request) -> Response:
        return render(request, site.person(request))

    def sync(config: SourcesFile) -> None:
        from monitor.source_table import sync_sources

        with session_scope(site.sessions) as session:
            sync_sources(session, config)

    def change_file(name: str, change: Callable[[Path], object]) -> Markup | None:
        """Apply *change* to the sources file (one writer at a time) and bring the store in line; the refusal,
        naming the source, or None."""
        config_settings = settings()
        try:
            with _FILE_LOCK:
                change(config_settings.effective_sources_file)
            sync(_config(config_settings))
        except PolicyFileError as exc:
            return _refusal(site.templates, name, exc)
        return None

    async def add(request: Request) -> Response:
        form = await site.form(request)
        person = duty(request)
        url, kind = form.get("url", "").strip(), form.get("kind", "").strip()
        name = form.get("name", "").strip() or (host_of(url) or "").replace(" ", "-") or kind
        values = {"name": name, "kind": kind, "url": url}
        if kind not in KINDS:
            site.flash(request, site.templates.reply("web_source_bad_kind", source=name, kinds=KINDS), ok=False)
            return await run_in_threadpool(render, request, person, None, 400, values)
        entry: dict[str, Any] = {"name": name, "kind": kind, "url": url, "interval": "15m", "weight_class": "auto"}

        refused = await run_in_threadpool(change_file, name, lambda path: add_source(path, entry))
        if refused:
            site.flash(request, site.templates.reply("web_source_not_added", refusal=refused), ok=False)
            return await run_in_threadpool(render, request, person, None, 400, values)
        site.flash(request, site.templates.reply("web_source_added", source=name, kind=kind))
        return RedirectResponse("/sources", status_code=303)

    async def test(request: Request) -> Response:
        await site.form(request)
        person = duty(request)
        name = request.path_params["name"]
        result = await run_in_threadpool(run_test, settings(), site.sessions, site.playbook, site.templates, name)
        return await run_in_threadpool(render, request, person, result)

    def switch(enabled: bool) -> Any:
        async def endpoint(request: Request) -> Response:
            await site.form(request)
            duty(request)
            name = request.path_params["name"]

            refused = await run_in_threadpool(change_file, name, lambda path: set_enabled(path, name, enabled))
            if refused:
                site.flash(request, refused, ok=False)
            else:
                site.flash(request, site.templates.reply("web_source_switched", enabled=enabled, source=name))
            return RedirectResponse("/sources", status_code=303)
        return endpoint

    return [Route("/sources", page, methods=["GET"]), Route("/sources", add, methods=["POST"]),
            Route("/sources/{name}/test", test, methods=["POST"]),
            Route("/sources/{name}/disable", switch(False), methods=["POST"]),
            Route("/sources/{name}/enable", switch(True), methods=["POST"])]
