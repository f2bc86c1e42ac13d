"""Putting the stages together: store set-up shared by the CLI, the service and the demo."""

from __future__ import annotations

from monitor.store import make_engine, migrate, session_factory, session_scope, sync_departments
from playbooks.schema import Playbook
from yuqing.settings import Settings


def initialise_store(settings: Settings, playbook: Playbook) -> tuple[str, int, int]:
    """Apply migrations and mirror the playbook's departments; returns (revision, added, updated)."""
    engine = make_engine(settings.effective_database_url)
    try:
        revision = migrate(engine)
        with session_scope(session_factory(engine)) as session:
            added, updated = sync_departments(session, playbook)
    finally:
        engine.dispose()
    return revision, added, updated
