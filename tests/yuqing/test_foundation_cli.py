"""The foundation commands, run as a user would run them (the installed console script)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from playbooks.loader import DEFAULT_PLAYBOOK

YUQING = shutil.which("yuqing", path=str(Path(sys.executable).parent)) or "yuqing"


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([YUQING, *args], capture_output=True, text=True, env={**os.environ, **(env or {})},
                          timeout=120)


def test_playbook_check_passes_on_the_default() -> None:
    result = run("playbook", "check", str(DEFAULT_PLAYBOOK))
    assert result.returncode == 0, result.stderr
    assert "ok (220 departments, 9 categories)" in result.stdout


def test_playbook_check_refuses_a_tokenizer_the_trained_models_were_not_cut_with(tmp_path: Path) -> None:
    text = DEFAULT_PLAYBOOK.read_text(encoding="utf-8")
    assert "tokenizer: rjieba" in text
    other = tmp_path / "jilin.yaml"
    other.write_text(text.replace("tokenizer: rjieba", "tokenizer: jieba", 1), encoding="utf-8")
    result = run("playbook", "check", str(other))
    assert result.returncode == 1
    assert "ok (220 departments" in result.stdout  # the playbook itself is valid
    assert "trained with the rjieba tokenizer, but the playbook chooses jieba" in result.stderr
    assert "yuqing train topic" in result.stderr and "yuqing train rumour" in result.stderr
    untrained = run("playbook", "check", str(other), env={"YUQING_MODELS_DIR": str(tmp_path / "none")})
    assert untrained.returncode == 0, untrained.stderr  # no models yet: items are stored unannotated


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("lead: 省卫生厅", "lead: 省卫健委", "categories.医疗.lead: unknown department '省卫健委'"),
        ("first_information: 5h\n  emergency", "first_information: soon\n  emergency",
         "clocks.rumour.first_information: invalid duration 'soon'"),
        ("verify_low: 0.35", "verify_low: [0.35", "YAML syntax error"),
    ],
)
def test_playbook_check_names_file_line_and_field(tmp_path: Path, old: str, new: str, expected: str) -> None:
    text = DEFAULT_PLAYBOOK.read_text(encoding="utf-8")
    broken = tmp_path / "jilin.yaml"
    broken.write_text(text.replace(old, new, 1), encoding="utf-8")
    result = run("playbook", "check", str(broken))
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("jilin.yaml:") and expected in lines[0]


def test_playbook_show_summarises() -> None:
    result = run("playbook", "show")
    assert result.returncode == 0, result.stderr
    assert "教育: 省教育厅 + 省财政厅、省人事厅" in result.stdout
    assert "respond within 7 working days (15 when extended)" in result.stdout
    assert "reprint by a major site +1, by another site +0.5" in result.stdout


def test_deadline_counts_national_day_and_make_up_day() -> None:
    result = run("deadline", "--start", "2026-09-30T10:00+08:00", "--working-days", "7")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "2026-10-15T17:00:00+08:00"


def test_deadline_refuses_a_bad_start() -> None:
    result = run("deadline", "--start", "yesterday", "--working-days", "7")
    assert result.returncode != 0
    assert "not an ISO 8601 time" in result.stderr


def test_init_is_safe_to_run_twice(tmp_path: Path) -> None:
    env = {"YUQING_DATA_DIR": str(tmp_path)}
    first = run("init", env=env)
    assert first.returncode == 0, first.stderr
    assert "departments: 220 added" in first.stdout
    second = run("init", env=env)
    assert second.returncode == 0, second.stderr
    assert "departments: 0 added, 0 updated" in second.stdout


def test_bad_setting_is_named(tmp_path: Path) -> None:
    result = run("init", env={"YUQING_DATABASE_URL": "mysql://x"})
    assert result.returncode != 0
    assert "YUQING_DATABASE_URL" in result.stderr
