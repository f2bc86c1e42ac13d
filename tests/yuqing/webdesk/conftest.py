"""The web desk on a real server: uvicorn on 127.0.0.1 over a migrated store, people from the members file.

``desk_server`` serves the desk (on SQLite and PostgreSQL through ``store_url``); ``sign_in`` gives an
httpx client with a session for a sign-in name; ``seed`` stores events and opens cases through the
same shared actions the chat uses.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from argon2 import PasswordHasher
from desk_support import MEMBERS_FILE, SECRET, RunningDesk, Seed, SignIn, csrf_of, password_of
from sqlalchemy import insert, select
from sqlalchemy.orm import Session, sessionmaker

from playbooks.members import Members, load_members
from playbooks.schema import Playbook
from responders.cases import Actor
from responders.messages import Templates
from store.database import make_engine, migrate, session_factory, session_scope, sync_departments
from store.models import DeskPassword, Event, Item, Source
from store.types import utcnow
from yuqing.settings import Settings
from yuqing.web import WebServer
from yuqing.webdesk import access
from yuqing.webdesk.access import set_password
from yuqing.webdesk.site import build_site


@pytest.fixture(scope="session")
def desk_members(playbook: Playbook) -> Members:
    return load_members(MEMBERS_FILE, playbook)


# argon2id at its lowest cost: at the library's recommended cost (the desk's own, which
# tests/yuqing/test_cli_users.py checks) the desk tests' 160-odd sign-ins took half a minute of CPU.
CHEAP_HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


@pytest.fixture(autouse=True)
def cheap_password_hashes(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The desk hashes and checks passwords with the same code and algorithm, at the lowest cost."""
    monkeypatch.setattr(access, "_HASHER", CHEAP_HASHER)
    access._dummy_hash.cache_clear()  # an unknown name's check is made at the hasher's cost
    yield
    access._dummy_hash.cache_clear()


@pytest.fixture(scope="session")
def desk_password_rows(desk_members: Members, tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, object]]:
    """Every sign-in's row as ``set_password`` writes it (with the tests' cheap hasher), hashed once per run."""
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('passwords') / 'store.sqlite3'}")
    migrate(engine)
    with pytest.MonkeyPatch.context() as patch, session_scope(session_factory(engine)) as session:
        patch.setattr(access, "_HASHER", CHEAP_HASHER)
        for login in desk_members.desk.logins:
            set_password(session, desk_members, login, password_of(login), utcnow())
        rows = [{"login": r.login, "password_hash": r.password_hash, "set_at": r.set_at}
                for r in session.scalars(select(DeskPassword))]
    engine.dispose()
    return rows


@pytest.fixture
def desk_sessions(store_url: str, playbook: Playbook,
                  desk_password_rows: list[dict[str, object]]) -> Iterator[sessionmaker[Session]]:
    """A migrated store with the playbook's departments and a password for every sign-in name."""
    engine = make_engine(store_url)
    factory = session_factory(engine)
    with session_scope(factory) as session:
        sync_departments(session, playbook)
        session.execute(insert(DeskPassword), desk_password_rows)
    yield factory
    engine.dispose()


@pytest.fixture
def desk_server(desk_sessions: sessionmaker[Session], playbook: Playbook, desk_members: Members,
                tmp_path: Path) -> Iterator[RunningDesk]:
    settings = Settings(data_dir=tmp_path, reports_dir=tmp_path / "reports", web_address="127.0.0.1:0")
    site = build_site(settings, playbook, desk_members, desk_sessions, Templates.from_playbook(playbook))
    running = RunningDesk(site, WebServer({}, "127.0.0.1", 0, desk=site, secret=SECRET)).start()
    yield running
    running.stop()




@pytest.fixture
def sign_in(desk_server: RunningDesk) -> Iterator[SignIn]:
    """``sign_in("chenjiaoyu")``: a client with that person's session (closed after the test)."""
    clients: list[httpx.Client] = []

    def make(login: str) -> httpx.Client:
        client = httpx.Client(base_url=desk_server.base, follow_redirects=False, timeout=30)
        clients.append(client)
        answer = client.post("/signin", data={"csrf": csrf_of(client, "/signin"), "login": login,
                                              "password": password_of(login), "next": "/now"})
        assert answer.status_code == 303, answer.text
        return client

    yield make
    for client in clients:
        client.close()




@pytest.fixture
def seed(desk_server: RunningDesk) -> Seed:
    """Store an event with *items* items (fetched over the last hours); cases for *departments* are opened by
    the duty chief through the shared ``assign`` action. Returns the event id."""
    site = desk_server.site
    counter = iter(range(1, 1_000_000))
    chief = Actor("王值班", site.members.duty.chief, "test")

    def make(title: str = "长春市某小学乱收费", *, category: str | None = "教育", heat: float = 30.0,
             rumour: float | None = 0.1, departments: tuple[str, ...] = (), items: int = 1,
             places: list[str] | None = None, emergency: bool = False,
             seen: dt.datetime | None = None) -> int:
        now = seen or utcnow()
        n = next(counter)
        with session_scope(site.sessions) as session:
            source = Source(name=f"seed-{n}", kind="feed", url=f"https://news{n}.example.cn/")
            event = Event(title=title, category=category, heat=heat, rumour_probability=rumour, places=places,
                          is_emergency=emergency, first_seen_at=now, last_seen_at=now, item_count=items,
                          heat_breakdown={"parts": [{"name": "volume", "points": heat, "note": f"{items} weighted",
                                                     "facts": {"value": float(items)}}]})
            session.add_all([source, event])
            session.flush()
            for i in range(items):
                at = now - dt.timedelta(minutes=37 * i)
                session.add(Item(source_id=source.id, external_id=f"s{n}-{i}", url=f"https://news{n}.example.cn/{i}",
                                 title=title, text=title, content_hash=f"seed{n}-{i}", event_id=event.id,
                                 published_at=at, fetched_at=at))
            event_id = event.id
        for department in departments:
            site.desk.assign(chief, event_id, department)
        return event_id

    return make
