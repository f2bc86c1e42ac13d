"""The store on SQLite and PostgreSQL: the same tests run against both (see tests/conftest.py)."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, func, inspect, select, text
from sqlalchemy.exc import IntegrityError, StatementError
from sqlalchemy.orm import Session

from playbooks.schema import Playbook
from store import make_engine, migrate, require_current, session_factory, shown, sync_departments
from store.database import StoreError, current_revision, head_revision
from store.models import (
    AuditRowImmutable,
    Base,
    Case,
    CaseAudit,
    Event,
    Item,
    OutboxMessage,
    PointsEntry,
    Source,
)

CST = ZoneInfo("Asia/Shanghai")
NOW_UTC = dt.datetime(2026, 12, 7, 2, 0, tzinfo=dt.UTC)


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
        "sources", "items", "item_changes", "events", "reprints", "outbox", "cases", "submission_audit",
        "case_audit", "consultations", "clarifications", "points_ledger", "departments",
        "digest_entries", "scheduled_reports", "alembic_version",
    } <= tables
    assert current_revision(engine) == head_revision()
    engine.dispose()


def test_the_head_read_from_the_migration_files_is_alembics() -> None:
    from alembic.script import ScriptDirectory

    from store.database import MIGRATIONS

    assert head_revision() == ScriptDirectory(str(MIGRATIONS)).get_current_head()


def test_the_migrations_build_exactly_the_tables_the_models_declare(database_url: str) -> None:
    """An empty store is built from the models at once; one that already holds a schema is migrated.
    Both must give the same tables, columns, types, indexes and constraints."""
    engine = make_engine(database_url)
    migrate(engine, "0001")  # the first schema, then every migration since, as an old store is upgraded
    assert migrate(engine) == head_revision()
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    engine.dispose()
    assert differences == []


def test_the_cases_and_outbox_rename_keeps_every_row_and_goes_back(database_url: str) -> None:
    """0007 renames assignments → cases, alerts → outbox (and their audit tables and columns)."""
    engine = make_engine(database_url)
    migrate(engine, "0006")
    with engine.begin() as c:
        c.execute(text("INSERT INTO departments (key, kind, ranked, active) "
                       "VALUES ('省建设厅', 'department', true, true)"))
        c.execute(text("INSERT INTO events (id, title, status, first_seen_at, last_seen_at, item_count, heat, "
                       "is_emergency) VALUES (1, 't', 'open', :t, :t, 0, 0, false)"), {"t": NOW_UTC})
        c.execute(text("INSERT INTO assignments (id, event_id, department_key, role, reason, state, rule_snapshot, "
                       "opened_at, extended, escalation_step, escalation_state) VALUES "
                       "(7, 1, '省建设厅', 'lead', '', 'notified', '{}', :t, false, 0, '{}')"), {"t": NOW_UTC})
        c.execute(text("INSERT INTO assignment_events (assignment_id, at, actor, action, detail) "
                       "VALUES (7, :t, 'u:1', 'notify', '{}')"), {"t": NOW_UTC})
        c.execute(text("INSERT INTO alerts (dedupe_key, kind, chat_id, text, assignment_id, state, attempts, "
                       "next_attempt_at, created_at) VALUES ('assignment:7:notice', 'assignment', '-1', 'x', 7, "
                       "'sent', 1, :t, :t)"), {"t": NOW_UTC})
    migrate(engine)
    with session_factory(engine)() as session:
        case = session.get(Case, 7)
        assert case is not None and [h.action for h in case.history] == ["notify"]
        message = session.scalars(select(OutboxMessage)).one()
        assert (message.kind, message.dedupe_key, message.case_id) == ("case", "case:7:notice", 7)
    migrate(engine, "0006")
    with engine.connect() as c:
        assert c.execute(text("SELECT kind, dedupe_key, assignment_id FROM alerts")).one() == (
            "assignment", "assignment:7:notice", 7)
        assert c.execute(text("SELECT assignment_id FROM assignment_events")).scalar() == 7
    assert migrate(engine) == head_revision()
    engine.dispose()


def test_the_event_heat_state_column_comes_and_goes_keeping_the_events(database_url: str) -> None:
    """0009 adds events.heat_state, NULL for the events already stored (summed from their items when next
    touched), and takes it away again."""
    engine = make_engine(database_url)
    migrate(engine, "0008")
    with engine.begin() as c:
        c.execute(text("INSERT INTO events (id, title, status, first_seen_at, last_seen_at, item_count, heat, "
                       "is_emergency) VALUES (1, 't', 'open', :t, :t, 3, 12.5, false)"), {"t": NOW_UTC})
    migrate(engine)
    with session_factory(engine)() as session:
        event = session.get(Event, 1)
        assert event is not None and (event.item_count, event.heat, event.heat_state) == (3, 12.5, None)
        event.heat_state = {"version": 1, "count": 3}
        session.commit()
    migrate(engine, "0008")
    assert "heat_state" not in {column["name"] for column in inspect(engine).get_columns("events")}
    with engine.connect() as c:
        assert c.execute(text("SELECT id, item_count, heat FROM events")).one() == (1, 3, 12.5)
    assert migrate(engine) == head_revision()
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
    session.add(OutboxMessage(dedupe_key="event:1:duty", kind="event", chat_id="-100", text="x"))
    session.flush()
    session.add(OutboxMessage(dedupe_key="event:1:duty", kind="event", chat_id="-100", text="x"))
    with pytest.raises(IntegrityError):
        session.flush()


def _case(session: Session) -> Case:
    event = Event(title="某小区供暖不热")
    session.add(event)
    session.flush()
    case = Case(event_id=event.id, department_key="省建设厅", role="lead", rule_snapshot={"respond": 7})
    session.add(case)
    session.flush()
    return case


def test_audit_trail_is_append_only(session: Session) -> None:
    case = _case(session)
    row = CaseAudit(case_id=case.id, actor="u:42", chat_id="-100", action="acknowledge",
                          from_state="notified", to_state="acknowledged")
    session.add(row)
    session.commit()
    row.action = "something else"
    with pytest.raises(AuditRowImmutable):
        session.flush()
    session.rollback()
    session.delete(session.get(CaseAudit, row.id))
    with pytest.raises(AuditRowImmutable):
        session.flush()
    session.rollback()
    assert session.get(CaseAudit, row.id).action == "acknowledge"
    assert [h.action for h in session.get(Case, case.id).history] == ["acknowledge"]


def test_one_assignment_per_department_per_event(session: Session) -> None:
    case = _case(session)
    session.add(Case(event_id=case.event_id, department_key="省建设厅", role="co", rule_snapshot={}))
    with pytest.raises(IntegrityError):
        session.flush()


def test_points_ledger_refers_to_known_departments(session: Session) -> None:
    session.add(PointsEntry(department_key="省教育厅", points=5, reason="adopted", dedupe_key="adopted:1"))
    session.flush()
    session.add(PointsEntry(department_key="不存在的单位", points=5, reason="adopted", dedupe_key="adopted:2"))
    with pytest.raises(IntegrityError):
        session.flush()


def test_the_tests_store_is_put_back_empty_with_ids_from_one(store_url: str, request: pytest.FixtureRequest,
                                                              tmp_path: Path) -> None:
    """``store_url``, the store most tests work in: what one test wrote is gone for the next, and ids start
    at 1 again (PostgreSQL's store is emptied in place; SQLite's is a fresh copy of a migrated file)."""
    from support.stores import cleared_postgres

    engine = make_engine(store_url)
    with session_factory(engine)() as session:
        assert _source(session).id == 1
        session.add(Event(title="事件", first_seen_at=NOW_UTC, last_seen_at=NOW_UTC))
        session.commit()
    engine.dispose()
    if store_url.startswith("postgresql"):
        next_url = cleared_postgres(store_url)
    else:
        shutil.copyfile(request.getfixturevalue("_sqlite_store"), tmp_path / "next.sqlite3")
        next_url = f"sqlite:///{tmp_path / 'next.sqlite3'}"
    engine = make_engine(next_url)
    try:
        assert current_revision(engine) == head_revision()
        with session_factory(engine)() as session:
            assert all(session.scalar(select(func.count()).select_from(t)) == 0 for t in Base.metadata.sorted_tables)
            assert _source(session).id == 1
    finally:
        engine.dispose()
