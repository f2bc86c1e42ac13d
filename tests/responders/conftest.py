"""The responders' fixtures: a migrated store and a session on it, events with items, members, the clock,
the desk (the fake Bot API, ``api``, is in tests/conftest.py).

Plain helpers (people, local times, row builders) are in ``responders_support``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator

import pytest
from responders_support import MEMBERS_FILE, local
from sqlalchemy.orm import Session, sessionmaker

from monitor.clock import FrozenClock
from playbooks.members import Members, load_members
from playbooks.schema import Playbook
from responders.desk import Desk
from responders.messages import Templates
from store.database import make_engine, session_factory, session_scope, sync_departments
from store.models import Event, Item, Source


@pytest.fixture
def clock() -> FrozenClock:
    """Monday 23 November 2026, 10:00 in the office; tests move it with ``advance`` or by setting ``now``."""
    return FrozenClock(local(2026, 11, 23, 10, 0))


@pytest.fixture(scope="session")
def members(playbook: Playbook) -> Members:
    return load_members(MEMBERS_FILE, playbook)


@pytest.fixture(scope="session")
def templates(playbook: Playbook) -> Templates:
    return Templates.from_playbook(playbook)


@pytest.fixture
def sessions(store_url: str, playbook: Playbook) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(store_url)
    factory = session_factory(engine)
    with session_scope(factory) as session:
        sync_departments(session, playbook)
    yield factory
    engine.dispose()


@pytest.fixture
def session(sessions: sessionmaker[Session]) -> Iterator[Session]:
    """One session on the store, committed at the end of the test (the row builders' target)."""
    with session_scope(sessions) as s:
        yield s


@pytest.fixture
def desk(sessions: sessionmaker[Session], playbook: Playbook, members: Members, templates: Templates,
         clock: FrozenClock) -> Desk:
    return Desk(sessions, playbook, members, templates, clock)


MakeEvent = Callable[..., int]


@pytest.fixture
def make_event(sessions: sessionmaker[Session], clock: FrozenClock) -> MakeEvent:
    """Store an event with one item; returns the event id."""
    counter = iter(range(1, 10_000))

    def make(title: str = "长春市某小学乱收费", text: str = "", *, category: str | None = "教育",
             heat: float = 30.0, rumour: float | None = 0.1, emergency: bool = False,
             signals: list[str] | None = None, url: str = "https://bbs.example.cn/t/1",
             source_department: str | None = None, kind: str = "feed", reposts: int = 0,
             published_at: dt.datetime | None = None) -> int:
        n = next(counter)
        with session_scope(sessions) as session:
            source = Source(name=f"src-{n}", kind=kind, url="https://bbs.example.cn/",
                            department_key=source_department)
            event = Event(title=title, category=category, heat=heat, rumour_probability=rumour,
                          is_emergency=emergency, signals=signals, first_seen_at=clock(), last_seen_at=clock(),
                          heat_breakdown={"parts": [{"name": "volume", "points": 20.5, "note": "12 条"}]})
            session.add_all([source, event])
            session.flush()
            session.add(Item(source_id=source.id, external_id=f"x{n}", url=url, title=title, text=text or title,
                             content_hash=f"h{n}", event_id=event.id, published_at=published_at or clock(),
                             fetched_at=clock(), reposts=reposts, why=["乱收费", "学校"]))
            return event.id

    return make
