"""Turning the desk's HTML text into what vendor cards show: a title line and plain text, clipped.

Cards are rendered as plain text (links keep their address) so that nothing an item says can
inject a vendor's markup; each vendor clips by its own limit.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from responders.notifiers.console import plain


def clip(text: str, limit: int, *, encoding: str | None = None) -> str:
    """*text* cut to *limit* characters (or bytes in *encoding*), with an ellipsis when cut."""
    def size(s: str) -> int:
        return len(s.encode(encoding)) if encoding else len(s)

    if size(text) <= limit:
        return text
    while text and size(text + "…") > limit:
        text = text[: max(len(text) - max((size(text) - limit) // 4, 1), 0)]
    return text + "…"


def title_and_body(
    html_text: str, title_limit: int, body_limit: int, *, encoding: str | None = None,
    body_encoding: str | None = None,
) -> tuple[str, str]:
    """The first non-empty line as the title, the rest as the body, both plain and clipped.

    Limits count characters, or bytes in *encoding* (*body_encoding* for the body, if it differs).
    """
    lines = plain(html_text).strip().splitlines()
    title = lines[0].strip() if lines else ""
    body = "\n".join(lines[1:]).strip()
    return clip(title, title_limit, encoding=encoding), clip(body, body_limit, encoding=body_encoding or encoding)


def fit_json(build: Callable[[int], dict[str, Any]], body_limit: int, max_bytes: int) -> dict[str, Any]:
    """The card ``build(limit)`` makes with its body clipped to *limit*, the limit lowered until the card's
    JSON (UTF-8, as sent) is at most *max_bytes*: the text fields are clipped, never the JSON."""
    card = build(body_limit)
    while (excess := len(json.dumps(card, ensure_ascii=False).encode("utf-8")) - max_bytes) > 0 and body_limit > 0:
        body_limit = max(body_limit - excess, 0)
        card = build(body_limit)
    return card
