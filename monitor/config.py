"""The sources file: which sources to poll and the manners and thresholds to poll them with.

Validated with pydantic through ``playbooks.loader`` so a mistake reads
``sources.yaml:12: sources.3.options.row: field required``. Each kind checks
its own ``options`` with its own model (see ``monitor.sources``). Policy an
operator tunes (intervals, backoff cap, near-duplicate threshold, health
limits) lives here, not in code.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator

from monitor.decide import PollPolicy
from monitor.errors import RefusedURL
from monitor.fetch import FetchLimits
from monitor.items import FieldLimits
from monitor.netpolicy import NEVER
from playbooks.loader import PolicyFileError, Problem, read_yaml, validate
from playbooks.schema import Duration

_NAME = re.compile(r"^[\w.\-:]+$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FetchSection(_Strict):
    connect_timeout: float = Field(default=10.0, gt=0)
    read_timeout: float = Field(default=20.0, gt=0)
    max_bytes: int = Field(default=20_000_000, gt=0)
    per_host_concurrency: int = Field(default=2, ge=1)
    per_host_min_delay: float = Field(default=1.0, ge=0)
    total_timeout: float = Field(default=120.0, gt=0, le=3600, description="one fetch, redirects included")
    source_timeout: float = Field(default=600.0, gt=0, le=7200, description="every fetch of one poll of a source")
    max_redirects: int = Field(default=10, ge=0, le=30)
    allow_loopback: bool = True
    allow_private: bool = True

    def limits(self) -> FetchLimits:
        return FetchLimits(**self.model_dump(exclude={"source_timeout"}))


class LimitsSection(_Strict):
    """Per-field limits of a stored item (YUQING_MAX_TITLE_CHARS, _TEXT_CHARS, _RAW_BYTES fill them)."""

    max_title_chars: int = Field(default=1_000, ge=50, le=100_000)
    max_text_chars: int = Field(default=100_000, ge=1_000, le=10_000_000)
    max_raw_bytes: int = Field(default=200_000, ge=1_000, le=100_000_000)

    def limits(self) -> FieldLimits:
        return FieldLimits(**self.model_dump())


class PollingSection(_Strict):
    min_interval: Duration = dt.timedelta(minutes=5)
    max_interval: Duration = dt.timedelta(hours=6)
    backoff_base: Duration = dt.timedelta(minutes=1)
    backoff_cap: Duration = dt.timedelta(hours=6)
    jitter: float = Field(default=0.2, ge=0, lt=1)

    def policy(self) -> PollPolicy:
        return PollPolicy(**self.model_dump())


class DedupeSection(_Strict):
    """Near-duplicate policy; the threshold is measured in monitor/README.md."""

    near_duplicate_max_distance: int = Field(default=16, ge=0, le=32, description="SimHash Hamming bits to a candidate")
    min_jaccard: float = Field(
        default=0.6, gt=0, le=1, description="character-bigram overlap that confirms a candidate"
    )
    min_chars: int = Field(default=20, ge=1, description="shorter texts match only exactly")
    window: Duration = dt.timedelta(days=30)


class HealthSection(_Strict):
    failing_after: int = Field(default=3, ge=1, description="consecutive failures before a source is flagged")
    silent_factor: float = Field(default=3.0, gt=0, description="silent longer than factor × expected period")
    default_expected_period: Duration = dt.timedelta(days=2)


class SourceSpec(_Strict):
    """One source as configured; ``options`` are checked by its kind."""

    name: str = Field(min_length=1, max_length=128)
    kind: str
    url: str = Field(min_length=1)
    enabled: bool = True
    weight_class: Literal["auto", "major", "other"] = "auto"
    department: str | None = None
    interval: Duration = dt.timedelta(minutes=15)
    expected_period: Duration | None = Field(default=None, description="how often it normally posts")
    options: dict[str, Any] = Field(default_factory=dict)

    @field_validator("name")
    @classmethod
    def _plain_name(cls, name: str) -> str:
        if not _NAME.match(name):
            raise ValueError("use letters, digits, '.', '-', '_' or ':' (no spaces)")
        return name


class SourcesFile(_Strict):
    fetch: FetchSection = FetchSection()
    polling: PollingSection = PollingSection()
    dedupe: DedupeSection = DedupeSection()
    health: HealthSection = HealthSection()
    limits: LimitsSection = LimitsSection()
    sources: list[SourceSpec] = Field(default_factory=list)

    def get(self, name: str) -> SourceSpec | None:
        return next((s for s in self.sources if s.name == name), None)


def _check_sources(config: SourcesFile, lines: dict[Any, int], file: str) -> list[Problem]:
    from monitor.sources import registry

    problems: list[Problem] = []
    seen: set[str] = set()
    for index, spec in enumerate(config.sources):
        prefix = ("sources", index)
        if spec.name in seen:
            problems.append(
                Problem(
                    file, lines.get((*prefix, "name")), f"sources.{index}.name", f"duplicate source name {spec.name!r}"
                )
            )
        seen.add(spec.name)
        if spec.kind != "import":  # an import's url is a file path
            try:
                NEVER.check_url(spec.url)
            except RefusedURL as exc:
                problems.append(Problem(file, lines.get((*prefix, "url")), f"sources.{index}.url", exc.detail))
        kind = registry.get(spec.kind)
        if kind is None:
            problems.append(
                Problem(
                    file,
                    lines.get((*prefix, "kind")),
                    f"sources.{index}.kind",
                    f"unknown kind {spec.kind!r} (known: {', '.join(registry)})",
                )
            )
            continue
        sub = {path[3:]: line for path, line in lines.items() if path[:3] == (*prefix, "options")}
        try:
            validate(kind.Options, spec.options, sub, file)
        except PolicyFileError as exc:
            for p in exc.problems:
                field = f"sources.{index}.options" + (f".{p.field}" if p.field else "")
                problems.append(Problem(file, p.line or lines.get((*prefix, "options")), field, p.message))
    return problems


def parse_sources(data: object, lines: dict[Any, int], file: str) -> SourcesFile:
    """Validate already-read YAML data as a sources file, kinds' options included."""
    config = validate(SourcesFile, data, lines, file)
    problems = _check_sources(config, lines, file)
    if problems:
        raise PolicyFileError(problems)
    return config


def load_sources(path: Path) -> SourcesFile:
    """Load the sources file; a missing file is an empty configuration, not an error."""
    if not path.exists():
        return SourcesFile()
    data, lines = read_yaml(path)
    return parse_sources(data, lines, path.name)


def add_source(path: Path, entry: dict[str, Any]) -> SourceSpec:
    """Append a source to the file after validating the whole result; returns it."""
    data: dict[str, Any] = {}
    if path.exists():
        raw, _ = read_yaml(path)
        data = dict(raw) if isinstance(raw, dict) else {}
    sources = list(data.get("sources") or [])
    if any(isinstance(s, dict) and s.get("name") == entry["name"] for s in sources):
        raise PolicyFileError([Problem(path.name, None, "sources", f"a source named {entry['name']!r} exists")])
    sources.append(entry)
    data["sources"] = sources
    config = parse_sources(data, {}, path.name)
    _write(path, data)
    spec = config.get(entry["name"])
    assert spec is not None
    return spec


def add_sources(
    path: Path, entries: list[tuple[int, dict[str, Any]]], file: str
) -> tuple[list[SourceSpec], list[tuple[int, str]]]:
    """Add many sources in one write: each entry is validated on its own, so a bad one is rejected with
    its line number in *file* and the good ones are added. Returns (added, rejected)."""
    data: dict[str, Any] = {}
    if path.exists():
        raw, _ = read_yaml(path)
        data = dict(raw) if isinstance(raw, dict) else {}
    sources = list(data.get("sources") or [])
    taken = {s.get("name") for s in sources if isinstance(s, dict)}
    urls = {s.get("url") for s in sources if isinstance(s, dict)}
    added: list[SourceSpec] = []
    rejected: list[tuple[int, str]] = []
    for line, entry in entries:
        if entry.get("name") in taken:
            rejected.append((line, f"a source named {entry['name']!r} exists"))
            continue
        if entry.get("url") in urls:
            rejected.append((line, f"{entry['url']} is already a source"))
            continue
        try:
            spec = parse_sources({"sources": [entry]}, {}, file).sources[0]
        except PolicyFileError as exc:
            rejected.append(
                (line, "; ".join(f"{p.field.removeprefix('sources.0.')}: {p.message}" for p in exc.problems))
            )
            continue
        taken.add(spec.name)
        urls.add(spec.url)
        sources.append(entry)
        added.append(spec)
    if added:
        data["sources"] = sources
        parse_sources(data, {}, path.name)  # the whole file stays valid
        _write(path, data)
    return added, rejected


def set_enabled(path: Path, name: str, enabled: bool) -> None:
    """Flip a source's ``enabled`` flag in the file (the store follows on the next sync)."""
    raw, _ = read_yaml(path)
    data = dict(raw) if isinstance(raw, dict) else {}
    for entry in data.get("sources") or []:
        if isinstance(entry, dict) and entry.get("name") == name:
            entry["enabled"] = enabled
            parse_sources(data, {}, path.name)
            _write(path, data)
            return
    raise PolicyFileError([Problem(path.name, None, "sources", f"no source named {name!r}")])


def _write(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    tmp.replace(path)
