"""Engines, sessions and schema migration for SQLite (default) and PostgreSQL."""

from __future__ import annotations

import fcntl
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event, inspect, make_url, select, text
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session, sessionmaker

from playbooks.schema import Playbook
from store.cluster_locks import LockKey, SessionLock, is_postgresql
from store.errors import StoreError as StoreError  # callers import it with the store
from store.models import Base, Department

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")




def _normalise_url(url: str) -> str:
    # psycopg 3 is our PostgreSQL driver; plain postgresql:// would ask for psycopg2.
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.removeprefix("postgres://")
    return url


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def make_engine(url: str) -> Engine:
    """An engine for *url*; SQLite files get their folder, foreign keys and WAL."""
    url = _normalise_url(url)
    if url.startswith("sqlite"):
        path = url.split("///", 1)[1] if "///" in url else ""
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True)


def describe_store_fault(exc: BaseException, url: str, setting: str = "YUQING_DATABASE_URL") -> str | None:
    """A duty officer's sentence for a store that is busy or cannot be reached; None when *exc* is not that."""
    text = str(getattr(exc, "orig", exc) or exc).strip().splitlines()[0] if str(exc).strip() else ""
    url = _normalise_url(url)
    if url.startswith("sqlite"):
        if "database is locked" in text or "database is busy" in text:
            return ("another yuqing process holds the store (SQLite allows one writer at a time); "
                    "try again when it has finished")
        if "unable to open database file" in text:
            return f"cannot open the SQLite store named by {setting} ({url}): {text}"
        return None
    try:
        parsed = make_url(url)
        where = f"{parsed.host or 'localhost'}:{parsed.port or 5432}"
    except ArgumentError:  # an unparsable URL is reported by the settings
        where = "?"
    return f"cannot reach the database at {where} named by {setting}: {text or exc.__class__.__name__}"


@contextmanager
def one_writer_at_a_time(url: str, on_wait: Callable[[], None] = lambda: None) -> Iterator[None]:
    """For a SQLite file store, take its turn lock (``<store>.lock``) for a long write such as a poll, so a
    second ``yuqing poll --once`` waits for the first instead of failing on a busy store; *on_wait* says
    so when it has to wait. Other stores handle concurrent writers themselves."""
    url = _normalise_url(url)
    path = url.split("///", 1)[1].split("?", 1)[0] if url.startswith("sqlite") and "///" in url else ""
    if not path or path == ":memory:" or not Path(path).parent.is_dir():
        yield
        return
    with open(f"{path}.lock", "a+b") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            on_wait()
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A unit of work: commit on success, roll back on any error."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def _alembic_config(engine: Engine) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def migrate(engine: Engine, revision: str = "head") -> str:
    """Bring the schema to the newest migration (or *revision*, up or down); safe to run any number of times,
    and by several processes at once on PostgreSQL (a cluster's scheduler and workers start together): one
    migrates while the others wait for it under an advisory lock.

    An empty database gets the newest schema at once, recorded as migrated to head (Alembic's "building
    an up to date database from scratch"): a tenth of the time of replaying every migration, which
    matters for ``yuqing init`` and for each test's fresh store. The migrations are for stores that
    hold data; ``tests/store`` proves they build exactly the same schema.
    """
    if not is_postgresql(engine):
        _migrate(engine, revision)
        return current_revision(engine) or ""
    lock = SessionLock(engine, LockKey.MIGRATE)
    lock.acquire()
    try:
        _migrate(engine, revision)
    finally:
        lock.release()
    return current_revision(engine) or ""


def _migrate(engine: Engine, revision: str) -> None:
    current = current_revision(engine)
    if revision == "head" and current == head_revision():
        return  # the common case (every command, every worker start): no need to import alembic
    from alembic import command

    config = _alembic_config(engine)
    if revision == "head" and current is None and not inspect(engine).get_table_names():
        Base.metadata.create_all(engine)
        command.stamp(config, "head")
    elif revision != "head" and current is not None and int(current) > int(revision):
        command.downgrade(config, revision)
    else:
        command.upgrade(config, revision)


def current_revision(engine: Engine) -> str | None:
    """The revision the store is at (alembic's own table), or None for a store never migrated.

    Read with one query, not through alembic: every store command checks it at start, and importing
    alembic costs a command a fifth of a second.
    """
    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return None
        return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


_REVISION = re.compile(r"^(down_)?revision\s*=\s*['\"]?([0-9A-Za-z_]+|None)['\"]?\s*$", re.MULTILINE)


def head_revision() -> str:
    """The newest migration: the one no other migration names as its ``down_revision`` (read from the
    migration files; a test keeps it equal to alembic's own head)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        for down, value in _REVISION.findall(path.read_text(encoding="utf-8")):
            (parents if down else revisions).add(value)
    heads = revisions - parents
    if len(heads) != 1:
        raise StoreError(f"expected one newest migration in {MIGRATIONS}, found {sorted(heads) or 'none'}")
    return heads.pop()


def require_current(engine: Engine) -> None:
    """Refuse to run against a schema that `yuqing init` has not brought up to date."""
    current = current_revision(engine)
    if current != head_revision():
        raise StoreError(
            f"database schema is at {current or 'nothing'}, this yuqing needs {head_revision()}: "
            "run `yuqing init`"
        )


def sync_departments(session: Session, playbook: Playbook) -> tuple[int, int]:
    """Mirror the playbook's reporting units into the store; returns (added, updated).

    Units that left the playbook are kept (ledgers point at them) but marked inactive.
    """
    existing = {d.key: d for d in session.scalars(select(Department))}
    added = updated = 0
    for key, unit in playbook.departments.items():
        values = {
            "kind": unit.kind.value,
            "full_name": unit.full_name,
            "parent_key": unit.parent,
            "ranked": unit.is_ranked,
            "active": True,
        }
        row = existing.pop(key, None)
        if row is None:
            session.add(Department(key=key, **values))
            added += 1
        elif any(getattr(row, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(row, k, v)
            updated += 1
    for row in existing.values():
        if row.active:
            row.active = False
            updated += 1
    return added, updated
