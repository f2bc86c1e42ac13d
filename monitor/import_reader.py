"""Reading exports of 12345 hotline and message-board records (CSV, XLSX, JSONL).

Each row becomes a :class:`NormalisedItem` or a rejection naming its line and
reason; nothing is silently skipped. Rows without an id take their content
hash as id, so importing the same file twice adds nothing.

One bad line costs one line: a JSONL file is decoded line by line; a CSV that is
neither UTF-8 nor GB18030 is read in the closer of the two, and the lines whose
bytes do not decode are rejected. Counts are range-checked (``1e308`` or
``Infinity`` rejects that line). Text is plain by its source: it is stored as
written (only spaces are tidied), never run through an HTML parser.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from monitor.errors import ImportFileError
from monitor.items import NormalisedItem, content_hash, normalise_space, parse_time, to_count

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
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                line = raw.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError as exc:
                yield number, ValueError(f"not UTF-8 text (byte 0x{raw[exc.start]:02x} at column {exc.start + 1})")
                continue
            if not line.strip():
                continue
            try:
                yield number, json.loads(line)
            except json.JSONDecodeError as exc:
                yield number, ValueError(f"not valid JSON ({exc.msg} at column {exc.colno})")
            except RecursionError:
                yield number, ValueError("JSON nested too deeply")


_UNDECODED = re.compile("[\udc80-\udcff]")


def _decode_csv(raw: bytes) -> tuple[str, str | None]:
    """The text and, when the bytes are neither UTF-8 nor GB18030, a note on the fallback used.

    Undecodable bytes are kept as surrogate escapes so that only their lines are rejected."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding), None
        except UnicodeDecodeError:
            continue
    candidates = {enc: raw.decode(enc, errors="surrogateescape") for enc in ("utf-8-sig", "gb18030")}
    encoding = min(candidates, key=lambda enc: len(_UNDECODED.findall(candidates[enc])))
    return candidates[encoding], f"not valid UTF-8 or GB18030; read as {encoding.removesuffix('-sig')}"


def _csv_rows(path: Path) -> Iterator[tuple[int, Any]]:
    text, note = _decode_csv(path.read_bytes())
    reader = csv.DictReader(text.splitlines(keepends=True))
    try:
        fieldnames = reader.fieldnames
    except csv.Error as exc:
        raise ImportFileError(f"{path.name}: header row is not CSV ({exc})") from None
    if not fieldnames:
        raise ImportFileError(f"{path.name}: no header row")
    if any(_UNDECODED.search(name or "") for name in fieldnames):
        raise ImportFileError(f"{path.name}: the header row has bytes that are neither UTF-8 nor GB18030")
    start = 2
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield start, ValueError(f"not CSV ({exc})")
            start = reader.line_num + 1
            continue
        if any(_UNDECODED.search(str(v)) for v in row.values() if v is not None):
            yield start, ValueError(f"bytes that do not decode ({note})")
        else:
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
            yield number, {n: v for n, v in zip(names, values, strict=False) if n}
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
    title = normalise_space(str(values.get("title") or ""))
    text = normalise_space(str(values.get("text") or ""))
    if not title and not text:
        raise ValueError("no title and no text")
    reply = normalise_space(str(values.get("reply") or ""))
    external_id = str(values["id"]).strip() if values.get("id") not in (None, "") else content_hash(title, text)
    return NormalisedItem(
        source=source,
        external_id=external_id,
        title=title,
        text=text,
        url=str(values["url"]) if values.get("url") else None,
        author=str(values["author"]) if values.get("author") else None,
        published_at=parse_time(values.get("time")),
        likes=to_count(values.get("likes"), "likes"),
        dislikes=to_count(values.get("dislikes"), "dislikes"),
        reply_status=("已回复" if reply else (str(values["status"]) if values.get("status") else None)),
        reply_text=reply or None,
        reply_at=parse_time(values.get("reply_time")) if reply else None,
        raw={k: (v if isinstance(v, (str, int, float, bool)) or v is None else str(v)) for k, v in record.items()},
    )


def read_numbered(path: Path, source: str,
                  mapping: Mapping[str, str] | None = None) -> Iterator[tuple[int, NormalisedItem | Rejected]]:
    """Each row of *path* with its line number, as an item or a rejection."""
    fields = parse_mapping(mapping)
    for line, record in _rows(path):
        if isinstance(record, Exception):
            yield line, Rejected(line, str(record))
            continue
        if not isinstance(record, dict):
            yield line, Rejected(line, "not a JSON object")
            continue
        try:
            yield line, record_to_item(source, record, fields)
        except (ValueError, OverflowError, TypeError) as exc:
            yield line, Rejected(line, str(exc))


def read_file(path: Path, source: str, mapping: Mapping[str, str] | None = None) -> Iterator[NormalisedItem | Rejected]:
    """Each row of *path* as an item or a rejection with its line number."""
    for _line, row in read_numbered(path, source, mapping):
        yield row


def count_rows(path: Path) -> int | None:
    """A cheap row count for the progress bar (lines; None when unknown)."""
    if SUFFIXES.get(path.suffix.lower()) in ("jsonl", "csv") and path.exists():
        with path.open("rb") as handle:
            return sum(1 for _ in handle)
    return None
