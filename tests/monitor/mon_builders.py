"""Feeds, Weibo JSON and portal pages built at test time from the shared dataset records."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from email.utils import format_datetime
from functools import cache
from html import escape
from pathlib import Path
from typing import Any

from monitor.items import parse_time
from yuqing.settings import load_settings


def datasets_dir() -> Path:
    return load_settings().datasets_dir


@cache
def records(name: str, limit: int = 400) -> tuple[dict[str, Any], ...]:
    """The first *limit* records of ``<datasets>/<name>/train.jsonl``."""
    out = []
    with (datasets_dir() / name / "train.jsonl").open(encoding="utf-8") as handle:
        for line in handle:
            out.append(json.loads(line))
            if len(out) >= limit:
                break
    return tuple(out)


def _when(record: dict[str, Any]) -> dt.datetime:
    return parse_time(record["time"]) or dt.datetime(2019, 1, 1, tzinfo=dt.UTC)


def rss2(rows: Sequence[dict[str, Any]], base: str = "http://example.gov.cn/msg/", encoding: str = "utf-8") -> bytes:
    items = "".join(
        f"<item><title>{escape(r['title'])}</title><link>{base}{r['id']}</link><guid>{base}{r['id']}</guid>"
        f"<pubDate>{format_datetime(_when(r))}</pubDate>"
        f"<description>{escape('<p>' + r['text'] + '</p><script>alert(1)</script>')}</description></item>"
        for r in rows
    )
    xml = (f'<?xml version="1.0" encoding="{encoding}"?><rss version="2.0"><channel><title>留言</title>'
           f"<link>{base}</link><description>d</description>{items}</channel></rss>")
    return xml.encode(encoding)


def atom(rows: Sequence[dict[str, Any]], base: str = "http://example.gov.cn/a/") -> bytes:
    entries = "".join(
        f"<entry><id>{base}{r['id']}</id><title>{escape(r['title'])}</title><link href=\"{base}{r['id']}\"/>"
        f"<updated>{_when(r).isoformat()}</updated><content type=\"html\">{escape(r['text'])}</content></entry>"
        for r in rows
    )
    return (f'<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
            f"<title>t</title><id>{base}</id><updated>2019-01-01T00:00:00Z</updated>{entries}</feed>").encode()


def rss1(rows: Sequence[dict[str, Any]], base: str = "http://example.gov.cn/r/") -> bytes:
    items = "".join(
        f'<item rdf:about="{base}{r["id"]}"><title>{escape(r["title"])}</title><link>{base}{r["id"]}</link>'
        f"<description>{escape(r['text'])}</description><dc:date>{_when(r).isoformat()}</dc:date></item>"
        for r in rows
    )
    return ('<?xml version="1.0" encoding="utf-8"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
            'xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">'
            f'<channel rdf:about="{base}"><title>t</title><link>{base}</link><description>d</description></channel>'
            f"{items}</rdf:RDF>").encode()


def weibo_time(record: dict[str, Any]) -> str:
    value = record["time"]
    when = (
        dt.datetime.fromtimestamp(value, dt.timezone(dt.timedelta(hours=8)))
        if isinstance(value, int)
        else parse_time(value)
    )
    assert when is not None
    return when.astimezone(dt.timezone(dt.timedelta(hours=8))).strftime("%a %b %d %H:%M:%S %z %Y")


def mblog(record: dict[str, Any], **extra: Any) -> dict[str, Any]:
    user = record.get("user") or {}
    return {
        "id": int(abs(hash(record["id"])) % 10**15),
        "idstr": record["id"],
        "created_at": weibo_time(record),
        "text": escape(record["text"]) + ' <a href="/n/x">@某人</a>',
        "reposts_count": record.get("reposts_count", 0),
        "comments_count": record.get("comments_count", 0),
        "attitudes_count": record.get("likes_count", 0),
        "user": {
            "screen_name": f"user{user.get('uid', '0')}",
            "verified": bool(user.get("verified")),
            "followers_count": user.get("followers", 0),
        },
        **extra,
    }


def weibo_container(posts: Sequence[dict[str, Any]]) -> bytes:
    cards = [{"card_type": 9, "mblog": p} for p in posts] + [{"card_type": 11, "card_group": []}]
    return json.dumps({"ok": 1, "data": {"cards": cards}}, ensure_ascii=False).encode()


def portal_list(
    rows: Sequence[dict[str, Any]], next_href: str | None, replied: set[int], encoding: str = "utf-8"
) -> bytes:
    body = "".join(
        f'<tr class="msg"><td><a href="/board/detail/{r["id"]}.html">{escape(r["title"])}</a></td>'
        f'<td class="st">{"已回复" if r["id"] in replied else "未回复"}</td></tr>'
        for r in rows
    )
    nxt = f'<a class="next" href="{next_href}">下一页</a>' if next_href else ""
    meta = f'<meta charset="{encoding}">'
    return f"<html><head>{meta}<title>留言板</title></head><body><table>{body}</table>{nxt}</body></html>".encode(
        encoding, "replace"
    )


def portal_detail(r: dict[str, Any], with_reply: bool, encoding: str = "utf-8", meta: bool = True) -> bytes:
    reply = (
        f'<div class="reply">{escape(r["reply"])}</div><span class="rtime">{r["reply_time"]}</span>'
        if with_reply
        else ""
    )
    head = f'<meta http-equiv="Content-Type" content="text/html; charset={encoding}">' if meta else ""
    html = (
        f"<html><head>{head}<style>.x{{}}</style></head><body><h1>{escape(r['title'])}</h1>"
        f'<span class="time">{r["time"]}</span><span class="status">{"已回复" if with_reply else "未回复"}</span>'
        f'<div class="body">{escape(r["text"])}<script>var a=1;</script></div>{reply}</body></html>'
    )
    return html.encode(encoding, "replace")


PORTAL_OPTIONS = {
    "row": "tr.msg",
    "link": "a",
    "next_page": "a.next",
    "id_pattern": r"/(\d+)\.html$",
    "detail": {
        "title": "h1",
        "body": "div.body",
        "time": "span.time",
        "status": "span.status",
        "reply": "div.reply",
        "reply_time": "span.rtime",
    },
}
