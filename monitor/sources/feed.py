"""RSS 0.9x/1.0/2.0 and Atom feeds, fetched with httpx and parsed by feedparser from bytes."""

from __future__ import annotations

import calendar
import datetime as dt
from typing import Any, ClassVar

import feedparser
from pydantic import BaseModel, ConfigDict

from monitor.config import SourceSpec
from monitor.errors import ParseError
from monitor.items import NormalisedItem, content_hash, html_to_text, links_in, normalise_space
from monitor.sources import FetchContext, FetchOutcome, register

# bozo exceptions that only mean "the declared encoding was overridden": harmless
_HARMLESS = (feedparser.CharacterEncodingOverride,)


class FeedOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    use_summary: bool = True


def _struct_time(entry: Any, *keys: str) -> dt.datetime | None:
    for key in keys:
        value = entry.get(key)
        if value:
            return dt.datetime.fromtimestamp(calendar.timegm(value), dt.UTC)
    return None


def _body(entry: Any) -> str:
    contents = entry.get("content") or []
    if contents:
        return "\n".join(str(c.get("value", "")) for c in contents)
    return str(entry.get("summary") or entry.get("description") or "")


def _plain(entry: Any, name: str) -> bool:
    """True when the feed declares the field plain text (Atom ``type="text"``): kept as written, not parsed as HTML."""
    if name == "content" and entry.get("content"):
        return all(c.get("type") == "text/plain" for c in entry["content"])
    detail = entry.get(f"{name}_detail") or {}
    return detail.get("type") == "text/plain"


def _text(value: str, plain: bool) -> str:
    return normalise_space(value) if plain else html_to_text(value)


def entry_to_item(source: str, entry: Any, base_url: str) -> NormalisedItem:
    """One feed entry as a normalised item; the id falls back to link, then content."""
    markup = _body(entry)
    title = _text(entry.get("title") or "", _plain(entry, "title"))
    text = _text(markup, _plain(entry, "content" if entry.get("content") else "summary"))
    link = entry.get("link") or None
    external_id = str(entry.get("id") or link or content_hash(title, text))
    raw = {k: v for k, v in entry.items() if isinstance(v, (str, int, float, bool)) or v is None}
    return NormalisedItem(
        source=source,
        external_id=external_id[:255],
        title=title,
        text=text,
        url=link,
        author=entry.get("author") or None,
        published_at=_struct_time(entry, "published_parsed", "updated_parsed", "created_parsed"),
        links=tuple(u for u in links_in(markup, link or base_url) if u != link),
        raw={"entry": raw, "content": markup},
    )


def parse_feed(
    source: str, url: str, content: bytes, content_type: str | None
) -> tuple[list[NormalisedItem], list[str], bool]:
    """Parse feed bytes; return (items, warnings, complete). Raise ParseError if nothing usable."""
    headers = {"content-type": content_type} if content_type else {}
    parsed = feedparser.parse(content, response_headers=headers)
    complete = True
    warnings: list[str] = []
    if parsed.get("bozo") and not isinstance(parsed.get("bozo_exception"), _HARMLESS):
        problem = parsed.get("bozo_exception")
        if not parsed.entries:
            raise ParseError(f"not a readable RSS/Atom feed: {problem}", source=source, url=url)
        complete = False
        # the entry the fault cut through may be incomplete: the next full fetch brings it whole
        entries = parsed.entries[:-1]
        warnings.append(f"feed is malformed ({problem}); kept {len(entries)} complete entries before the fault")
        return [entry_to_item(source, e, url) for e in entries], warnings, complete
    if not parsed.entries and not parsed.get("version") and not parsed.feed:
        raise ParseError("response is not an RSS or Atom feed", source=source, url=url)
    items = [entry_to_item(source, e, url) for e in parsed.entries]
    return items, warnings, complete


class FeedKind:
    name: ClassVar[str] = "feed"
    Options: ClassVar[type[BaseModel]] = FeedOptions

    async def fetch(self, spec: SourceSpec, ctx: FetchContext) -> FetchOutcome:
        response = await ctx.fetcher.get(spec.url, etag=ctx.etag, last_modified=ctx.last_modified, source=spec.name)
        if response.not_modified:
            return FetchOutcome(not_modified=True, etag=ctx.etag, last_modified=ctx.last_modified)
        items, warnings, complete = parse_feed(spec.name, spec.url, response.content, response.content_type)
        return FetchOutcome(
            items=items,
            etag=response.etag,
            last_modified=response.last_modified,
            warnings=warnings,
            keep_validators=complete,
        )


register(FeedKind())
