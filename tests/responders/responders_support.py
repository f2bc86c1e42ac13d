"""Helpers shared by the responders' tests: the members file's people, local times, and store builders.

A plain module beside ``conftest.py`` (test modules never import a conftest); the fixtures themselves
(``clock``, ``sessions``, ``session``, ``make_event``, ``desk``, ``api``) live in ``conftest.py``.
The builders add rows to an open session; a case is opened the way routing and 指派 open one, under
the playbook's own snapshot.
"""

from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from playbooks.schema import Playbook
from responders.cases import Actor, add_department, transition
from responders.routing import Profile, Role, RouteIntent
from store.models import Case, Event, Item, Source

SHANGHAI = ZoneInfo("Asia/Shanghai")
MEMBERS_FILE = Path(__file__).resolve().parents[2] / "playbooks" / "members.yaml"

DUTY_CHIEF = 100001
DUTY_STAFF = 100002
EDU_MEMBER = 200101
TRAFFIC_MEMBER = 200151
STRANGER = 999999

_ids = itertools.count(1)


def local(*args: int) -> dt.datetime:
    """A time in the office's timezone."""
    return dt.datetime(*args, tzinfo=SHANGHAI)


def source(session: Session, host: str, *, department: str | None = None, name: str | None = None,
           kind: str = "feed", weight_class: str = "auto") -> Source:
    row = Source(name=name or f"{host}-{next(_ids)}", kind=kind, url=f"https://{host}/", host=host,
                 department_key=department, weight_class=weight_class)
    session.add(row)
    session.flush()
    return row


def item(session: Session, src: Source, text: str, when: dt.datetime, *, title: str = "", url: str | None = None,
         event: Event | None = None, reposts: int = 0, comments: int = 0, likes: int = 0,
         category: str | None = None, raw: dict[str, Any] | None = None) -> Item:
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


def a_case(session: Session, playbook: Playbook, ev: Event, department: str, opened: dt.datetime, *,
               role: str = "lead", profile: Profile = Profile.ordinary) -> Case:
    """A case for *department*, opened at *opened* as routing opens one (the playbook's rule snapshot and
    deadlines) and notified, waiting for its 签收."""
    assert ev.category is not None, "routing opens cases only for events with a category"
    intent = RouteIntent(department, Role(role), reason="test")
    case = add_department(session, ev, intent, profile, ev.category, playbook, now=opened, actor=Actor.system())
    return transition(session, case, "notify", Actor.system(), now=opened)
