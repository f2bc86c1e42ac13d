"""Putting the stages together: store set-up shared by the CLI, the service and the demo."""

from __future__ import annotations

from monitor.config import SourcesFile, load_sources
from playbooks.schema import Playbook
from store import make_engine, migrate, session_factory, session_scope, sync_departments
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


def sources_config(settings: Settings) -> SourcesFile:
    """The sources file, with the settings filling the fetch values the file leaves out.

    YUQING_HTTP_TIMEOUT, _MAX_RESPONSE_BYTES, _FETCH_DEADLINE, _FETCH_ALLOW_LOOPBACK and
    _FETCH_ALLOW_PRIVATE, and YUQING_MAX_TITLE_CHARS, _MAX_TEXT_CHARS and _MAX_RAW_BYTES are the
    defaults; a value written in the file's ``fetch`` or ``limits`` section wins.
    """
    config = load_sources(settings.effective_sources_file)
    given = config.fetch.model_fields_set
    defaults = {
        "read_timeout": settings.http_timeout, "max_bytes": settings.max_response_bytes,
        "total_timeout": settings.fetch_deadline, "allow_loopback": settings.fetch_allow_loopback,
        "allow_private": settings.fetch_allow_private,
    }
    fetch = config.fetch.model_copy(update={k: v for k, v in defaults.items() if k not in given})
    field_defaults = {"max_title_chars": settings.max_title_chars, "max_text_chars": settings.max_text_chars,
                      "max_raw_bytes": settings.max_raw_bytes}
    limits = config.limits.model_copy(update={k: v for k, v in field_defaults.items()
                                              if k not in config.limits.model_fields_set})
    return config.model_copy(update={"fetch": fetch, "limits": limits})
