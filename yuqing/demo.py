"""`make demo`: the real service against local replay sources, with the chat shown in the terminal.

The demo starts the replay server (news feeds, a Weibo-style timeline, a
mayor's mailbox and a county site that breaks), runs ``yuqing``'s service on
a fresh SQLite store under ``var/demo`` with the console chat backend, and
plays the people's part: the duty chief confirms the rumour and convenes a
会商, the Changchun spokesperson acknowledges and submits a clarification, the
chief signs it off (审签). The replay then publishes the clarification and its
reprints, and the mailbox message receives its official reply. The demo ends
by writing the weekly report and printing a summary. Nothing keeps running.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import shutil
import signal
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import click
import yaml
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, sessionmaker

from playbooks.loader import load_playbook
from playbooks.members import Members
from playbooks.schema import Playbook
from responders.cases import Actor
from responders.desk import Desk
from responders.desk_commands import run_command
from responders.messages import Templates
from responders.periods import month_of, week_of
from responders.reports import monthly, weekly
from store import make_engine, session_factory, session_scope, utcnow
from store.models import (
    Base,
    Case,
    Clarification,
    Event,
    Item,
    OutboxMessage,
    PointsEntry,
    Reprint,
    Source,
    Submission,
)
from yuqing.cadence import Cadence
from yuqing.errors import YuqingError
from yuqing.replay import ReplayServer, ReplayState, load_demo_items
from yuqing.service import Service, load_service_members
from yuqing.settings import Settings
from yuqing.store_setup import initialise_store
from yuqing.webdesk.access import set_password

DEMO_CADENCE = Cadence(outbox_every=0.5, cycle_every=2.0, health_every=3.0, report_every=3600.0)
STEP_TIMEOUT = 60.0  # generous: a loaded CI machine is slow, a healthy run takes seconds per step


class DemoError(YuqingError):
    """The demo could not reach a step (the message says which and why)."""


def say(text: str) -> None:
    click.secho(f"\n=== {text}", fg="cyan", bold=True)


def _sources_file(server: ReplayServer, path: Path) -> None:
    """Polling tuned for a two-minute demo: one local host, seconds not minutes."""
    data = {
        "fetch": {"per_host_concurrency": 8, "per_host_min_delay": 0, "read_timeout": 5, "connect_timeout": 2},
        "polling": {"min_interval": "2s", "max_interval": "4s", "backoff_base": "2s", "backoff_cap": "4s"},
        "health": {"failing_after": 3},
        "sources": server.sources(),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def demo_settings(settings: Settings) -> Settings:
    """A fresh store, sources file and reports folder under ``<data dir>/demo``."""
    base = settings.data_dir / "demo"
    shutil.rmtree(base, ignore_errors=True)
    return settings.model_copy(update={
        "data_dir": base, "database_url": "", "sources_file": base / "sources.yaml", "reports_dir": None,
        "chat_backend": "console", "web_address": _free_or_any(settings.web_address),
    })


DEMO_PASSWORD = "yuqing-demo-2026"  # the demo store's desk password for every sign-in name (demo only)


def _free_or_any(address: str) -> str:
    """The configured desk address when its port is free, else any free port on the same host (the demo must
    not fail because something else serves 8080)."""
    host, _, port = address.rpartition(":")
    with socket.socket(socket.AF_INET6 if ":" in host.strip("[]") else socket.AF_INET) as probe:
        try:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host.strip("[]"), int(port)))
        except OSError:
            return f"{host}:0"
    return address


def _desk_passwords(settings: Settings, members: Members) -> None:
    """Every sign-in name of the members file gets the demo password in the demo's own store."""
    engine = make_engine(settings.effective_database_url)
    try:
        with session_scope(session_factory(engine)) as session:
            for login in members.desk.logins:
                set_password(session, members, login, DEMO_PASSWORD, utcnow())
    finally:
        engine.dispose()


async def _announce_desk(service: Service) -> None:
    """Print the desk's address once the service's web server listens."""
    for _ in range(200):
        if service.web is not None and service.web.server.started:
            logins = "、".join(service.members.desk.logins)
            say(f"网页工作台 {service.web.address} — 登录名 {logins}；演示密码 {DEMO_PASSWORD}")
            return
        await asyncio.sleep(0.05)


T = TypeVar("T")


def _count(session: Session, query: Select[Any]) -> int:
    """A count query's number (0 when the store answers nothing)."""
    return session.scalar(query) or 0


class Script:
    """The people's part, played through the same desk the bot and console use."""

    def __init__(self, sessions: sessionmaker[Session], playbook: Playbook, members: Members) -> None:
        self.sessions = sessions
        self.desk = Desk(sessions, playbook, members, Templates.from_playbook(playbook), utcnow)
        self.chief = Actor("值班长（演示）", members.duty.chief, str(members.duty.chat_id))
        self.members = members

    def act(self, actor: Actor, command: str) -> None:
        reply = run_command(self.desk, actor, command)
        click.secho(f"  {actor.name} › {command}", fg="yellow")
        click.echo(f"    ↳ {reply.text}")

    def department_actor(self, department: str) -> Actor:
        chat = self.members.departments[department]
        return Actor(f"{department}发言人（演示）", chat.spokesperson or chat.members[0], str(chat.chat_id))

    def query(self, fn: Callable[[Session], T]) -> T:
        with session_scope(self.sessions) as session:
            return fn(session)


async def wait_for(what: str, check: Callable[[], T | None], timeout: float = STEP_TIMEOUT) -> T:
    """Poll *check* until it returns something truthy; the service runs meanwhile."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        await asyncio.sleep(0.5)
    raise DemoError(f"timed out after {timeout:.0f}s waiting for: {what}")


def _rumour_event(session: Session) -> Event | None:
    item = session.scalars(select(Item).join(Source).where(Source.name == "weibo-changchun",
                                                           Item.external_id == "5001")).first()
    return session.get(Event, item.event_id) if item is not None and item.event_id else None


def _routed_rumour(session: Session) -> int | None:
    """The rumour event's id once Changchun has a case for it."""
    event = _rumour_event(session)
    return event.id if event is not None and _case_of(session, event.id, "长春市政府") else None


def _case_of(session: Session, event_id: int, department: str) -> int | None:
    row = session.scalars(select(Case).where(Case.event_id == event_id,
                                                   Case.department_key == department)).first()
    return row.id if row is not None else None


async def play(script: Script, server: ReplayServer, base: str) -> int:
    """Drive the replay phases and the people's actions; returns the rumour event's id."""
    say("第1步：轮询新闻网站、微博、市长信箱；分类、聚类、计算热度、分派并推送预警")
    event_id: int = await wait_for("the Weibo rumour about Changchun's tap water to be stored, clustered and routed",
                                   lambda: script.query(_routed_rumour))
    await wait_for("the first alerts to reach the chat",
                   lambda: script.query(lambda s: s.scalar(select(func.count()).select_from(OutboxMessage)
                                                           .where(OutboxMessage.state == "sent"))))
    await asyncio.sleep(2)

    say(f"第2步：值班长确认谣言事件 {event_id}，发起会商并记录统一口径；长春市政府签收并提交澄清")
    case = script.query(lambda s: _case_of(s, event_id, "长春市政府"))
    changchun = script.department_actor("长春市政府")
    script.act(script.chief, f"/confirm {event_id}")
    script.act(script.chief, f"/consult {event_id}")
    script.act(script.chief, f"/line {event_id} 经检测全市供水水质合格，供水正常，请市民不信谣、不传谣。")
    script.act(changchun, f"/acknowledge {case}")
    script.act(changchun, f"/acknowledge {case}")  # a second press changes nothing and says so
    script.act(changchun, f"/respond {case} {base}/gov/c1")
    clarification = script.query(lambda s: s.scalars(select(Clarification.id).order_by(Clarification.id.desc()))
                                 .first())
    script.act(script.chief, f"/approve {clarification}")

    say("第3步：谣言继续转发；更多留言进来；某县政府网站开始出错")
    server.advance(2)
    await wait_for("the county site to be flagged to the duty chat",
                   lambda: script.query(lambda s: s.scalar(select(func.count()).select_from(OutboxMessage)
                                                           .where(OutboxMessage.kind == "source_health",
                                                                  OutboxMessage.state == "sent"))))

    say("第4步：省政府网站发布澄清说明")
    server.advance(3)
    await wait_for("the clarification to be stored",
                   lambda: script.query(lambda s: s.scalar(select(Item.id).where(Item.url == f"{base}/gov/c1"))))

    say("第5步：主要网站和其他网站转载澄清；市长信箱留言得到官方回复")
    server.advance(4)
    await wait_for("reprints of the clarification to be counted",
                   lambda: script.query(lambda s: _count(s, select(func.count()).select_from(Reprint)
                                                           .where(Reprint.clarification_id.is_not(None))) >= 2))
    await wait_for("the mailbox reply to close its case",
                   lambda: script.query(lambda s: _count(s, select(func.count()).select_from(Case)
                                                           .where(Case.responded_at.is_not(None))) >= 2))
    await asyncio.sleep(3)  # one more round: points, spread, outbox
    await adoption(script, server)
    return event_id


NONGAN_TITLE = "农安县农村公路通到家门口"
NONGAN_TEXT = ("今年以来，农安县新建改建农村公路一百二十公里，全县所有行政村通上硬化路，沿线特色种植和乡村旅游"
               "同步发展，带动农民增收。")


async def adoption(script: Script, server: ReplayServer) -> None:
    """2006 §三–§四: a county submits information, the editor adopts it, the portal publishes it, two sites
    reprint it, and the county's points follow."""
    say("第6步：农安县信息员报送信息（实名制）；值班编辑采用（视频信息）")
    script.act(script.department_actor("农安县"), f"/submit {NONGAN_TITLE}｜{NONGAN_TEXT}")
    number = script.query(lambda s: s.scalars(select(Submission.id).order_by(Submission.id.desc())).first())
    script.act(script.chief, f"/adopt {number} 视频")
    say("第7步：省政府门户网站刊发该信息；人民网和春城生活网转载")
    server.advance(5)
    await wait_for("the portal's publication to be linked to the submission",
                   lambda: script.query(lambda s: s.scalar(select(Submission.adopted_item_id)
                                                           .where(Submission.id == number))))
    server.advance(6)
    await wait_for("the reprints of the adopted information to earn points",
                   lambda: script.query(lambda s: _count(s, select(func.count()).select_from(PointsEntry)
                                                           .where(PointsEntry.department_key == "农安县",
                                                                  PointsEntry.reason.like("reprint%"))) >= 2))


def summary(sessions: sessionmaker[Session], event_id: int, playbook: Playbook, reports_dir: Path) -> list[str]:
    """Write this week's report and this month's 通报, and describe what happened, in numbers."""
    tz = ZoneInfo(playbook.timezone)
    now = utcnow()
    with session_scope(sessions) as s:
        html_path, pdf_path = weekly.write(weekly.build(s, playbook, week_of(now, tz), now), reports_dir)
        report = monthly.build(s, playbook, month_of(now, tz), now)
        _m_html, month_pdf, _m_csv = monthly.write(report, reports_dir)
        counties = next(g for g in report.groups if g.kind == "county")
        nongan = next(r for r in counties.rows if r.standing.department_key == "农安县")
        def count(table: type[Base]) -> int:
            return _count(s, select(func.count()).select_from(table))

        event = s.get(Event, event_id)
        assert event is not None, "the demo's rumour event is gone"
        states = s.execute(select(Case.state, func.count()).group_by(Case.state)).all()
        points = s.execute(select(PointsEntry.department_key, func.sum(PointsEntry.points))
                           .group_by(PointsEntry.department_key)).all()
        clarification_reprints = _count(
            s, select(func.count()).select_from(Reprint).where(Reprint.clarification_id.is_not(None)))
        lines = [
            f"items stored: {count(Item)} from {count(Source)} sources; events: {count(Event)}",
            "alerts delivered: "
            f"{s.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.state == 'sent'))}"
            f" of {count(OutboxMessage)}",
            "cases: " + ", ".join(f"{state} {n}" for state, n in states),
            f"rumour event {event_id}: heat {event.heat:.1f}, status {event.status}, "
            f"clarification reprints {clarification_reprints}",
            "points: " + (", ".join(f"{d} {p:g}" for d, p in points) or "none yet"),
            f"weekly report: {html_path}",
            f"               {pdf_path}",
            f"monthly 通报 {report.period.label} ({month_pdf}): 县（市）政府 — 农安县 第 {nongan.standing.rank} 名，"
            f"{nongan.standing.points:g} 分（报送 {nongan.submitted}，采用 {nongan.adopted}，转载 {nongan.reprints}）; "
            f"all {len(counties.rows)} counties listed",
        ]
    return lines


async def _stay(service: Service) -> None:
    """Keep the service (and its desk) up after the demo until Ctrl-C or SIGTERM."""
    done = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            asyncio.get_running_loop().add_signal_handler(sig, done.set)
    address = service.web.address if service.web is not None else "(no desk)"
    say(f"演示已完成；网页工作台仍在 {address} 运行，按 Ctrl-C 退出")
    await done.wait()


async def _run(settings: Settings, playbook: Playbook, members: Members, server: ReplayServer,
               stay: bool = False) -> list[str]:
    service = Service(settings, playbook, members, backend="console", cadence=DEMO_CADENCE)
    running = asyncio.create_task(service.run())
    engine = make_engine(settings.effective_database_url)
    sessions = session_factory(engine)
    try:
        await _announce_desk(service)
        script = Script(sessions, playbook, members)
        event_id = await play(script, server, server.base)
        await wait_for("the outbox to deliver every queued message",
                       lambda: script.query(lambda s: not s.scalar(
                           select(func.count()).select_from(OutboxMessage)
                           .where(OutboxMessage.state.in_(("pending", "sending"))))))
        if stay:
            for line in summary(sessions, event_id, playbook, settings.effective_reports_dir):
                click.echo("  " + line)
            await _stay(service)
        service.stop()  # the last rounds finish and the outbox delivers what they queued: the count below is final
        await running
        say("第8步：生成本周舆情周报和本月通报")
        return summary(sessions, event_id, playbook, settings.effective_reports_dir)
    finally:
        service.stop()
        await running
        engine.dispose()


def run_demo(settings: Settings, stay: bool = False) -> None:
    """Run the whole demo; it stops everything it started, even when a step fails (with *stay*, after
    Ctrl-C: the desk stays up to be looked at)."""
    started = time.monotonic()
    # A two-second poll tick overlaps slow first polls; the scheduler's notes about it are noise here.
    logging.getLogger("apscheduler").setLevel(logging.ERROR)
    settings = demo_settings(settings)
    playbook = load_playbook(settings.playbook)
    members = load_service_members(settings, playbook)
    server = ReplayServer(ReplayState(load_demo_items(), started=dt.datetime.now(dt.UTC))).start()
    try:
        _sources_file(server, settings.effective_sources_file)
        revision, added, _ = initialise_store(settings, playbook)
        _desk_passwords(settings, members)
        say(
            f"store {settings.effective_database_url} (schema {revision}, {added} departments from the playbook); "
            f"replay sources at {server.base}"
        )
        lines = asyncio.run(_run(settings, playbook, members, server, stay))
    except DemoError as exc:
        raise click.ClickException(f"demo stopped: {exc}") from None
    finally:
        server.stop()
    say(f"完成，用时 {time.monotonic() - started:.0f} 秒")
    for line in lines:
        click.echo("  " + line)
