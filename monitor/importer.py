"""Reading exports of 12345 hotline and message-board records (CSV, XLSX, JSONL).

Each row becomes a :class:`NormalisedItem` or a rejection naming its line and
reason; nothing is silently skipped. Rows without an id take their content
hash as id, so importing the same file twice adds nothing.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from monitor.errors import ImportFileError
from monitor.items import NormalisedItem, content_hash, html_to_text, parse_time, to_int

FIELDS = ("id", "title", "text", "time", "likes", "dislikes", "reply", "reply_time", "url", "author", "status")
# Column headers of the common Chinese exports, read without a --map.
ALIASES = {
    "留言编号": "id", "编号": "id", "工单编号": "id",
    "留言主题": "title", "标题": "title", "主题": "title",
    "留言详情": "text", "内容": "text", "诉求内容": "text", "body": "text", "content": "text",
    "留言时间": "time", "时间": "time", "来电时间": "time", "published_at": "time",
    "点赞数": "likes", "反对数": "dislikes",
    "答复意见": "reply", "回复内容": "reply", "答复时间": "reply_time", "回复时间": "reply_time",
    "留言用户": "author", "user": "author", "办理状态": "status",
}
SUFFIXES = {".csv": "csv", ".xlsx": "xlsx", ".jsonl": "jsonl", ".ndjson": "jsonl"}


@dataclass(frozen=True)
class Rejected:
    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


def parse_mapping(pairs: Mapping[str, str] | None) -> dict[str, str]:
    """Validate a column → field mapping given with ``--map col=field``."""
    mapping = dict(pairs or {})
    for column, field in mapping.items():
        if field not in FIELDS:
            raise ImportFileError(f"--map {column}={field}: unknown field {field!r} (use {', '.join(FIELDS)})")
    return mapping


def _rows(path: Path) -> Iterator[tuple[int, Any]]:
    kind = SUFFIXES.get(path.suffix.lower())
    if kind is None:
        raise ImportFileError(f"{path.name}: unsupported file type (use .csv, .xlsx or .jsonl)")
    if not path.exists():
        raise ImportFileError(f"{path}: file not found")
    if kind == "jsonl":
        yield from _jsonl_rows(path)
    elif kind == "csv":
        yield from _csv_rows(path)
    else:
        yield from _xlsx_rows(path)


def _jsonl_rows(path: Path) -> Iterator[tuple[int, Any]]:
    with path.open(encoding="utf-8-sig") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                yield number, json.loads(line)
            except json.JSONDecodeError as exc:
                yield number, ValueError(f"not valid JSON ({exc.msg} at column {exc.colno})")


def _csv_rows(path: Path) -> Iterator[tuple[int, Any]]:
    raw = path.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    reader = csv.DictReader(text.splitlines(keepends=True))
    if not reader.fieldnames:
        raise ImportFileError(f"{path.name}: no header row")
    start = 2
    for row in reader:
        yield start, row
        start = reader.line_num + 1


def _xlsx_rows(path: Path) -> Iterator[tuple[int, Any]]:
    from zipfile import BadZipFile

    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, BadZipFile, KeyError, OSError, ValueError) as exc:
        raise ImportFileError(f"{path.name}: not a readable XLSX workbook ({exc})") from None
    try:
        sheet = book.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        header = next(rows, None)
        if not header:
            raise ImportFileError(f"{path.name}: no header row")
        names = [str(h).strip() if h is not None else "" for h in header]
        for number, values in enumerate(rows, start=2):
            if values is None or all(v in (None, "") for v in values):
                continue
            yield number, {n: v for n, v in zip(names, values) if n}
    finally:
        book.close()


def _field_of(column: str, mapping: dict[str, str]) -> str | None:
    if column in mapping:
        return mapping[column]
    key = column.strip()
    if key in FIELDS:
        return key
    return ALIASES.get(key)


def record_to_item(source: str, record: dict[str, Any], mapping: dict[str, str]) -> NormalisedItem:
    """One row as an item; raises ValueError with a reason a person can act on."""
    values: dict[str, Any] = {}
    for column, value in record.items():
        field = _field_of(str(column), mapping)
        if field and value not in (None, ""):
            values[field] = value
    title = html_to_text(str(values.get("title") or ""))
    text = html_to_text(str(values.get("text") or ""))
    if not title and not text:
        raise ValueError("no title and no text")
    reply = html_to_text(str(values.get("reply") or ""))
    external_id = str(values["id"]).strip() if values.get("id") not in (None, "") else content_hash(title, text)
    return NormalisedItem(
        source=source,
        external_id=external_id,
        title=title,
        text=text,
        url=str(values["url"]) if values.get("url") else None,
        author=str(values["author"]) if values.get("author") else None,
        published_at=parse_time(values.get("time")),
        likes=to_int(values.get("likes")),
        dislikes=to_int(values.get("dislikes")),
        reply_status=("已回复" if reply else (str(values["status"]) if values.get("status") else None)),
        reply_text=reply or None,
        reply_at=parse_time(values.get("reply_time")) if reply else None,
        raw={k: (v if isinstance(v, (str, int, float, bool)) or v is None else str(v)) for k, v in record.items()},
    )


def read_file(path: Path, source: str, mapping: Mapping[str, str] | None = None) -> Iterator[NormalisedItem | Rejected]:
    """Each row of *path* as an item or a rejection with its line number."""
    fields = parse_mapping(mapping)
    for line, record in _rows(path):
        if isinstance(record, Exception):
            yield Rejected(line, str(record))
            continue
        if not isinstance(record, dict):
            yield Rejected(line, "not a JSON object")
            continue
        try:
            yield record_to_item(source, record, fields)
        except ValueError as exc:
            yield Rejected(line, str(exc))


def count_rows(path: Path) -> int | None:
    """A cheap row count for the progress bar (lines; None when unknown)."""
    if SUFFIXES.get(path.suffix.lower()) in ("jsonl", "csv") and path.exists():
        with path.open("rb") as handle:
            return sum(1 for _ in handle)
    return None
