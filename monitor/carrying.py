"""Does one item carry another's content? Near-duplicate text or a link to its URL.

Clarification tracking (does the answer spread?) and policy-reprint compliance
(did each subordinate site carry the State Council notice?) ask the same
question of stored items, so the decision lives here once. Pure: plain values
in, a :class:`Carriage` or ``None`` out; thresholds come from the sources
file's ``dedupe`` section, host weights from the playbook's ``source_weights``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from classifiers.signatures import canonical, distance, jaccard, simhash

if TYPE_CHECKING:  # a type only: importing the sources file's schema pulls in httpx and bs4
    from monitor.config import DedupeSection


@dataclass(frozen=True)
class Text:
    """What matching needs of an item: its URL, text and (possibly stored) signature."""

    url: str | None
    body: str
    signature: int | None = None
    raw: Any = None

    def sig(self) -> int | None:
        return self.signature if self.signature is not None else simhash(self.body)


@dataclass(frozen=True)
class Carriage:
    """How a candidate carries the original: ``method`` is ``link`` or ``near_duplicate``."""

    method: str
    similarity: float


def host_of(url: str | None) -> str:
    """Lower-case host of *url*, '' when there is none."""
    if not url:
        return ""
    try:
        return (urlsplit(url.strip()).hostname or "").lower()
    except ValueError:
        return ""


def normalise_url(url: str) -> str:
    """Compare URLs without scheme, ``www.``, trailing slash or fragment."""
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower().removeprefix("www.")
    path = parts.path.rstrip("/")
    query = f"?{parts.query}" if parts.query else ""
    return f"{host}{path}{query}"


def same_url(a: str | None, b: str | None) -> bool:
    return bool(a and b) and normalise_url(a or "") == normalise_url(b or "")


def links_to(candidate: Text, url: str | None) -> bool:
    """The candidate's text or raw payload mentions the original's URL."""
    if not url:
        return False
    target = normalise_url(url)
    if not target or "/" not in target:
        return False  # a bare host would match every page of the site
    haystack = candidate.body
    if candidate.raw is not None:
        haystack += " " + json.dumps(candidate.raw, ensure_ascii=False, default=str)
    haystack = haystack.replace("\\/", "/")
    return target in haystack.replace("https://", "").replace("http://", "").replace("www.", "")


def carries(original: Text, candidate: Text, dedupe: DedupeSection) -> Carriage | None:
    """Whether *candidate* carries *original* (never itself: same URL is not a reprint)."""
    if same_url(original.url, candidate.url):
        return None
    if links_to(candidate, original.url):
        return Carriage("link", 1.0)
    a, b = canonical(original.body), canonical(candidate.body)
    if not a or not b:
        return None
    if min(len(a), len(b)) < dedupe.min_chars:
        return Carriage("near_duplicate", 1.0) if a == b else None
    sig_a, sig_b = original.sig(), candidate.sig()
    if sig_a is None or sig_b is None:
        return None
    if distance(sig_a, sig_b) > dedupe.near_duplicate_max_distance:
        return None
    # SimHash only picks candidates; the bigram overlap confirms them (the rule monitor.dedupe uses,
    # measured in monitor/README.md), or short texts sharing a template would count as reprints.
    overlap = jaccard(a, b)
    return Carriage("near_duplicate", overlap) if overlap >= dedupe.min_jaccard else None
