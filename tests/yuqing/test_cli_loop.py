"""The close-the-loop commands end to end on a SQLite store in a temporary data dir."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from store.database import make_engine, session_factory, session_scope
from store.models import Event
from store.types import utcnow
from yuqing.cli import main


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("YUQING_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("YUQING_DATABASE_URL", raising=False)
    monkeypatch.delenv("YUQING_REPORTS_DIR", raising=False)
    runner = CliRunner()
    assert runner.invoke(main, ["init"]).exit_code == 0
    return runner


def _run(runner: CliRunner, *args: str) -> str:
    result = runner.invoke(main, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_submit_adopt_deduct_and_quarter_totals(runner: CliRunner):
    number = _run(runner, "submit", "--unit", "长春市政府", "--title", "长春冬季清雪", "--text", "全市出动清雪车辆",
                  "--by", "刘长春").strip()
    assert "+5" in _run(runner, "adopt", number)
    assert runner.invoke(main, ["adopt", number]).exit_code != 0  # adopted once
    refused = runner.invoke(main, ["submit", "--unit", "长春市政府", "--title", "t", "--text", "x"])
    assert refused.exit_code != 0 and "--by" in refused.output  # 实名制
    assert "长春市政府" in _run(runner, "points")
    out = _run(runner, "points", "deduct", "长春市政府", "--reason", "inaccurate_information", "--why", "数字有误",
               "--evidence", "https://www.changchun.gov.cn/a/2", "--by", "值班员")
    assert "-5" in out
    assert runner.invoke(main, ["points", "deduct", "长春市政府", "--reason", "missed_response", "--why", "x",
                                "--evidence", "https://e.cn/1", "--by", "d"]).exit_code != 0
    assert "未重复" in _run(runner, "points", "deduct", "长春市政府", "--reason", "inaccurate_information", "--why",
                          "数字有误", "--evidence", "https://www.changchun.gov.cn/a/2", "--by", "值班员")
    assert "长春市政府" in _run(runner, "points", "--quarter", "2020-Q1")  # zeros listed
    bad = runner.invoke(main, ["points", "--quarter", "2026-Q9"])
    assert bad.exit_code != 0 and "2026-Q4" in bad.output


def test_clarify_submit_approve_and_case(runner: CliRunner, tmp_path: Path):
    engine = make_engine(f"sqlite:///{tmp_path / 'yuqing.sqlite3'}")
    with session_scope(session_factory(engine)) as session:
        event = Event(title="网传长春地铁停运", rumour_probability=0.9, first_seen_at=utcnow(), last_seen_at=utcnow())
        session.add(event)
        session.flush()
        event_id = event.id
    engine.dispose()
    out = _run(runner, "clarify", str(event_id), "https://www.changchun.gov.cn/a/1.html", "--department", "长春市政府")
    assert "待审签" in out
    assert "审签通过" in _run(runner, "clarify", "approve", "1")
    assert runner.invoke(main, ["clarify", "approve", "1"]).exit_code != 0
    case = _run(runner, "case", str(event_id))
    assert "网传长春地铁停运" in case and "澄清 1 长春市政府 approved" in case


def test_reports_and_digest_write_files(runner: CliRunner, tmp_path: Path):
    out_dir = tmp_path / "out"
    _run(runner, "report", "weekly", "--week", "2026-W47", "--out", str(out_dir))
    _run(runner, "report", "monthly", "--month", "2026-11", "--out", str(out_dir))
    _run(runner, "digest", "--date", "2026-11-23", "--out", str(out_dir))
    names = sorted(p.name for p in out_dir.iterdir())
    assert names == ["digest-2026-11-23.html", "monthly-2026-11.csv", "monthly-2026-11.html", "monthly-2026-11.pdf",
                     "weekly-2026-W47.html", "weekly-2026-W47.pdf"]
