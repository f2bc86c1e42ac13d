"""No Chinese sentence is assembled in Python under responders/ or yuqing/webdesk/: wording lives in the playbook.

An AST scan (issue 15, point 3): every string constant and f-string holding a CJK character fails
the test, except docstrings and the values of the label tables named in ``LABEL_TABLES`` and
``DESK_LABEL_TABLES`` (words, not sentences, and the one pattern that reads what a portal article
wrote; a table is a module-level assignment or a class such as an enum of labels). No module is exempt.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[2]
RESPONDERS = PROJECT / "responders"
DESK = PROJECT / "yuqing" / "webdesk"
CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")

LABEL_TABLES = {
    "actions.py": {"ACTIONS"},  # every action's button word, label and status line: the one table of them
    "cases.py": {"STATE_LABELS", "EVENT_STATUS_LABELS"},
    "clarifications.py": {"REVIEW_LABELS"},
    "clocks.py": {"DEADLINE_LABELS"},
    "consultation.py": {"PARTICIPANT_LABELS"},
    "desk.py": {"VIEW_TITLES"},
    "points.py": {"LABELS", "GROUP_LABELS"},
    # SOURCE_LINE is no wording: the regex that finds the 来源/信息来源 line of a portal article
    "submissions.py": {"STATE_LABELS", "BONUS_WORDS", "SOURCE_LINE"},
    "views.py": {"ROLE_LABELS"},
}
DESK_LABEL_TABLES = {
    "access.py": {"Role"},
    "event_page.py": {"CHANNEL_TEXT", "REPRINT_TEXT", "CURVE_TEXT"},
    "reports_page.py": {"KIND_NAMES"},
    "sources_page.py": {"PROBLEMS"},
    "svg.py": {"WORDS"},
}
ROOTS = {"responders": (RESPONDERS, LABEL_TABLES), "yuqing/webdesk": (DESK, DESK_LABEL_TABLES)}


def _docstrings(tree: ast.Module) -> set[int]:
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                out.add(id(first.value))
    return out


def _in_tables(tree: ast.Module, names: set[str]) -> set[int]:
    out = set()
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name in names:
            out.update(id(n) for n in ast.walk(node))
            continue
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        else:
            continue
        if any(isinstance(t, ast.Name) and t.id in names for t in targets):
            out.update(id(n) for n in ast.walk(value))
    return out


def chinese_in_code(path: Path, root: Path, tables: dict[str, set[str]]) -> list[str]:
    """``line: text`` for every string in *path* (under *root*) that holds CJK outside docstrings and the
    label tables *tables* names."""
    relative = path.relative_to(root).as_posix()
    tree = ast.parse(path.read_text(encoding="utf-8"))
    allowed = _docstrings(tree) | _in_tables(tree, tables.get(relative, set()))
    found = []
    for node in ast.walk(tree):
        if id(node) in allowed:
            continue
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and CJK.search(node.value):
            found.append(f"{node.lineno}: {node.value[:60]!r}")
    return found


@pytest.mark.parametrize("name", ROOTS)
def test_no_chinese_sentence_is_built_in_python(name: str) -> None:
    root, tables = ROOTS[name]
    offenders = {}
    for path in sorted(root.rglob("*.py")):
        if found := chinese_in_code(path, root, tables):
            offenders[path.relative_to(root).as_posix()] = found
    assert not offenders, f"Chinese text in Python (move it to the playbook's replies): {offenders}"


@pytest.mark.parametrize("name", ROOTS)
def test_every_label_table_named_exists(name: str) -> None:
    """A table named here but gone from its module would let a renamed one slip by unnoticed."""
    root, tables = ROOTS[name]
    missing = []
    for relative, names in tables.items():
        tree = ast.parse((root / relative).read_text(encoding="utf-8"))
        assigned = {t.id for node in tree.body if isinstance(node, (ast.Assign, ast.AnnAssign))
                    for t in (node.targets if isinstance(node, ast.Assign) else [node.target])
                    if isinstance(t, ast.Name)}
        assigned |= {node.name for node in tree.body if isinstance(node, ast.ClassDef)}
        missing += [f"{relative}: {name}" for name in sorted(names - assigned)]
    assert not missing, f"label tables named in LABEL_TABLES but not in their module: {missing}"


def test_the_scan_sees_f_strings_and_constants() -> None:
    source = 'def f(n):\n    """说明。"""\n    return f"任务 #{n} 已签收"\n'
    tree = ast.parse(source)
    hits = [n for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)
            and CJK.search(n.value) and id(n) not in _docstrings(tree)]
    assert [h.value for h in hits] == ["任务 #", " 已签收"]
