"""Every package draws its exception tree once, in its ``errors.py``, and the drawing is the truth:
each exception class the package defines appears in it, under its real parent."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re

import pytest

PACKAGES = ("classifiers", "store", "monitor", "responders", "playbooks", "yuqing")
_LINE = re.compile(r"^(?P<indent>[ │]*)(?:[├└]── )?(?P<name>[A-Z]\w+)\b")


def drawing(package: str) -> dict[str, str | None]:
    """Class name → its parent in the tree drawn in ``<package>/errors.py`` (None for the root)."""
    doc = importlib.import_module(f"{package}.errors").__doc__ or ""
    lines = [line[4:] for line in doc.splitlines() if line.startswith("    ") and line.strip()]
    parents: dict[str, str | None] = {}
    stack: list[tuple[int, str]] = []
    for line in lines:
        match = _LINE.match(line)
        if match is None:
            continue
        depth = len(match.group("indent")) + (4 if "──" in line else 0)
        while stack and stack[-1][0] >= depth:
            stack.pop()
        parents[match.group("name")] = stack[-1][1] if stack else None
        stack.append((depth, match.group("name")))
    return parents


def defined(package: str) -> dict[str, type[BaseException]]:
    """Every exception class whose home module is in *package* (migrations aside)."""
    root = importlib.import_module(package)
    out: dict[str, type[BaseException]] = {}
    for info in pkgutil.walk_packages(root.__path__, f"{package}."):
        if ".migrations" in info.name:
            continue
        module = importlib.import_module(info.name)
        for name, obj in vars(module).items():
            if inspect.isclass(obj) and issubclass(obj, BaseException) and obj.__module__ == info.name:
                out[name] = obj
    return out


@pytest.mark.parametrize("package", PACKAGES)
def test_every_exception_is_drawn_under_its_real_parent(package: str) -> None:
    tree = drawing(package)
    classes = defined(package)
    roots = [name for name, parent in tree.items() if parent is None]
    assert len(roots) == 1, f"{package}/errors.py should draw one tree, found roots {roots}"
    for name, cls in classes.items():
        assert name in tree, f"{package}: {name} ({cls.__module__}) is missing from {package}/errors.py"
        parent = tree[name]
        if parent is None:
            continue
        bases = [b.__name__ for b in cls.__bases__]
        assert parent in bases, f"{package}: {name} is drawn under {parent} but derives from {bases}"
    assert set(tree) <= set(classes), f"{package}: drawn but not defined: {set(tree) - set(classes)}"
