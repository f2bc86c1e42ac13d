"""Fixtures shared by every test package: store URLs for SQLite and PostgreSQL, the playbook, a fake Bot API.

Shared fakes live in the ``support`` package beside this file (importable as ``support``: pytest puts this
directory on ``sys.path`` when it imports this conftest).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from support.fake_bot_api import FakeBotAPI
from support.stores import emptied_postgres

from monitor.pipeline import Annotator
from playbooks.loader import load_playbook
from playbooks.schema import Playbook

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


@pytest.fixture(scope="session")
def _postgres_database() -> Iterator[str]:
    """A throw-away database on the PostgreSQL server named by YUQING_TEST_POSTGRES_URL."""
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


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty store on each database we support; the same test runs on both."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.sqlite3'}"
    return emptied_postgres(request.getfixturevalue("_postgres_database"))


@pytest.fixture
def api() -> Iterator[FakeBotAPI]:
    """A fake Telegram Bot API on 127.0.0.1 that records every call."""
    server = FakeBotAPI().start()
    yield server
    server.stop()


def pytest_report_header(config: pytest.Config) -> str:
    url = os.environ.get(POSTGRES_ENV)
    where = f"SQLite and PostgreSQL ({url})" if url else f"SQLite only (set {POSTGRES_ENV} for PostgreSQL)"
    return f"yuqing store tests run on: {where}"
