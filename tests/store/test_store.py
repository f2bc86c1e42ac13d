"""The store on SQLite and PostgreSQL: the same tests run against both (see tests/conftest.py)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, inspect, select
from sqlalchemy.exc import IntegrityError, StatementError
from sqlalchemy.orm import Session

from playbooks.schema import Playbook
from store import make_engine, migrate, require_current, session_factory, shown, sync_departments
from store.database import StoreError, current_revision, head_revision
from store.models import (
    Alert,
    Assignment,
    AssignmentEvent,
    AuditRowImmutable,
    Event,
    Item,
    PointsEntry,
    Source,
)

CST = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    migrate(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine: Engine, playbook: Playbook) -> Iterator[Session]:
    with session_factory(engine)() as session:
        sync_departments(session, playbook)
        session.commit()
        yield session


def _source(session: Session, name: str = "省政府网") -> Source:
    source = Source(name=name, kind="feed", url="http://127.0.0.1/feed.xml", host="127.0.0.1")
    session.add(source)
    session.flush()
    return source


def _item(source: Source, external_id: str, published: dt.datetime | None = None) -> Item:
    return Item(
        source_id=source.id, external_id=external_id, title="t", text="正文", content_hash="h" + external_id,
        published_at=published,
    )


def test_migrate_is_idempotent_and_creates_every_table(database_url: str) -> None:
    engine = make_engine(database_url)
    with pytest.raises(StoreError, match="yuqing init"):
        require_current(engine)
    assert migrate(engine) == head_revision()
    assert migrate(engine) == head_revision()
    require_current(engine)
    tables = set(inspect(engine).get_table_names())
    assert {
        "sources", "items", "item_changes", "events", "reprints", "alerts", "assignments",
        "assignment_events", "consultations", "clarifications", "points_ledger", "departments",
        "digest_entries", "scheduled_reports", "alembic_version",
    } <= tables
    assert current_revision(engine) == head_revision()
    engine.dispose()


def test_departments_mirror_the_playbook(session: Session, playbook: Playbook) -> None:
    assert sync_departments(session, playbook) == (0, 0)
    from store.models import Department

    rows = {d.key: d for d in session.scalars(select(Department))}
    assert len(rows) == len(playbook.departments)
    assert rows["吉林大学"].ranked is False
    assert rows["农安县"].parent_key == "长春市政府"


def test_timestamps_are_stored_utc_and_come_back_aware(session: Session) -> None:
    source = _source(session)
    local = dt.datetime(2026, 10, 1, 8, 0, tzinfo=CST)
    session.add(_item(source, "a", published=local))
    session.commit()
    session.expire_all()
    item = session.scalars(select(Item)).one()
    assert item.published_at == local
    assert item.published_at.utcoffset() == dt.timedelta(0)
    assert shown(item.published_at) == "2026-10-01 08:00"


def test_naive_timestamps_are_refused(session: Session) -> None:
    source = _source(session)
    session.add(_item(source, "a", published=dt.datetime(2026, 10, 1, 8, 0)))
    with pytest.raises(StatementError, match="has no timezone"):
        session.flush()


def test_item_is_unique_per_source_and_external_id(session: Session) -> None:
    source = _source(session)
    session.add(_item(source, "a"))
    session.flush()
    session.add(_item(source, "a"))
    with pytest.raises(IntegrityError):
        session.flush()


def test_alert_dedupe_key_makes_the_outbox_idempotent(session: Session) -> None:
    session.add(Alert(dedupe_key="event:1:duty", kind="event", chat_id="-100", text="x"))
    session.flush()
    session.add(Alert(dedupe_key="event:1:duty", kind="event", chat_id="-100", text="x"))
    with pytest.raises(IntegrityError):
        session.flush()


def _assignment(session: Session) -> Assignment:
    event = Event(title="某小区供暖不热")
    session.add(event)
    session.flush()
    assignment = Assignment(event_id=event.id, department_key="省建设厅", role="lead", rule_snapshot={"respond": 7})
    session.add(assignment)
    session.flush()
    return assignment


def test_audit_trail_is_append_only(session: Session) -> None:
    assignment = _assignment(session)
    row = AssignmentEvent(assignment_id=assignment.id, actor="u:42", chat_id="-100", action="acknowledge",
                          from_state="notified", to_state="acknowledged")
    session.add(row)
    session.commit()
    row.action = "something else"
    with pytest.raises(AuditRowImmutable):
        session.flush()
    session.rollback()
    session.delete(session.get(AssignmentEvent, row.id))
    with pytest.raises(AuditRowImmutable):
        session.flush()
    session.rollback()
    assert session.get(AssignmentEvent, row.id).action == "acknowledge"
    assert [h.action for h in session.get(Assignment, assignment.id).history] == ["acknowledge"]


def test_one_assignment_per_department_per_event(session: Session) -> None:
    assignment = _assignment(session)
    session.add(Assignment(event_id=assignment.event_id, department_key="省建设厅", role="co", rule_snapshot={}))
    with pytest.raises(IntegrityError):
        session.flush()


def test_points_ledger_refers_to_known_departments(session: Session) -> None:
    session.add(PointsEntry(department_key="省教育厅", points=5, reason="adopted", dedupe_key="adopted:1"))
    session.flush()
    session.add(PointsEntry(department_key="不存在的单位", points=5, reason="adopted", dedupe_key="adopted:2"))
    with pytest.raises(IntegrityError):
        session.flush()
