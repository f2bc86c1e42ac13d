"""Load YAML policy files into typed models, with errors that name file, line and field.

A duty officer who mistypes a department in the playbook must be told
``jilin.yaml:42: categories.教育.lead: unknown department '省教育局'``, not shown
a traceback. The same loader validates the sources file and the members file.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from playbooks.errors import PlaybookError
from playbooks.schema import Playbook

Model = TypeVar("Model", bound=BaseModel)
Path_ = tuple[str | int, ...]

DEFAULT_PLAYBOOK = Path(__file__).with_name("jilin.yaml")
MAX_NODES = 200_000  # values in a policy file once its aliases are expanded (jilin.yaml has a few thousand)


@dataclass(frozen=True)
class Problem:
    """One mistake in a policy file."""

    file: str
    line: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"


class PolicyFileError(PlaybookError):
    """A policy file (playbook, sources, members) could not be used; lists every problem."""

    def __init__(self, problems: Sequence[Problem]):
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


def _dotted(path: Iterable[str | int]) -> str:
    return ".".join(str(part) for part in path)


def _line_map(node: yaml.Node, path: Path_, lines: dict[Path_, int], dupes: list[tuple[Path_, int]]) -> None:
    """Record the 1-based line of every value in the YAML tree, and duplicate keys."""
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = key_node.value
            child = (*path, key)
            if key in seen:
                dupes.append((child, key_node.start_mark.line + 1))
            seen.add(key)
            lines[child] = key_node.start_mark.line + 1
            _line_map(value_node, child, lines, dupes)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _line_map(item, (*path, index), lines, dupes)


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _check_aliases(root: yaml.Node, name: str) -> None:
    """Refuse an anchor that contains itself and aliases that expand past MAX_NODES (an alias bomb),
    before anything walks or validates the expanded tree."""
    sizes: dict[int, int] = {}
    on_path: set[int] = set()
    # iterative depth-first walk: (node, children visited?)
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        if done:
            on_path.discard(key)
            sizes[key] = 1 + sum(sizes[id(child)] for child in _children(node))
            if sizes[key] > MAX_NODES:
                raise PolicyFileError([Problem(name, node.start_mark.line + 1, "",
                                               f"aliases expand to more than {MAX_NODES:,} values; refused")])
            continue
        if key in sizes:
            continue
        if key in on_path:
            raise PolicyFileError([Problem(name, node.start_mark.line + 1, "",
                                           "recursive alias: an anchor refers to itself; refused")])
        on_path.add(key)
        stack.append((node, True))
        for child in _children(node):
            if id(child) in on_path:
                raise PolicyFileError([Problem(name, child.start_mark.line + 1, "",
                                               "recursive alias: an anchor refers to itself; refused")])
            if id(child) not in sizes:
                stack.append((child, False))


def _line_for(path: Sequence[str | int], lines: dict[Path_, int]) -> int | None:
    """The line of the deepest part of *path* that the file actually has."""
    parts = tuple(path)
    while parts:
        if parts in lines:
            return lines[parts]
        # pydantic stringifies dict keys that YAML read as numbers or dates
        alt = next((k for k in lines if len(k) == len(parts) and _dotted(k) == _dotted(parts)), None)
        if alt is not None:
            return lines[alt]
        parts = parts[:-1]
    return lines.get((), None)


# libyaml's safe loader parses the playbook ten times faster than the pure-Python one; the same rules
SAFE_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_yaml(path: Path) -> tuple[object, dict[Path_, int]]:
    """Parse *path*; return the data and a map from field path to line."""
    name = path.name
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PolicyFileError([Problem(str(path), None, "", "file not found")]) from None
    except UnicodeDecodeError as exc:
        raise PolicyFileError([Problem(name, None, "", f"not UTF-8 text ({exc.reason})")]) from None
    try:
        node = yaml.compose(text, Loader=SAFE_LOADER)
        if node is not None:
            _check_aliases(node, name)
        data = yaml.load(text, Loader=SAFE_LOADER)  # noqa: S506 - a safe loader (libyaml's when present)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        if "nesting depth" in str(exc.problem):  # libyaml's own limit
            raise PolicyFileError([Problem(name, line, "", "nested too deeply to be a policy file")]) from None
        raise PolicyFileError([Problem(name, line, "", f"YAML syntax error: {exc.problem}")]) from None
    except RecursionError:
        raise PolicyFileError([Problem(name, None, "", "nested too deeply to be a policy file")]) from None
    lines: dict[Path_, int] = {}
    dupes: list[tuple[Path_, int]] = []
    if node is not None:
        _line_map(node, (), lines, dupes)
    if dupes:
        raise PolicyFileError([Problem(name, line, _dotted(p), "duplicate key") for p, line in dupes])
    return data, lines


def _message(error: ErrorDetails) -> str:
    msg = str(error["msg"])
    for prefix in ("Value error, ", "Assertion failed, "):
        msg = msg.removeprefix(prefix)
    if error["type"] == "extra_forbidden":
        return "unknown field (check the spelling)"
    return msg


def validate(model: type[Model], data: object, lines: dict[Path_, int], file: str) -> Model:
    """Validate *data* against *model*, turning pydantic errors into located problems."""
    try:
        return model.model_validate(data if data is not None else {})
    except ValidationError as exc:
        problems = [
            Problem(file, _line_for(err["loc"], lines), _dotted(err["loc"]), _message(err))
            for err in exc.errors()
        ]
        raise PolicyFileError(problems) from None


def load_model(model: type[Model], path: Path) -> Model:
    """Read and validate one YAML file as *model*."""
    data, lines = read_yaml(path)
    return validate(model, data, lines, path.name)


def load_playbook(path: Path | str | None = None) -> Playbook:
    """Load and fully check a playbook, cross-references included."""
    path = Path(path) if path else DEFAULT_PLAYBOOK
    data, lines = read_yaml(path)
    playbook = validate(Playbook, data, lines, path.name)
    problems = [
        Problem(path.name, _line_for(loc, lines), _dotted(loc), message)
        for loc, message in playbook.cross_reference_problems()
    ]
    if problems:
        raise PolicyFileError(problems)
    return playbook
