"""The one item shape every source kind produces, and the helpers that build it safely.

Source kinds differ in everything (XML, JSON, HTML, spreadsheets); the pipeline
sees only :class:`NormalisedItem`. Text is plain (markup stripped, entities
decoded, scripts and styles dropped) and times are timezone-aware, so that
dedupe, classification and the SLA clocks never guess.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import functools
import hashlib
import json
import math
import re
import unicodedata
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urljoin, urlsplit

from bs4 import BeautifulSoup

from store.types import SHANGHAI

_SPACES = re.compile(r"[ \t\u3000\xa0]+")
_BLANK_LINES = re.compile(r"\n\s*\n+")
_DROP_TAGS = ("script", "style", "noscript", "template", "iframe", "object", "head")
_BLOCK_TAGS = ("br", "p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "section", "article")


@dataclass(frozen=True)
class NormalisedItem:
    """One message, post or article as every later stage sees it."""

    source: str
    external_id: str
    title: str
    text: str
    url: str | None = None
    author: str | None = None
    author_verified: bool | None = None
    author_followers: int | None = None
    published_at: dt.datetime | None = None
    reposts: int = 0
    comments: int = 0
    likes: int = 0
    dislikes: int = 0
    reply_status: str | None = None
    reply_text: str | None = None
    reply_at: dt.datetime | None = None
    repost_of_external_id: str | None = None
    links: tuple[str, ...] = ()
    raw: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def __post_init__(self) -> None:
        for name in ("published_at", "reply_at"):
            value = getattr(self, name)
            if value is not None and (value.tzinfo is None or value.utcoffset() is None):
                raise ValueError(f"{name} of item {self.external_id!r} from {self.source} has no timezone")
        if not self.external_id:
            raise ValueError(f"item from {self.source} has no id")

    @functools.cached_property
    def content_hash(self) -> str:
        """Computed once per item (dedupe, the store and the reprint finder each ask; the item is frozen)."""
        return content_hash(self.title, self.text)

    @property
    def host(self) -> str:
        return host_of(self.url)


@dataclass(frozen=True)
class FieldLimits:
    """How much of one item is kept; what is longer is cut and the cut recorded in ``raw["_cut"]``."""

    max_title_chars: int = 1_000
    max_text_chars: int = 100_000
    max_raw_bytes: int = 200_000


_SHORT_FIELDS = {"author": 255, "reply_status": 32, "repost_of_external_id": 255, "url": 4_096}


def within_limits(item: NormalisedItem, limits: FieldLimits) -> NormalisedItem:
    """*item* cut to *limits* (and to the store's column sizes), noting each cut's original size."""
    cuts: dict[str, int] = {}
    changes: dict[str, Any] = {}
    for name, limit in (("title", limits.max_title_chars), ("text", limits.max_text_chars),
                        ("reply_text", limits.max_text_chars), *_SHORT_FIELDS.items()):
        value = getattr(item, name)
        if value is not None and len(value) > limit:
            cuts[name] = len(value)
            changes[name] = value[:limit]
    if len(item.external_id) > 255:  # an id is not cut (two ids would meet) but hashed
        cuts["external_id"] = len(item.external_id)
        changes["external_id"] = "sha256:" + hashlib.sha256(item.external_id.encode("utf-8")).hexdigest()
    raw_size = len(json.dumps(item.raw, ensure_ascii=False, default=str).encode("utf-8")) if item.raw else 0
    raw = item.raw
    if raw_size > limits.max_raw_bytes:
        cuts["raw"] = raw_size
        raw = {}
    if not cuts:
        return item
    return replace(item, **changes, raw={**raw, "_cut": cuts})


def host_of(url: str | None) -> str:
    """Lower-case host of *url* without port ('' when there is none)."""
    if not url:
        return ""
    return (urlsplit(url).hostname or "").lower()


def normalise_space(text: str) -> str:
    """Collapse runs of spaces, keep single line breaks, strip the ends (characters kept as written)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _SPACES.sub(" ", text)
    text = "\n".join(line.strip() for line in text.split("\n"))
    return _BLANK_LINES.sub("\n", text).strip()


def content_hash(title: str, text: str) -> str:
    """SHA-256 of the normalised title and body: the same words hash the same anywhere."""
    basis = unicodedata.normalize("NFKC", normalise_space(title) + "\n" + normalise_space(text))
    basis = re.sub(r"\s+", " ", basis)
    return hashlib.sha256(basis.encode("utf-8")).hexdigest()


def html_to_text(markup: str | None) -> str:
    """Plain text of an HTML fragment: scripts/styles dropped, entities decoded, breaks kept."""
    if not markup:
        return ""
    if "<" not in markup and "&" not in markup:
        return normalise_space(markup)
    soup = BeautifulSoup(markup, "lxml")
    for tag in soup(_DROP_TAGS):
        tag.decompose()
    for tag in soup.find_all(_BLOCK_TAGS):
        tag.insert_before("\n")
    return normalise_space(soup.get_text())


def links_in(markup: str | None, base: str | None = None) -> tuple[str, ...]:
    """Absolute href targets in an HTML fragment (used to spot reprints that link back)."""
    if not markup or "href" not in markup:
        return ()
    soup = BeautifulSoup(markup, "lxml")
    found = []
    for anchor in soup.find_all("a", href=True):
        href = str(anchor["href"]).strip()
        if href.startswith(("http://", "https://", "/")):
            found.append(urljoin(base or "", href))
    return tuple(dict.fromkeys(found))


_CN_FORMATS = (
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y/%m/%d",
    "%Y-%m-%d",
    "%Y年%m月%d日 %H:%M:%S",
    "%Y年%m月%d日 %H:%M",
    "%Y年%m月%d日",
    "%Y.%m.%d %H:%M",
    "%Y.%m.%d",
)


def parse_time(value: Any, tz: dt.tzinfo = SHANGHAI) -> dt.datetime | None:
    """Read a time as portals, Weibo and exports write it; naive times are *tz* (Shanghai).

    Accepts ISO 8601, RFC 822 and Weibo's ``Mon Nov 23 10:00:00 +0800 2026``,
    ``2019/2/28 11:25:05`` style, Unix seconds and datetime/date objects.
    Returns None for empty values; raises ValueError for text it cannot read.
    """
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=tz)
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day, tzinfo=tz)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return dt.datetime.fromtimestamp(float(value), dt.UTC)
    text = str(value).strip()
    if text.isdigit() and len(text) >= 9:
        return dt.datetime.fromtimestamp(int(text), dt.UTC)
    for parser in (_iso, _weibo, _rfc822, _chinese):
        parsed = parser(text, tz)
        if parsed is not None:
            return parsed
    raise ValueError(f"unreadable time {text!r}")


def _iso(text: str, tz: dt.tzinfo) -> dt.datetime | None:
    try:
        parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=tz)


def _weibo(text: str, _tz: dt.tzinfo) -> dt.datetime | None:
    try:
        return dt.datetime.strptime(text, "%a %b %d %H:%M:%S %z %Y")
    except ValueError:
        return None


def _rfc822(text: str, tz: dt.tzinfo) -> dt.datetime | None:
    if not re.match(r"^[A-Za-z]{3},", text):
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=tz)


def _chinese(text: str, tz: dt.tzinfo) -> dt.datetime | None:
    for fmt in _CN_FORMATS:
        try:
            return dt.datetime.strptime(text, fmt).replace(tzinfo=tz)
        except ValueError:
            continue
    return None


MAX_COUNT = 2**31 - 1  # the store's integer columns


def to_count(value: Any, name: str = "count") -> int:
    """A count as read strictly: 12, '12', '1.2万'; ValueError naming *name* when it is not a
    finite number between 0 and the store's integer limit (an import rejects that line)."""
    if value is None or value == "":
        return 0
    if isinstance(value, bool):
        raise ValueError(f"{name}: {value!r} is not a number")
    if isinstance(value, int):
        number = float(value) if abs(value) < 10**30 else math.inf
    elif isinstance(value, float):
        number = value
    else:
        text = str(value).strip().replace(",", "").replace("+", "")
        scale = 1
        if text.endswith("万"):
            text, scale = text[:-1], 10_000
        elif text.endswith("亿"):
            text, scale = text[:-1], 100_000_000
        try:
            number = float(text) * scale
        except ValueError:
            raise ValueError(f"{name}: {str(value)[:40]!r} is not a number") from None
    if not math.isfinite(number) or not 0 <= number <= MAX_COUNT:
        raise ValueError(f"{name}: {str(value)[:40]} is out of range (0 to {MAX_COUNT})")
    return int(number)


def to_int(value: Any) -> int:
    """Engagement counts arrive as 12, '12', '1.2万', '' or None; read them as ints.

    Lenient, for polled sources: what is not a number is 0, what is out of range is capped."""
    if isinstance(value, bool):
        return 0
    try:
        return to_count(value)
    except ValueError:
        pass
    try:
        number = float(str(value).strip().replace(",", "")) if not isinstance(value, (int, float)) else value
    except (ValueError, OverflowError):
        return 0
    if isinstance(number, float) and math.isnan(number):
        return 0
    return MAX_COUNT if number > 0 else 0
