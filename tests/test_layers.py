"""The layout is the architecture: imports point one way (playbooks ← classifiers ← monitor ← responders ← yuqing),
and the store sits at the bottom: it may import only playbooks, and monitor, responders and yuqing may import it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ALLOWED = {
    "playbooks": {"playbooks"},
    "store": {"store", "playbooks"},
    "classifiers": {"classifiers", "playbooks"},
    "monitor": {"monitor", "store", "classifiers", "playbooks"},
    "responders": {"responders", "store", "monitor", "classifiers", "playbooks"},
    "yuqing": {"yuqing", "responders", "store", "monitor", "classifiers", "playbooks"},
}
OURS = {"playbooks", "store", "classifiers", "monitor", "responders", "yuqing"}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names & OURS


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_imports_point_one_way(package: str) -> None:
    wrong = {
        f"{path.relative_to(ROOT)} imports {name}"
        for path in (ROOT / package).rglob("*.py")
        for name in _imports(path) - ALLOWED[package]
    }
    assert not wrong, sorted(wrong)


def test_no_two_modules_share_a_file_name() -> None:
    """A file name says which module it is: no two packages hold a module of the same name
    (each package's ``errors.py`` and every ``__init__.py`` aside); the benchmarks too."""
    homes: dict[str, list[str]] = {}
    for package in sorted(OURS | {"bench"}):
        for path in (ROOT / package).rglob("*.py"):
            if path.name not in {"errors.py", "__init__.py"}:
                homes.setdefault(path.name, []).append(str(path.relative_to(ROOT)))
    shared = {name: sorted(paths) for name, paths in homes.items() if len(paths) > 1}
    assert not shared, shared
