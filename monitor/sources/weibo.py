"""Weibo-style microblog APIs: the m.weibo.cn container shape, or any JSON via JMESPath.

The container API puts posts at ``data.cards[].mblog``; a repost carries the
original under ``retweeted_status``. We emit the original first (so it is
stored and the repost can link to it) and keep the repost's own text.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, field_validator

from monitor.config import SourceSpec
from monitor.errors import ParseError
from monitor.items import NormalisedItem, html_to_text, links_in, parse_time, to_int
from monitor.sources import FetchContext, FetchOutcome, register
from monitor.sources.jsonmap import check_paths, compile_paths, extract, parse_json

WEIBO_POST_URL = "https://m.weibo.cn/detail/{id}"

# JMESPath fields a mapping may set; the container API needs none of them.
FIELDS = (
    "id", "created_at", "text", "title", "url", "reposts_count", "comments_count", "attitudes_count",
    "author", "author_verified", "author_followers", "repost_of",
)


class WeiboOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    items: str = Field("data.cards[?mblog].mblog", description="JMESPath to the list of posts")
    fields: dict[str, str] = Field(default_factory=dict, description="field → JMESPath inside one post")
    post_url: str = WEIBO_POST_URL

    @field_validator("fields")
    @classmethod
    def _known_fields(cls, fields: dict[str, str]) -> dict[str, str]:
        unknown = set(fields) - set(FIELDS)
        if unknown:
            raise ValueError(f"unknown field(s) {sorted(unknown)}; use {', '.join(FIELDS)}")
        return check_paths(fields)

    @field_validator("items")
    @classmethod
    def _items_path(cls, path: str) -> str:
        check_paths({"items": path})
        return path


DEFAULT_FIELDS = {
    "id": "idstr || to_string(id)",
    "created_at": "created_at",
    "text": "text",
    "reposts_count": "reposts_count",
    "comments_count": "comments_count",
    "attitudes_count": "attitudes_count",
    "author": "user.screen_name",
    "author_verified": "user.verified",
    "author_followers": "user.followers_count",
    "repost_of": "retweeted_status",
}


def post_to_item(source: str, post: dict[str, Any], paths: dict[str, Any], post_url: str) -> NormalisedItem:
    """One post as an item; raises ValueError when it has no id or an unreadable time."""
    values = extract(paths, post)
    if values.get("id") in (None, ""):
        raise ValueError("post has no id")
    external_id = str(values["id"])
    markup = str(values.get("text") or "")
    original = values.get("repost_of")
    original_id = None
    if isinstance(original, dict):
        original_id = str(extract(paths, original).get("id") or "") or None
    elif original not in (None, ""):
        original_id = str(original)
    return NormalisedItem(
        source=source,
        external_id=external_id,
        title=html_to_text(str(values.get("title") or "")),
        text=html_to_text(markup),
        url=str(values.get("url") or post_url.format(id=external_id)),
        author=(str(values["author"]) if values.get("author") else None),
        author_verified=(bool(values["author_verified"]) if values.get("author_verified") is not None else None),
        author_followers=(to_int(values["author_followers"]) if values.get("author_followers") is not None else None),
        published_at=parse_time(values.get("created_at")),
        reposts=to_int(values.get("reposts_count")),
        comments=to_int(values.get("comments_count")),
        likes=to_int(values.get("attitudes_count")),
        repost_of_external_id=original_id,
        links=links_in(markup),
        raw={k: v for k, v in post.items() if k != "retweeted_status"},
    )


def parse_posts(source: str, url: str, data: Any, options: WeiboOptions) -> tuple[list[NormalisedItem], list[str]]:
    """Items (originals before reposts) and a warning per post that could not be read."""
    paths = compile_paths({**DEFAULT_FIELDS, **options.fields}, source)
    posts = compile_paths({"items": options.items}, source)["items"].search(data)
    if not isinstance(posts, list):
        raise ParseError(f"no list of posts at {options.items!r} in the JSON", source=source, url=url)
    items: list[NormalisedItem] = []
    warnings: list[str] = []
    seen: set[str] = set()
    for index, post in enumerate(posts):
        if not isinstance(post, dict):
            warnings.append(f"post {index}: not an object")
            continue
        original = post.get("retweeted_status") if "repost_of" not in options.fields else None
        batch = [original, post] if isinstance(original, dict) else [post]
        for record in batch:
            try:
                item = post_to_item(source, record, paths, options.post_url)
            except ValueError as exc:
                warnings.append(f"post {index}: {exc}")
                continue
            if item.external_id not in seen:
                seen.add(item.external_id)
                items.append(item)
    return items, warnings


class WeiboKind:
    name: ClassVar[str] = "weibo"
    Options: ClassVar[type[BaseModel]] = WeiboOptions

    async def fetch(self, spec: SourceSpec, ctx: FetchContext) -> FetchOutcome:
        options = WeiboOptions.model_validate(spec.options)
        response = await ctx.fetcher.get(spec.url, etag=ctx.etag, last_modified=ctx.last_modified, source=spec.name)
        if response.not_modified:
            return FetchOutcome(not_modified=True, etag=ctx.etag, last_modified=ctx.last_modified)
        data = parse_json(response, spec.name, spec.url)
        items, warnings = parse_posts(spec.name, spec.url, data, options)
        return FetchOutcome(items=items, etag=response.etag, last_modified=response.last_modified, warnings=warnings)


register(WeiboKind())
