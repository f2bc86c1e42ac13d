"""Factories for the close-the-loop tests: a migrated store, sources, items, events, assignments."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.orm import Session, sessionmaker

from monitor.store.database import session_scope
from monitor.store.models import Assignment, Event, Item, Source

CST = ZoneInfo("Asia/Shanghai")
_ids = itertools.count(1)


def at(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=CST)


@pytest.fixture
def store(sessions: sessionmaker[Session]) -> sessionmaker[Session]:
    """A migrated store with the playbook's departments (the responders' ``sessions`` fixture)."""
    return sessions


@pytest.fixture
def session(store: sessionmaker[Session]) -> Iterator[Session]:
    with session_scope(store) as s:
        yield s


def source(session: Session, host: str, *, department: str | None = None, name: str | None = None,
           kind: str = "feed", weight_class: str = "auto") -> Source:
    row = Source(name=name or f"{host}-{next(_ids)}", kind=kind, url=f"https://{host}/", host=host,
                 department_key=department, weight_class=weight_class)
    session.add(row)
    session.flush()
    return row


def item(session: Session, src: Source, text: str, when: dt.datetime, *, title: str = "", url: str | None = None,
         event: Event | None = None, reposts: int = 0, comments: int = 0, likes: int = 0,
         category: str | None = None, raw: dict | None = None) -> Item:
    n = next(_ids)
    row = Item(source_id=src.id, external_id=f"e{n}", url=url or f"https://{src.host}/a/{n}.html", title=title,
               text=text, content_hash=f"h{n}", published_at=when, fetched_at=when, reposts=reposts,
               comments=comments, likes=likes, category=category, raw=raw, event_id=event.id if event else None)
    session.add(row)
    session.flush()
    return row


def event(session: Session, title: str, when: dt.datetime, *, heat: float = 60.0, rumour: float | None = 0.9,
          category: str = "教育", items: int = 1) -> Event:
    row = Event(title=title, category=category, heat=heat, rumour_probability=rumour, first_seen_at=when,
                last_seen_at=when, item_count=items)
    session.add(row)
    session.flush()
    return row


def assignment(session: Session, ev: Event, department: str, opened: dt.datetime, *, role: str = "lead",
               state: str = "notified", ack_due: dt.timedelta = dt.timedelta(hours=1),
               respond_due: dt.timedelta = dt.timedelta(hours=5)) -> Assignment:
    row = Assignment(event_id=ev.id, department_key=department, role=role, state=state, rule_snapshot={},
                     opened_at=opened, acknowledge_due_at=opened + ack_due,
                     first_information_due_at=opened + respond_due)
    session.add(row)
    session.flush()
    return row
