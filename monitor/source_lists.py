"""Source lists from other tools: YAML, CSV, or the OPML that feed readers export.

``yuqing sources import FILE`` adds hundreds of sources at once. Each reader turns a file into
numbered candidate entries and numbered rejections; :func:`monitor.config.add_sources` then
validates every entry on its own, so one bad line costs that line and the rest are added.
OPML is parsed with entities, DTDs and network access off: a hostile export cannot read files
or expand a billion laughs.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from lxml import etree

from monitor.encoding import decode_bytes
from monitor.errors import ImportFileError
from monitor.items import host_of

CSV_FIELDS = ("name", "kind", "url", "interval", "department", "weight_class")
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._:-]+")


@dataclass
class SourceList:
    """Candidate entries and rejected lines, each with its line number in the file."""

    entries: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    rejected: list[tuple[int, str]] = field(default_factory=list)


def name_for(url: str, taken: set[str]) -> str:
    """A unique source name from the URL's host (``www.a.cn``, then ``www.a.cn-2`` …)."""
    base = _SAFE_NAME.sub("-", host_of(url) or "source").strip("-") or "source"
    name, n = base, 1
    while name in taken:
        n += 1
        name = f"{base}-{n}"
    taken.add(name)
    return name


def _clean(entry: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in entry.items() if v not in (None, "")}


def read_yaml_list(text: str) -> SourceList:
    """A YAML list of source entries, or a mapping with a ``sources`` list (a sources file)."""
    try:
        nodes = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ImportFileError(f"not YAML: {exc}") from None
    items = data.get("sources") if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise ImportFileError("expected a list of sources (or a mapping with a 'sources' list)")
    seq = nodes.value if nodes is not None and isinstance(data, list) else None
    if isinstance(data, dict) and nodes is not None:
        seq = next((v.value for k, v in nodes.value if k.value == "sources"), None)
    out = SourceList()
    for index, entry in enumerate(items):
        line = seq[index].start_mark.line + 1 if seq is not None and index < len(seq) else index + 1
        if isinstance(entry, dict):
            out.entries.append((line, _clean(entry)))
        else:
            out.rejected.append((line, "not a mapping of source fields"))
    return out


def read_csv_list(text: str) -> SourceList:
    """A CSV with a header row naming some of: name, kind, url, interval, department, weight_class."""
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames or "url" not in reader.fieldnames:
        raise ImportFileError(f"the header must name a 'url' column (known columns: {', '.join(CSV_FIELDS)})")
    out = SourceList()
    for row in reader:
        line = reader.line_num
        extra = sorted(k for k in row if k not in CSV_FIELDS and k is not None)
        if None in row or extra:
            out.rejected.append((line, f"unknown column(s) {extra}" if extra else "more cells than the header"))
            continue
        entry = _clean({k: (v or "").strip() for k, v in row.items()})
        entry.setdefault("kind", "feed")
        out.entries.append((line, entry))
    return out


def read_opml(data: bytes) -> SourceList:
    """Every ``outline`` with an ``xmlUrl`` is a feed; its title becomes part of nothing but the log."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise ImportFileError(f"not OPML: {exc}") from None
    out = SourceList()
    for node in root.iter("outline"):
        url = (node.get("xmlUrl") or "").strip()
        if not url:
            continue  # a folder
        line = node.sourceline if isinstance(node.sourceline, int) else 0
        out.entries.append((line, {"kind": "feed", "url": url}))
    return out


def read_source_list(path: Path) -> SourceList:
    """Read *path* by its suffix (.yaml/.yml, .csv, .opml/.xml); the text may be UTF-8 or GB18030."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ImportFileError(f"{path}: cannot read: {exc.strerror or exc}") from None
    suffix = path.suffix.lower()
    if suffix in (".opml", ".xml"):
        return read_opml(raw)
    text, _encoding = decode_bytes(raw)
    if suffix in (".yaml", ".yml"):
        return read_yaml_list(text)
    if suffix == ".csv":
        return read_csv_list(text)
    raise ImportFileError(f"{path}: unknown list format {suffix!r} (use .yaml, .csv or .opml)")
