"""One build path: `yuqing run`, `yuqing poll` and `yuqing cycle` read the settings and the sources file the same way.

Before yuqing.assembly, the weekly report that `yuqing run` and `yuqing cycle` post showed a source as
failing only after three failures whatever the sources file's ``health.failing_after`` said (the
report command and `yuqing sources health` honoured it).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import yaml
from click.testing import CliRunner
from sqlalchemy import select

from store.database import make_engine, migrate, session_factory, session_scope
from store.models import ScheduledReport, Source
from yuqing.cli import main
from yuqing.service import Service, load_service_members
from yuqing.settings import load_settings

FAILING_ROW = '<td>news</td><td>feed</td><td class="bad">故障</td>'


def _env(tmp_path: Path, database_url: str) -> dict[str, str]:
    return {"YUQING_DATA_DIR": str(tmp_path), "YUQING_SOURCES_FILE": str(tmp_path / "sources.yaml"),
            "YUQING_DATABASE_URL": database_url, "YUQING_MODELS_DIR": str(tmp_path / "no-models"),
            "YUQING_DUTY_CHAT_ID": "-100", "YUQING_HTTP_TIMEOUT": "3.5", "YUQING_MAX_RESPONSE_BYTES": "123456",
            "YUQING_MAX_TITLE_CHARS": "77", "YUQING_WEB_DESK": "0"}


def _store_with_a_failing_source_and_a_due_weekly_report(tmp_path: Path, database_url: str) -> None:
    """A sources file that flags a source after one failure, a source that failed once, the weekly slot past."""
    (tmp_path / "sources.yaml").write_text(yaml.safe_dump({
        "health": {"failing_after": 1},
        "sources": [{"name": "news", "kind": "feed", "url": "http://127.0.0.1:9/feed"}],
    }), encoding="utf-8")
    engine = make_engine(database_url)
    migrate(engine)
    with session_scope(session_factory(engine)) as session:
        session.add(Source(name="news", kind="feed", url="http://127.0.0.1:9/feed", consecutive_failures=1,
                           last_error="connection refused"))
        session.add(ScheduledReport(name="weekly", next_run_at=dt.datetime(2026, 11, 30, 1, tzinfo=dt.UTC)))
    engine.dispose()


def _weekly_html(database_url: str) -> str:
    engine = make_engine(database_url)
    with session_scope(session_factory(engine)) as session:
        pdf = session.scalar(select(ScheduledReport.last_output).where(ScheduledReport.name == "weekly"))
    engine.dispose()
    assert pdf is not None, "the weekly report was not posted"
    return Path(pdf).with_suffix(".html").read_text(encoding="utf-8")


def test_yuqing_cycle_posts_the_weekly_report_under_the_sources_files_health_section(tmp_path, database_url):
    _store_with_a_failing_source_and_a_due_weekly_report(tmp_path, database_url)
    result = CliRunner().invoke(main, ["cycle"], env=_env(tmp_path, database_url))
    assert result.exit_code == 0, result.output
    assert "weekly report queued" in result.output
    assert FAILING_ROW in _weekly_html(database_url)


def test_yuqing_run_builds_the_monitor_and_posts_reports_as_the_commands_do(tmp_path, database_url, monkeypatch):
    _store_with_a_failing_source_and_a_due_weekly_report(tmp_path, database_url)
    for key, value in _env(tmp_path, database_url).items():
        monkeypatch.setenv(key, value)
    settings = load_settings()
    from playbooks.loader import load_playbook

    playbook = load_playbook()
    service = Service(settings, playbook, load_service_members(settings, playbook))
    monitor = service._build_monitor()
    try:
        limits = monitor.poller.fetcher.limits
        assert (limits.read_timeout, limits.max_bytes) == (3.5, 123456)
        assert monitor.pipeline.limits.max_title_chars == 77
        assert monitor.config.health.failing_after == 1
        asyncio.run(service._reports(monitor))
    finally:
        asyncio.run(monitor.aclose())
    assert FAILING_ROW in _weekly_html(database_url)
