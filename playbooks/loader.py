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
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        raise PolicyFileError([Problem(name, line, "", f"YAML syntax error: {exc.problem}")]) from None
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
