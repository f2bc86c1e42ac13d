"""Hostile policy files and values: recursive aliases, alias bombs, absurd durations and counts."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from click.testing import CliRunner

from playbooks.loader import DEFAULT_PLAYBOOK, PolicyFileError, load_playbook, read_yaml
from playbooks.workdays import ClockError, WorkClock
from yuqing.cli import main


def _with(tmp_path: Path, old: str, new: str) -> tuple[Path, int]:
    text = DEFAULT_PLAYBOOK.read_text(encoding="utf-8")
    index = text.index(old)
    path = tmp_path / "jilin.yaml"
    path.write_text(text[:index] + new + text[index + len(old):], encoding="utf-8")
    return path, text.count("\n", 0, index) + 1


@pytest.mark.parametrize("text, message", [
    ("a: &a [*a]\n", "recursive alias"),
    ("a: &a {b: {c: *a}}\n", "recursive alias"),
    ("a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 10)}]\n" for i in range(8)),
     "aliases expand to more than"),
    ("a: " + "[" * 3000 + "]" * 3000 + "\n", "nested too deeply"),
])
def test_recursive_aliases_bombs_and_deep_nesting_are_refused(tmp_path, text, message):
    path = tmp_path / "hostile.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PolicyFileError) as info:
        read_yaml(path)
    assert message in str(info.value) and "hostile.yaml" in str(info.value)


def test_ordinary_anchors_still_work(tmp_path):
    path = tmp_path / "ok.yaml"
    path.write_text("base: &b {x: 1}\nother: *b\n", encoding="utf-8")
    assert read_yaml(path)[0] == {"base": {"x": 1}, "other": {"x": 1}}


@pytest.mark.parametrize("old, new, message", [
    ("respond_working_days: 7", "respond_working_days: 99999999999", "less than or equal to 250"),
    ("  acknowledge: 4h", "  acknowledge: 0h", "longer than zero"),
    ("  acknowledge: 4h", "  acknowledge: 99999d", "longer than a year"),
    ("  acknowledge: 4h", "  acknowledge: .nan", "invalid duration"),
])
def test_absurd_clocks_are_refused_with_file_and_line(tmp_path, old, new, message):
    path, line = _with(tmp_path, old, new)
    with pytest.raises(PolicyFileError) as info:
        load_playbook(path)
    problem = str(info.value.problems[0])
    assert problem.startswith(f"jilin.yaml:{line}: clocks.") and message in problem, problem


def test_playbook_check_refuses_absurd_values(tmp_path):
    path, line = _with(tmp_path, "respond_working_days: 7", "respond_working_days: 99999999999")
    result = CliRunner().invoke(main, ["playbook", "check", str(path)])
    assert result.exit_code == 1 and f"jilin.yaml:{line}: clocks.respond_working_days" in result.output


@pytest.mark.parametrize("args", [["--working-days", "99999999999"], ["--working-days", "-1"],
                                  ["--hours", "1e300"], ["--hours", "nan"]])
def test_deadline_refuses_absurd_spans(args):
    result = CliRunner().invoke(main, ["deadline", "--start", "2026-09-30T10:00+08:00", *args])
    assert result.exit_code == 2 and "Traceback" not in result.output, result.output


def test_the_clock_itself_refuses_more_than_a_year():
    clock = WorkClock.from_playbook(load_playbook())
    start = dt.datetime(2026, 9, 30, 10, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    with pytest.raises(ClockError):
        clock.due_in_working_days(start, 10_000)
    with pytest.raises(ClockError):
        clock.due_in(start, dt.timedelta(days=400))
    assert clock.due_in_working_days(start, 7).isoformat() == "2026-10-15T17:00:00+08:00"
