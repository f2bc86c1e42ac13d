"""``yuqing import``: a file of exported records through the same pipeline as polled items.

Imported rows land under an ``import`` source (created on first use), are
deduplicated by id and content like any other item, so re-importing the same
file adds nothing. Returns a summary with every rejected row's line and reason.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from tqdm import tqdm

from monitor.importer import Rejected, count_rows, parse_mapping, read_file
from monitor.items import NormalisedItem
from monitor.pipeline import Pipeline
from monitor.store.database import session_scope
from monitor.store.models import Source

BATCH = 500


@dataclass
class ImportSummary:
    file: str
    source: str
    read: int = 0
    new: int = 0
    updated: int = 0
    duplicates: int = 0
    rejected: list[Rejected] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [(f"{self.file} → {self.source}: read {self.read}, new {self.new}, updated {self.updated}, "
                f"duplicates {self.duplicates}, rejected {len(self.rejected)}")]
        out += [f"  rejected {r}" for r in self.rejected]
        return out


def import_source(session: Session, name: str, path: Path) -> Source:
    """The import source *name*, created (kind ``import``) if it does not exist yet."""
    row = session.scalars(select(Source).where(Source.name == name)).first()
    if row is None:
        row = Source(name=name, kind="import", url=str(path.resolve()), host="", weight_class="other",
                     config={"kind": "import", "url": str(path.resolve())})
        session.add(row)
        session.flush()
    return row


def import_file(
    sessions: sessionmaker[Session],
    pipeline: Pipeline,
    path: Path,
    now: dt.datetime,
    *,
    source: str | None = None,
    mapping: Mapping[str, str] | None = None,
    progress: TextIO | None = None,
) -> ImportSummary:
    """Read *path* and store its rows in batches; a progress bar shows on a terminal."""
    fields = parse_mapping(mapping)
    name = source or f"import:{path.stem}"
    summary = ImportSummary(path.name, name)
    stream = progress if progress is not None else sys.stderr
    bar = tqdm(total=count_rows(path), unit="row", file=stream, disable=not stream.isatty(), desc=path.name)
    batch: list[NormalisedItem] = []
    try:
        for row in read_file(path, name, fields):
            summary.read += 1
            bar.update(1)
            if isinstance(row, Rejected):
                summary.rejected.append(row)
                continue
            batch.append(row)
            if len(batch) >= BATCH:
                _store(sessions, pipeline, name, path, batch, now, summary)
                batch = []
        if batch:
            _store(sessions, pipeline, name, path, batch, now, summary)
    finally:
        bar.close()
    return summary


def _store(sessions: sessionmaker[Session], pipeline: Pipeline, name: str, path: Path,
           batch: list[NormalisedItem], now: dt.datetime, summary: ImportSummary) -> None:
    with session_scope(sessions) as session:
        row = import_source(session, name, path)
        result = pipeline.process(session, row, batch, now)
        if result.new:
            row.items_total += result.new
            row.last_new_item_at = now
        row.last_success_at = now
    summary.new += result.new
    summary.updated += result.updated
    summary.duplicates += result.duplicates + result.unchanged
