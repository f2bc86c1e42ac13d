"""Government message boards (领导留言板, 市长信箱): HTML list + detail pages, or JSON list APIs.

Pagination walks list pages until a page shows a message we already hold
(or ``max_pages``). Messages we hold without an official reply are fetched
again when they appear on a visited page, so a reply that arrives later
updates the stored item; the pipeline records that as an ``ItemChange``.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar, Literal
from urllib.parse import urljoin

import soupsieve
from bs4 import BeautifulSoup, Tag
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from soupsieve import SelectorSyntaxError

from monitor.config import SourceSpec
from monitor.errors import ParseError, SourceError
from monitor.items import NormalisedItem, content_hash, html_to_text, links_in, parse_time, to_int
from monitor.sources import FetchContext, FetchOutcome, register
from monitor.sources.jsonmap import check_paths, compile_paths, extract, parse_json

REPLIED = "已回复"
PENDING = "未回复"
DETAIL_FIELDS = ("title", "body", "time", "status", "reply", "reply_time", "author")
JSON_FIELDS = ("id", "title", "text", "time", "status", "reply", "reply_time", "url", "author", "likes", "dislikes")


def _check_css(selector: str) -> str:
    try:
        soupsieve.compile(selector)
    except SelectorSyntaxError as exc:
        raise ValueError(f"bad CSS selector {selector!r}: {exc}") from None
    return selector


class PortalOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    mode: Literal["html", "json"] = "html"
    max_pages: int = Field(5, ge=1, le=200)
    replied_words: list[str] = Field(default_factory=lambda: ["已回复", "已答复", "已办结", "已处理"])
    # html
    row: str | None = Field(None, description="CSS selector of one message row on a list page")
    link: str = "a"
    next_page: str | None = Field(None, description="CSS selector of the next-page link")
    id_pattern: str = Field(r"(\d+)\D*$", description="regex on the detail URL; group 1 is the message id")
    detail: dict[str, str] = Field(default_factory=dict)
    # json
    items: str | None = Field(None, description="JMESPath to the list of messages")
    fields: dict[str, str] = Field(default_factory=dict)
    page_param: str | None = None
    first_page: int = 1

    @field_validator("row", "link", "next_page")
    @classmethod
    def _css(cls, value: str | None) -> str | None:
        return _check_css(value) if value else value

    @field_validator("detail")
    @classmethod
    def _detail(cls, detail: dict[str, str]) -> dict[str, str]:
        unknown = set(detail) - set(DETAIL_FIELDS)
        if unknown:
            raise ValueError(f"unknown detail field(s) {sorted(unknown)}; use {', '.join(DETAIL_FIELDS)}")
        for selector in detail.values():
            _check_css(selector)
        return detail

    @field_validator("id_pattern")
    @classmethod
    def _regex(cls, pattern: str) -> str:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ValueError(f"bad regular expression: {exc}") from None
        return pattern

    @field_validator("fields")
    @classmethod
    def _json_fields(cls, fields: dict[str, str]) -> dict[str, str]:
        unknown = set(fields) - set(JSON_FIELDS)
        if unknown:
            raise ValueError(f"unknown field(s) {sorted(unknown)}; use {', '.join(JSON_FIELDS)}")
        return check_paths(fields)

    @model_validator(mode="after")
    def _mode_needs(self) -> PortalOptions:
        if self.mode == "html" and (not self.row or "body" not in self.detail):
            raise ValueError("html mode needs 'row' and at least detail.body")
        if self.mode == "json" and (not self.items or "id" not in self.fields):
            raise ValueError("json mode needs 'items' and fields.id")
        return self


def _select_text(soup: Tag, selector: str | None) -> str:
    if not selector:
        return ""
    node = soup.select_one(selector)
    return html_to_text(node.decode_contents()) if node is not None else ""


def reply_state(status_text: str, reply: str, replied_words: list[str]) -> str:
    """已回复 when a reply is present or the status says so, else the status shown (or 未回复)."""
    if reply or any(word in status_text for word in replied_words):
        return REPLIED
    return status_text or PENDING


def detail_to_item(source: str, url: str, external_id: str, html: str, options: PortalOptions) -> NormalisedItem:
    """A message detail page as an item (title, body, time, status, reply, reply time)."""
    soup = BeautifulSoup(html, "lxml")
    sel = options.detail
    body_node = soup.select_one(sel["body"])
    if body_node is None:
        raise ParseError(f"detail page has no element matching {sel['body']!r}", source=source, url=url)
    body_markup = body_node.decode_contents()
    reply = _select_text(soup, sel.get("reply"))
    try:
        published = parse_time(_select_text(soup, sel.get("time")) or None)
        reply_at = parse_time(_select_text(soup, sel.get("reply_time")) or None) if reply else None
    except ValueError as exc:
        raise ParseError(f"message {external_id}: {exc}", source=source, url=url) from None
    return NormalisedItem(
        source=source,
        external_id=external_id,
        title=_select_text(soup, sel.get("title")),
        text=html_to_text(body_markup),
        url=url,
        author=_select_text(soup, sel.get("author")) or None,
        published_at=published,
        reply_status=reply_state(_select_text(soup, sel.get("status")), reply, options.replied_words),
        reply_text=reply or None,
        reply_at=reply_at,
        links=links_in(body_markup, url),
        raw={"html": html[:200_000]},
    )


async def _fetch_html(spec: SourceSpec, ctx: FetchContext, options: PortalOptions) -> FetchOutcome:
    pattern = re.compile(options.id_pattern)
    page_url: str | None = spec.url
    items: list[NormalisedItem] = []
    warnings: list[str] = []
    for _page in range(options.max_pages):
        if page_url is None:
            break
        response = await ctx.fetcher.get(page_url, source=spec.name)
        soup = BeautifulSoup(response.text(), "lxml")
        rows = soup.select(options.row or "")
        if not rows and _page == 0:
            raise ParseError(f"list page has no rows matching {options.row!r}", source=spec.name, url=page_url)
        reached_seen = False
        links: list[tuple[str, str]] = []  # (detail URL, external id) of each row
        for row in rows:
            anchor = row.select_one(options.link)
            if anchor is None or not anchor.get("href"):
                warnings.append(f"a row on {page_url} has no link")
                continue
            detail_url = urljoin(page_url, str(anchor["href"]))
            match = pattern.search(detail_url)
            links.append((detail_url, match.group(1) if match else detail_url))
        held = await ctx.seen([external_id for _url, external_id in links])
        for detail_url, external_id in links:
            seen = held.get(external_id)
            if seen is not None:
                reached_seen = True
                if seen.has_reply:
                    continue
            try:
                detail = await ctx.fetcher.get(detail_url, source=spec.name)
                items.append(detail_to_item(spec.name, detail_url, external_id, detail.text(), options))
            except SourceError as exc:
                warnings.append(str(exc))
        next_link = soup.select_one(options.next_page) if options.next_page else None
        href = next_link.get("href") if next_link is not None else None
        page_url = urljoin(page_url, str(href)) if href else None
        if reached_seen:
            break
    return FetchOutcome(items=items, warnings=warnings)


def record_to_item(source: str, base_url: str, values: dict[str, Any], options: PortalOptions) -> NormalisedItem:
    """One JSON record (already mapped to our field names) as an item."""
    title = html_to_text(str(values.get("title") or ""))
    text = html_to_text(str(values.get("text") or ""))
    external_id = str(values.get("id") or "") or content_hash(title, text)
    reply = html_to_text(str(values.get("reply") or ""))
    return NormalisedItem(
        source=source,
        external_id=external_id,
        title=title,
        text=text,
        url=urljoin(base_url, str(values["url"])) if values.get("url") else None,
        author=str(values["author"]) if values.get("author") else None,
        published_at=parse_time(values.get("time")),
        likes=to_int(values.get("likes")),
        dislikes=to_int(values.get("dislikes")),
        reply_status=reply_state(str(values.get("status") or ""), reply, options.replied_words),
        reply_text=reply or None,
        reply_at=parse_time(values.get("reply_time")) if reply else None,
    )


async def _fetch_json(spec: SourceSpec, ctx: FetchContext, options: PortalOptions) -> FetchOutcome:
    paths = compile_paths(options.fields, spec.name)
    list_path = compile_paths({"items": options.items or ""}, spec.name)["items"]
    items: list[NormalisedItem] = []
    warnings: list[str] = []
    for page in range(options.first_page, options.first_page + options.max_pages):
        params = {options.page_param: str(page)} if options.page_param else None
        response = await ctx.fetcher.get(spec.url, params=params, source=spec.name)
        records = list_path.search(parse_json(response, spec.name, spec.url))
        if not isinstance(records, list):
            raise ParseError(f"no list of messages at {options.items!r}", source=spec.name, url=spec.url)
        reached_seen = False
        page_items: list[NormalisedItem] = []
        for index, record in enumerate(records):
            try:
                page_items.append(record_to_item(spec.name, spec.url, extract(paths, record), options))
            except ValueError as exc:
                warnings.append(f"page {page} record {index}: {exc}")
        held = await ctx.seen([item.external_id for item in page_items])
        for item in page_items:
            seen = held.get(item.external_id)
            reached_seen = reached_seen or seen is not None
            if seen is None or not seen.has_reply:
                items.append(item)
        if reached_seen or not records or not options.page_param:
            break
    return FetchOutcome(items=items, warnings=warnings)


class PortalKind:
    name: ClassVar[str] = "portal"
    Options: ClassVar[type[BaseModel]] = PortalOptions

    async def fetch(self, spec: SourceSpec, ctx: FetchContext) -> FetchOutcome:
        options = PortalOptions.model_validate(spec.options)
        if options.mode == "json":
            return await _fetch_json(spec, ctx, options)
        return await _fetch_html(spec, ctx, options)


register(PortalKind())
