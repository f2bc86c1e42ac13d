"""The playbook loader: the default file passes; each kind of mistake names file, line and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from playbooks.loader import DEFAULT_PLAYBOOK, PolicyFileError, load_playbook
from playbooks.schema import Playbook, UnitKind, parse_duration


def _broken_copy(tmp_path: Path, old: str, new: str) -> tuple[Path, int]:
    """Write jilin.yaml with *old* replaced once by *new*; return the file and that line."""
    text = DEFAULT_PLAYBOOK.read_text(encoding="utf-8")
    assert text.count(old) >= 1, old
    index = text.index(old)
    line = text.count("\n", 0, index) + 1
    path = tmp_path / "jilin.yaml"
    path.write_text(text[:index] + new + text[index + len(old):], encoding="utf-8")
    return path, line


def _only_problem(path: Path) -> str:
    with pytest.raises(PolicyFileError) as caught:
        load_playbook(path)
    assert len(caught.value.problems) == 1, caught.value.problems
    return str(caught.value.problems[0])


def test_default_playbook_encodes_the_policy(playbook: Playbook) -> None:
    assert set(playbook.categories) == {"教育", "医疗", "环保", "社保", "拆迁", "交通", "市政", "价格", "其他"}
    kinds = [d.kind for d in playbook.departments.values()]
    # 2006 document attachments: 10 cities, 42 counties, 40 departments, 104 direct units, 24 divisions
    assert kinds.count(UnitKind.city) == 10
    assert kinds.count(UnitKind.county) == 42
    assert kinds.count(UnitKind.provincial) == 40
    assert kinds.count(UnitKind.direct) == 104
    assert kinds.count(UnitKind.office_division) == 24
    assert not playbook.departments["吉林大学"].is_ranked
    assert playbook.departments["延吉市"].is_ranked
    assert playbook.clocks.respond_working_days == 7
    assert playbook.clocks.respond_extended_working_days == 15
    assert playbook.points.adopted == 5 and playbook.points.reprint_other == 0.5


def test_unknown_department_names_file_line_and_field(tmp_path: Path) -> None:
    path, line = _broken_copy(tmp_path, "lead: 省教育厅", "lead: 省教育局")
    assert _only_problem(path) == f"jilin.yaml:{line}: categories.教育.lead: unknown department '省教育局'"


def test_unknown_co_department_points_at_the_list_entry(tmp_path: Path) -> None:
    path, line = _broken_copy(tmp_path, "co: [省财政厅, 省人事厅]", "co: [省财政厅, 省人社厅]")
    assert _only_problem(path) == f"jilin.yaml:{line}: categories.教育.co.1: unknown department '省人社厅'"


def test_bad_duration(tmp_path: Path) -> None:
    path, line = _broken_copy(tmp_path, "acknowledge: 4h", "acknowledge: 4 hours")
    problem = _only_problem(path)
    assert problem.startswith(f"jilin.yaml:{line}: clocks.acknowledge: invalid duration '4 hours'")


def test_yaml_syntax_error(tmp_path: Path) -> None:
    path, line = _broken_copy(tmp_path, "  respond_working_days: 7", "  respond_working_days: [7")
    problem = _only_problem(path)
    assert problem.startswith("jilin.yaml:")
    assert "YAML syntax error" in problem
    reported = int(problem.split(":")[1])
    assert line <= reported <= line + 2


def test_unknown_field_is_a_spelling_mistake(tmp_path: Path) -> None:
    path, line = _broken_copy(tmp_path, "  respond_working_days: 7", "  respond_workdays: 7")
    problems = str(pytest.raises(PolicyFileError, load_playbook, path).value)
    assert f"jilin.yaml:{line}: clocks.respond_workdays: unknown field" in problems


def test_duplicate_department_key_is_refused(tmp_path: Path) -> None:
    path, _ = _broken_copy(
        tmp_path, "  省教育厅: {kind: provincial}", "  省教育厅: {kind: provincial}\n  省教育厅: {kind: city}"
    )
    assert "departments.省教育厅: duplicate key" in _only_problem(path)


def test_missing_file() -> None:
    with pytest.raises(PolicyFileError, match="file not found"):
        load_playbook("/nonexistent/jilin.yaml")


@pytest.mark.parametrize(("text", "seconds"), [("30m", 1800), ("4h", 14400), ("2d", 172800), (90, 90), ("1.5h", 5400)])
def test_durations(text: object, seconds: int) -> None:
    assert parse_duration(text).total_seconds() == seconds


@pytest.mark.parametrize("bad", ["4 hours", "-1h", True, "h", -5])
def test_bad_durations(bad: object) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(bad)


def test_place_index_prefers_longer_names(playbook: Playbook) -> None:
    index = playbook.place_index()
    assert index["长春市"] == "长春市政府"
    assert index["延吉"] == "延吉市"
    names = list(index)
    assert names.index("长白朝鲜族自治县") < names.index("长白山")


def test_heat_parts_must_all_be_given(tmp_path: Path) -> None:
    path, line = _broken_copy(
        tmp_path,
        "caps: {volume: 25, velocity: 20, engagement: 15, reprints: 15}",
        "caps: {volume: 25, velocity: 20, engagement: 15}",
    )
    with pytest.raises(PolicyFileError) as caught:
        load_playbook(path)
    assert "caps must name exactly the parts" in str(caught.value)
    assert str(caught.value).startswith("jilin.yaml:")


def test_the_tokenizer_is_one_the_classifiers_have(tmp_path: Path) -> None:
    path, line = _broken_copy(tmp_path, "tokenizer: rjieba", "tokenizer: pkuseg")
    problem = _only_problem(path)
    assert problem.startswith(f"jilin.yaml:{line}: tokenizer: ")
    assert "'jieba' or 'rjieba'" in problem
    path, _ = _broken_copy(tmp_path, "tokenizer: rjieba", "tokenizer: jieba")
    assert load_playbook(path).tokenizer == "jieba"
