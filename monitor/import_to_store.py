"""``yuqing import``: a file of exported records through the same pipeline as polled items.

Imported rows land under an ``import`` source (created on first use), are
deduplicated by id and content like any other item, so re-importing the same
file adds nothing, and a record re-imported with the same id and changed text
updates the stored item and records the change. Returns a summary with every
rejected row's line and reason.

Rows are committed in batches. A batch the store refuses is retried row by row,
so only the rows at fault are rejected; if the import stops half-way (the store
went away, the process was killed), everything committed stays, and running the
same import again resumes: stored rows are skipped.
"""

from __future__ import annotations

import datetime as dt
import logging
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from tqdm import tqdm

from monitor.errors import ImportFileError
from monitor.import_reader import Rejected, count_rows, parse_mapping, read_numbered
from monitor.items import NormalisedItem
from monitor.pipeline import Pipeline
from store.database import session_scope
from store.models import Source

log = logging.getLogger(__name__)
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
    committed_through: int = 0  # the last line whose batch is in the store

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
    batch: list[tuple[int, NormalisedItem]] = []
    try:
        for line, row in read_numbered(path, name, fields):
            summary.read += 1
            bar.update(1)
            if isinstance(row, Rejected):
                summary.rejected.append(row)
                continue
            batch.append((line, row))
            if len(batch) >= BATCH:
                _store_batch(sessions, pipeline, name, path, batch, now, summary)
                batch = []
        if batch:
            _store_batch(sessions, pipeline, name, path, batch, now, summary)
    except ImportFileError:
        raise
    except Exception as exc:
        log.exception("import of %s stopped", path)
        kept = (f"rows through line {summary.committed_through} are stored ({summary.new} new)"
                if summary.committed_through else "nothing was stored")
        raise ImportFileError(f"{path.name}: import stopped ({exc.__class__.__name__}: {str(exc)[:200]}); {kept}. "
                              f"Run the same import again to resume: stored rows are skipped.") from None
    finally:
        bar.close()
    return summary


def _store_batch(sessions: sessionmaker[Session], pipeline: Pipeline, name: str, path: Path,
                 batch: list[tuple[int, NormalisedItem]], now: dt.datetime, summary: ImportSummary) -> None:
    """Store a batch; if the store refuses it, store row by row so only the bad rows are rejected."""
    try:
        _store(sessions, pipeline, name, path, [item for _line, item in batch], now, summary)
    except Exception as exc:
        if len(batch) == 1 or not _is_row_fault(exc):
            if len(batch) == 1 and _is_row_fault(exc):
                summary.rejected.append(
                    Rejected(batch[0][0], f"the store refused it ({str(exc).splitlines()[0][:160]})")
                )
                summary.committed_through = batch[0][0]
                return
            raise
        for line, item in batch:
            _store_batch(sessions, pipeline, name, path, [(line, item)], now, summary)
        return
    summary.committed_through = batch[-1][0]


def _is_row_fault(exc: Exception) -> bool:
    """A fault of the data (a value the store cannot hold), not of the store being unreachable."""
    from sqlalchemy.exc import DataError, IntegrityError, OperationalError, StatementError

    if isinstance(exc, OperationalError):
        return False
    return isinstance(exc, (DataError, IntegrityError, StatementError, ValueError, OverflowError))


def _store(
    sessions: sessionmaker[Session],
    pipeline: Pipeline,
    name: str,
    path: Path,
    batch: list[NormalisedItem],
    now: dt.datetime,
    summary: ImportSummary,
) -> None:
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
