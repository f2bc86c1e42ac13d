"""Web desk page times on a big store: each page against a static file served by the same server.

Builds a SQLite store in a temporary folder with ``--items`` items (1,000,000 by default) spread over
``--events`` events (50,000) and ``--cases`` cases (10,000) across the playbook's departments in every
state, with times over the last 30 days (bulk inserts through SQLAlchemy core); then serves the desk
(``yuqing.web.WebServer`` with ``build_site``, as the desk tests do), signs in as the duty chief and
times each page: the median of ``--requests`` requests after one warm-up, printed in ms and as a
RATIO to ``/static/desk.css`` from the same server in the same run. A page that answers 404 is
"not built" (other pages are still being written). Run alone: ``python -m bench.desk_pages [--items 100000]``.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import hashlib
import random
import re
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine, bindparam, func, insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from playbooks.loader import load_playbook
from playbooks.members import Members, load_members
from playbooks.schema import Playbook
from responders.cases import Actor
from responders.messages import Templates
from store.database import make_engine, migrate, session_factory, session_scope, sync_departments
from store.models import Case, CaseAudit, DigestEntry, Event, Item, Source
from yuqing.settings import Settings
from yuqing.web import WebServer
from yuqing.webdesk.access import set_password
from yuqing.webdesk.site import build_site

ROOT = Path(__file__).resolve().parent.parent
MEMBERS_FILE = ROOT / "playbooks" / "members.yaml"
LOGIN, PASSWORD = "wangzhiban", "bench-password-wangzhiban"
DAYS = 30
SOURCES = 300
CHUNK = 20_000
STATES = ("new", "notified", "acknowledged", "extended", "responded", "explained", "reassigned", "dismissed",
          "closed")
TARGET_MS = 200.0
BUDGET_S = 20.0  # timing time per page
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def _chunks(rows: Iterator[dict[str, Any]], size: int = CHUNK) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def build_store(engine: Engine, sessions: sessionmaker[Session], playbook: Playbook, members: Members,
                items: int, events: int, cases: int, now: dt.datetime, rng: random.Random) -> int:
    """Fill the store; returns the hottest event of the last 24 hours (the one /events/{id} shows)."""
    categories = list(playbook.categories)
    start = now - dt.timedelta(days=DAYS)
    with session_scope(sessions) as session:
        sync_departments(session, playbook)
        for login in members.desk.logins:
            set_password(session, members, login, PASSWORD if login == LOGIN else f"bench-{login}-password", now)
    with engine.begin() as conn:
        conn.execute(insert(Source), [
            {"name": f"src-{i:03d}", "kind": "feed", "url": f"https://news{i}.example.gov.cn/rss.xml",
             "host": f"news{i}.example.gov.cn", "enabled": i % 50 != 0, "config": {},
             "last_success_at": now - dt.timedelta(minutes=rng.randint(1, 600)),
             "last_new_item_at": now - dt.timedelta(hours=rng.choice((1, 2, 5, 300))),
             "consecutive_failures": 5 if i % 37 == 0 else 0,
             "last_error": "HTTP 503" if i % 37 == 0 else None, "items_total": items // SOURCES,
             "created_at": start - dt.timedelta(days=10)}
            for i in range(SOURCES)])
        source_ids = list(conn.scalars(select(Source.id).order_by(Source.id)))

        # events: first seen uniformly over 30 days, lasting up to two days; one in 500 is big and hot
        spans: list[tuple[dt.datetime, dt.datetime]] = []

        def event_rows() -> Iterator[dict[str, Any]]:
            for i in range(events):
                first = start + dt.timedelta(seconds=rng.uniform(0, DAYS * 86400))
                last = min(now, first + dt.timedelta(hours=rng.expovariate(1 / 12)))
                spans.append((first, last))
                yield {"title": f"事件 {i} 某地网民反映问题", "category": rng.choice(categories),
                       "status": "open" if last > now - dt.timedelta(days=3) else "closed",
                       "first_seen_at": first, "last_seen_at": last, "item_count": 0,
                       "heat": round(rng.paretovariate(1.5) * 5, 2), "rumour_probability": round(rng.random(), 2),
                       "places": [rng.choice(("长春市", "吉林市", "延吉市", "四平市"))], "is_emergency": i % 997 == 0}
        for batch in _chunks(event_rows()):
            conn.execute(insert(Event), batch)
        event_ids = list(conn.scalars(select(Event.id).order_by(Event.id)))
        hot = max(range(events), key=lambda i: (spans[i][1] > now - dt.timedelta(hours=24), i % 500 == 0, i))

        # items: 5 % on the hot event, 80 % spread over the events (fetched inside their span), the rest unclustered
        def item_rows() -> Iterator[dict[str, Any]]:
            for n in range(items):
                roll = rng.random()
                if roll < 0.05:
                    index: int | None = hot
                elif roll < 0.85:
                    index = rng.randrange(events)
                else:
                    index = None
                if index is None:
                    at = start + dt.timedelta(seconds=rng.uniform(0, DAYS * 86400))
                else:
                    first, last = spans[index]
                    at = first + (last - first) * rng.random()
                source = source_ids[n % SOURCES]
                yield {"source_id": source, "external_id": f"x{n}", "url": f"https://news.example.gov.cn/{n}",
                       "title": f"网民反映第 {n} 号问题", "text": "某地网民反映有关问题，请相关部门核实处理。",
                       "content_hash": hashlib.sha256(str(n).encode()).hexdigest(), "fetched_at": at,
                       "published_at": at - dt.timedelta(minutes=rng.randint(0, 120)),
                       "event_id": event_ids[index] if index is not None else None,
                       "category": rng.choice(categories)}
        for i, batch in enumerate(_chunks(item_rows())):
            conn.execute(insert(Item), batch)
            if i % 10 == 9:
                print(f"  {(i + 1) * CHUNK:,} items stored", flush=True)
        counts = dict(conn.execute(select(Item.event_id, func.count()).where(Item.event_id.is_not(None))
                                   .group_by(Item.event_id)).all())
    with engine.begin() as conn:  # the events' item counts, as the pipeline keeps them
        conn.execute(update(Event).where(Event.id == bindparam("eid")).values(item_count=bindparam("n")),
                     [{"eid": k, "n": v} for k, v in counts.items()])
    return event_ids[hot]


def open_cases(engine: Engine, site: Any, members: Members, playbook: Playbook, hot: int, cases: int,
               now: dt.datetime, rng: random.Random) -> None:
    """One case opened through the shared ``assign`` action (its rule snapshot is copied), the rest in bulk."""
    departments = list(playbook.departments)
    chief = Actor("王值班", members.duty.chief, "bench")
    site.desk.assign(chief, hot, departments[0])
    with engine.begin() as conn:
        snapshot = conn.scalar(select(Case.rule_snapshot).limit(1))
        spans = conn.execute(select(Event.id, Event.first_seen_at).order_by(Event.heat.desc())).all()
        taken = {(hot, departments[0])}
        rows: list[dict[str, Any]] = []
        for event_id, first in spans:
            for department in rng.sample(departments, k=min(len(departments), rng.choice((1, 1, 1, 2, 3)))):
                if len(rows) >= cases - 1:
                    break
                if (event_id, department) in taken:
                    continue
                taken.add((event_id, department))
                state = rng.choice(STATES)
                opened = first + dt.timedelta(minutes=rng.randint(5, 120))
                rows.append({"event_id": event_id, "department_key": department, "role": "lead", "reason": "bench",
                             "state": state, "rule_snapshot": snapshot, "opened_at": opened,
                             "clock_started_at": opened, "acknowledge_due_at": opened + dt.timedelta(hours=1),
                             "first_information_due_at": opened + dt.timedelta(hours=5),
                             "respond_due_at": opened + dt.timedelta(days=7),
                             "acknowledged_at": opened + dt.timedelta(minutes=30)
                             if state not in ("new", "notified") else None,
                             "closed_at": opened + dt.timedelta(days=2) if state == "closed" else None,
                             "escalation_state": {}})
            if len(rows) >= cases - 1:
                break
        for batch in _chunks(iter(rows)):
            conn.execute(insert(Case), batch)
        ids = list(conn.execute(select(Case.id, Case.opened_at, Case.state)))
        for batch in _chunks({"case_id": aid, "at": opened, "actor": "王值班", "chat_id": "bench",
                              "action": "assign", "from_state": None, "to_state": state, "detail": {}}
                             for aid, opened, state in ids):
            conn.execute(insert(CaseAudit), batch)
        for day in range(DAYS):
            date = (now - dt.timedelta(days=day)).date()
            conn.execute(insert(DigestEntry), [{"day": date, "event_id": spans[day * 10 + k][0], "added_by": "王值班",
                                                "added_at": now} for k in range(5)])


class Desk:
    """The desk served on 127.0.0.1 from a thread of its own (as tests/yuqing/webdesk/conftest.py does)."""

    def __init__(self, server: WebServer) -> None:
        self.server = server
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self._run, name="desk-server", daemon=True)
        self.started = threading.Event()

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(self.server.start())
        self.started.set()
        self.loop.run_forever()

    def __enter__(self) -> str:
        self.thread.start()
        if not self.started.wait(60):
            raise RuntimeError("the desk did not start within 60 s")
        return f"http://127.0.0.1:{self.server.port}"

    def __exit__(self, *_exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self.server.stop(), self.loop).result(30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(30)


def _median_ms(client: httpx.Client, path: str, requests: int) -> tuple[float | None, int, int, float]:
    """Median milliseconds of up to *requests* GETs after one warm-up, within BUDGET_S seconds a page (a
    very slow page is timed fewer times); None when the page is not built (404). Returns (ms, status, n,
    the first request's ms: a page that reuses what it computed shows its cold cost there)."""
    started = time.perf_counter()
    answer = client.get(path)
    first = (time.perf_counter() - started) * 1000
    if answer.status_code == 404:
        return None, 404, 0, first
    samples = [first]  # the warm-up counts only when nothing else fits
    deadline = time.perf_counter() + BUDGET_S
    timed: list[float] = []
    while len(timed) < requests and time.perf_counter() < deadline:
        started = time.perf_counter()
        answer = client.get(path)
        timed.append((time.perf_counter() - started) * 1000)
    samples = timed or samples
    return statistics.median(samples), answer.status_code, len(samples), first


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=None, help="default: items / 20")
    parser.add_argument("--cases", type=int, default=None, help="default: items / 100")
    parser.add_argument("--requests", type=int, default=7, help="timed requests per page (median)")
    parser.add_argument("--seed", type=int, default=20261207)
    parser.add_argument("--keep", type=Path, help="build the store in this folder and keep it (for EXPLAIN)")
    args = parser.parse_args(argv)
    events = args.events or max(10, args.items // 20)
    cases = args.cases or max(10, args.items // 100)
    rng = random.Random(args.seed)
    playbook = load_playbook()
    members = load_members(MEMBERS_FILE, playbook)
    now = dt.datetime.now(dt.UTC)
    with tempfile.TemporaryDirectory(prefix="bench-desk-") as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        engine = make_engine(f"sqlite:///{folder / 'store.sqlite3'}")
        migrate(engine)
        sessions = session_factory(engine)
        started = time.monotonic()
        hot = build_store(engine, sessions, playbook, members, args.items, events, cases, now, rng)
        settings = Settings(data_dir=folder, reports_dir=folder / "reports", web_address="127.0.0.1:0")
        site = build_site(settings, playbook, members, sessions, Templates.from_playbook(playbook))
        open_cases(engine, site, members, playbook, hot, cases, now, rng)
        reports = folder / "reports"
        reports.mkdir()
        for week in range(40, 50):
            (reports / f"weekly-2026-W{week}.html").write_text("<h1>周报</h1>", encoding="utf-8")
            (reports / f"weekly-2026-W{week}.pdf").write_bytes(b"%PDF-1.4\n%%EOF\n")
        print(f"store: {args.items:,} items, {events:,} events, {cases:,} cases, {SOURCES} sources "
              f"(built in {time.monotonic() - started:.0f} s); hot event {hot}")
        department = next(iter(playbook.departments))
        pages = ["/now", f"/events/{hot}", "/cases", f"/cases?department={department}", "/units", "/sources",
                 "/reports"]
        with Desk(WebServer({}, "127.0.0.1", 0, desk=site, secret="bench-secret-" + "x" * 40)) as base, \
                httpx.Client(base_url=base, timeout=120) as client:
            token = CSRF.search(client.get("/signin").text)
            assert token, "no CSRF token on /signin"
            signed = client.post("/signin", data={"csrf": token.group(1), "login": LOGIN, "password": PASSWORD,
                                                  "next": "/now"})
            assert signed.status_code == 303, signed.text
            baseline, _, _, _ = _median_ms(client, "/static/desk.css", args.requests)
            assert baseline is not None
            print(f"baseline /static/desk.css: {baseline:.1f} ms (median of {args.requests})")
            print(f"{'page':34} {'ms':>8} {'ratio':>8}  target ≤ {TARGET_MS:.0f} ms  (first request)")
            for page in pages:
                try:
                    ms, status, n, first = _median_ms(client, page, args.requests)
                except httpx.HTTPError as exc:  # a page being written may fail: the others are still timed
                    print(f"{page:34} {'failed':>8}  ({type(exc).__name__}: {exc})", flush=True)
                    continue
                if ms is None:
                    print(f"{page:34} {'not built':>8}")
                    continue
                verdict = "met" if ms <= TARGET_MS else "MISSED"
                note = "" if status == 200 else f"  (HTTP {status})"
                note += "" if n == args.requests else f"  ({n} timed)"
                print(f"{page:34} {ms:8.1f} {ms / baseline:7.1f}×  {verdict:6}  ({first:.0f} ms){note}", flush=True)
        engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
