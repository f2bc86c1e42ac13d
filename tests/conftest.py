"""Fixtures shared by every test package: store URLs for SQLite and PostgreSQL, the playbook, a fake Bot API.

Shared fakes live in the ``support`` package beside this file (importable as ``support``: pytest puts this
directory on ``sys.path`` when it imports this conftest).
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from support.fake_bot_api import FakeBotAPI
from support.stores import cleared_postgres, emptied_postgres

from monitor.pipeline import Annotator
from playbooks.loader import load_playbook
from playbooks.schema import Playbook
from store.database import make_engine, migrate

POSTGRES_ENV = "YUQING_TEST_POSTGRES_URL"


@pytest.fixture(scope="session")
def playbook() -> Playbook:
    return load_playbook()


@pytest.fixture(scope="session")
def trained_annotator(playbook: Playbook) -> Annotator:
    """The bundled models, loaded once per test run (each load takes seconds): every test that stores items
    through the real classifiers shares them (a classifier holds no state between calls)."""
    from monitor.annotate import default_annotator

    annotator = default_annotator(playbook, None)  # the process's shared load, as every monitor of this process
    assert annotator is not None, "the bundled models did not load (see the warning above)"
    return annotator


@pytest.fixture(scope="session")
def datasets_dir() -> Path:
    """The real labelled data, found where the settings say (never copied into the repo)."""
    from yuqing.settings import load_settings

    path = load_settings().datasets_dir
    if not path.is_dir():
        pytest.fail(f"datasets not found at {path}: set YUQING_DATASETS_DIR")
    return path


@contextmanager
def _throw_away_database() -> Iterator[str]:
    """A database of its own on the PostgreSQL server named by YUQING_TEST_POSTGRES_URL, dropped after."""
    base = os.environ.get(POSTGRES_ENV)
    if not base:
        pytest.skip(f"{POSTGRES_ENV} is not set (.ci/run sets it)")
    url = make_url(base.replace("postgresql://", "postgresql+psycopg://", 1))
    name = f"yuqing_test_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def _postgres_database() -> Iterator[str]:
    """The test process's database for empty stores (``database_url``)."""
    with _throw_away_database() as url:
        yield url


@pytest.fixture(scope="session")
def _postgres_store() -> Iterator[str]:
    """The test process's database for migrated stores (``store_url``), migrated once: its own, so that a
    ``database_url`` test dropping its schema does not take this one's."""
    with _throw_away_database() as url:
        engine = make_engine(url)
        migrate(engine)
        engine.dispose()
        yield url


@pytest.fixture(scope="session")
def _sqlite_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite store migrated once per test process; each ``store_url`` test gets a copy of the file."""
    path = tmp_path_factory.mktemp("migrated") / "store.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    engine.dispose()  # the last connection closed: the write-ahead log is back in the file
    return path


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty store (no schema) on each database we support; the same test runs on both. For tests of
    building and migrating a store, and of commands that build it (``yuqing init``)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.sqlite3'}"
    return emptied_postgres(request.getfixturevalue("_postgres_database"))


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A store at the newest schema with no rows, on each database we support: for tests of what happens in
    a store. Migrated once per test process and emptied for each test, not built anew for each."""
    if request.param == "sqlite":
        path = tmp_path / "store.sqlite3"
        shutil.copyfile(request.getfixturevalue("_sqlite_store"), path)
        return f"sqlite:///{path}"
    return cleared_postgres(request.getfixturevalue("_postgres_store"))


@pytest.fixture
def api() -> Iterator[FakeBotAPI]:
    """A fake Telegram Bot API on 127.0.0.1 that records every call."""
    server = FakeBotAPI().start()
    yield server
    server.stop()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests marked slow run first (in their collected order): make test's processes then share out the many
    short tests around them, rather than one process running a slow test alone at the end of the run."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


def pytest_report_header(config: pytest.Config) -> str:
    url = os.environ.get(POSTGRES_ENV)
    where = f"SQLite and PostgreSQL ({url})" if url else f"SQLite only (set {POSTGRES_ENV} for PostgreSQL)"
    return f"yuqing store tests run on: {where}"
