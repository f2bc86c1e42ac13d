"""Turn records (plain dicts) into the columns our pipelines vectorise.

Pipelines take the records other stages already hold — ``{"title", "text",
"reposts": [{"text", "time"}], "user": {...}}`` — so callers never build
feature arrays themselves, and training and prediction cannot drift apart.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

SHANGHAI = dt.timezone(dt.timedelta(hours=8))

# Words with which readers doubt, debunk or ask to verify a post.
DOUBT_WORDS: tuple[str, ...] = (
    "谣言",
    "辟谣",
    "假的",
    "求证",
    "不实",
    "真的吗",
    "真假",
    "是真的",
    "假消息",
    "造谣",
    "传谣",
    "谣",
    "骗",
    "假",
    "不信",
    "别信",
    "求真相",
    "已证实",
    "证实",
    "官方",
    "澄清",
    "网传",
    "?",
    "？",
)
_DOUBT = re.compile("|".join(re.escape(w) for w in DOUBT_WORDS))
_URL = re.compile(r"https?://\S+")
_MENTION = re.compile(r"@[\w\u4e00-\u9fff-]{1,30}")

# Spread numbers that carry over between datasets. Raw reaction counts and
# first-hour counts were dropped: they depend on how a source was collected
# (CED keeps 100 reactions, CHECKED 50) and trained a CED model to call
# almost every COVID post a rumour (cross-dataset accuracy 0.06).
NUMERIC_FEATURES: tuple[str, ...] = (
    "log_velocity_per_hour",
    "doubt_share",
    "doubt_any",
    "verified",  # NaN when the source has no user data: imputed, never read as "not verified"
    "log_followers",  # NaN when unknown, same reason
)


def field_text(record: Mapping[str, Any], name: str) -> str:
    """A text field as a string (missing or null → empty)."""
    value = record.get(name)
    return "" if value is None else str(value)


class TextColumns(BaseEstimator, TransformerMixin):
    """Select text fields of records as columns of an object array."""

    def __init__(self, fields: Sequence[str] = ("title", "text")) -> None:
        self.fields = fields

    def fit(self, records: Sequence[Mapping[str, Any]], y: Any = None) -> TextColumns:
        return self

    def transform(self, records: Sequence[Mapping[str, Any]]) -> np.ndarray:
        out = np.empty((len(records), len(self.fields)), dtype=object)
        for i, record in enumerate(records):
            for j, name in enumerate(self.fields):
                out[i, j] = field_text(record, name)
        return out


def parse_time(value: Any) -> dt.datetime | None:
    """Datetimes in the forms Weibo exports use; naive local times are Beijing time."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=SHANGHAI)
    if isinstance(value, (int, float)):
        return dt.datetime.fromtimestamp(float(value), dt.UTC)
    text = str(value).strip()
    if text.isdigit():
        return dt.datetime.fromtimestamp(float(text), dt.UTC)
    try:  # fast path: ISO-like "YYYY-MM-DD HH:MM[:SS]", the common case
        parsed = dt.datetime.fromisoformat(text)
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=SHANGHAI)
    except ValueError:
        pass
    for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M:%S", "%a %b %d %H:%M:%S %z %Y"):
        try:
            parsed = dt.datetime.strptime(text, fmt)
        except ValueError:
            continue
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=SHANGHAI)
    return None


def reactions(record: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """Reposts and comments of a post, whichever the source provides."""
    out: list[Mapping[str, Any]] = []
    for key in ("reposts", "comments"):
        value = record.get(key)
        if isinstance(value, list):
            out.extend(r for r in value if isinstance(r, Mapping))
    return out


def within(record: Mapping[str, Any], hours: float | None) -> dict[str, Any]:
    """A copy of ``record`` keeping only reactions within ``hours`` of the post (None: all)."""
    if hours is None:
        return dict(record)
    start = parse_time(record.get("time"))
    out = dict(record)
    for key in ("reposts", "comments"):
        value = record.get(key)
        if not isinstance(value, list):
            continue
        if start is None:
            out[key] = []
            continue
        limit = start + dt.timedelta(hours=hours)
        kept = []
        for r in value:
            when = parse_time(r.get("time")) if isinstance(r, Mapping) else None
            if when is not None and when <= limit:
                kept.append(r)
        out[key] = kept
    return out


def clean_reaction(text: str) -> str:
    """Drop links, @mentions and the repost chain (//@…) which name people, not content."""
    text = text.split("//@", 1)[0]
    return _MENTION.sub(" ", _URL.sub(" ", text)).strip()


def reaction_text(record: Mapping[str, Any]) -> str:
    """All non-empty reaction texts, one per line."""
    texts = (clean_reaction(field_text(r, "text")) for r in reactions(record))
    return "\n".join(t for t in texts if t)


def _user_numbers(record: Mapping[str, Any]) -> tuple[float, float]:
    """(verified, log followers), NaN when the source does not say."""
    user = record.get("user")
    if not isinstance(user, Mapping) or "followers" not in user:
        return math.nan, math.nan
    verified = 1.0 if user.get("verified") in (True, 1, "true", "True") else 0.0
    try:
        followers = math.log1p(max(float(user.get("followers") or 0), 0.0))
    except (TypeError, ValueError):
        followers = math.nan
    return verified, followers


def spread_numbers(record: Mapping[str, Any]) -> list[float]:
    """Numeric spread features in the order of :data:`NUMERIC_FEATURES`."""
    items = reactions(record)
    start = parse_time(record.get("time"))
    times = [t for t in (parse_time(r.get("time")) for r in items) if t is not None]
    if times and start is not None:
        span_h = max((max(times) - start).total_seconds() / 3600.0, 0.25)
        velocity = len(times) / span_h
    else:
        velocity = 0.0
    nonempty = [t for t in (clean_reaction(field_text(r, "text")) for r in items) if t]
    doubting = sum(1 for t in nonempty if _DOUBT.search(t))
    verified, followers = _user_numbers(record)
    return [
        math.log1p(velocity),
        doubting / len(nonempty) if nonempty else 0.0,
        1.0 if doubting else 0.0,
        verified,
        followers,
    ]


class RecordColumns(BaseEstimator, TransformerMixin):
    """Records → [post text, reaction text, numeric spread features...] columns.

    ``use_reactions=False`` blanks reactions and their numbers (the "no reposts"
    model: post text plus what is known about the author at posting time).
    """

    def __init__(self, use_reactions: bool = True) -> None:
        self.use_reactions = use_reactions

    def fit(self, records: Sequence[Mapping[str, Any]], y: Any = None) -> RecordColumns:
        return self

    def transform(self, records: Sequence[Mapping[str, Any]]) -> np.ndarray:
        width = 2 + len(NUMERIC_FEATURES)
        out = np.empty((len(records), width), dtype=object)
        for i, record in enumerate(records):
            title = field_text(record, "title")
            text = field_text(record, "text")
            out[i, 0] = f"{title}\n{text}" if title else text
            out[i, 1] = reaction_text(record) if self.use_reactions else ""
            numbers = spread_numbers(record)
            if not self.use_reactions:  # keep only what is known at posting time: the author
                numbers = [0.0, 0.0, 0.0, *numbers[3:]]
            out[i, 2:] = numbers
        return out
