"""Import sources: a CSV/XLSX/JSONL export read as if it were polled (same pipeline).

The source's ``url`` is a file path (or ``file://`` URL). Polling re-reads the
file; items already stored are recognised by id and add nothing. Rows that
cannot be read come back as warnings naming their line.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field, field_validator

from monitor.config import SourceSpec
from monitor.errors import ImportFileError, ParseError
from monitor.import_reader import FIELDS, Rejected, read_file
from monitor.items import NormalisedItem
from monitor.sources import FetchContext, FetchOutcome, register


class ImportOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    map: dict[str, str] = Field(default_factory=dict, description="column → field")

    @field_validator("map")
    @classmethod
    def _known(cls, mapping: dict[str, str]) -> dict[str, str]:
        bad = {c: f for c, f in mapping.items() if f not in FIELDS}
        if bad:
            raise ValueError(f"unknown field(s) in map {bad}; use {', '.join(FIELDS)}")
        return mapping


def path_of(url: str) -> Path:
    return Path(url.removeprefix("file://"))


def read_all(spec: SourceSpec, path: Path, options: ImportOptions) -> tuple[list[NormalisedItem], list[Rejected]]:
    items: list[NormalisedItem] = []
    rejected: list[Rejected] = []
    for row in read_file(path, spec.name, options.map):
        (rejected if isinstance(row, Rejected) else items).append(row)  # type: ignore[arg-type]
    return items, rejected


class ImportKind:
    name: ClassVar[str] = "import"
    Options: ClassVar[type[BaseModel]] = ImportOptions

    async def fetch(self, spec: SourceSpec, ctx: FetchContext) -> FetchOutcome:
        options = ImportOptions.model_validate(spec.options)
        path = path_of(spec.url)
        try:
            items, rejected = await asyncio.to_thread(read_all, spec, path, options)
        except ImportFileError as exc:
            raise ParseError(str(exc), source=spec.name, url=spec.url) from None
        return FetchOutcome(items=items, warnings=[f"{path.name} {r}" for r in rejected])


register(ImportKind())
