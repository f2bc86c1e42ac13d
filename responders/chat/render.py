"""Turning the desk's HTML text into what vendor cards show: a title line and plain text, clipped.

Cards are rendered as plain text (links keep their address) so that nothing an item says can
inject a vendor's markup; each vendor clips by its own limit.
"""

from __future__ import annotations

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
    html_text: str, title_limit: int, body_limit: int, *, encoding: str | None = None
) -> tuple[str, str]:
    """The first non-empty line as the title, the rest as the body, both plain and clipped."""
    lines = plain(html_text).strip().splitlines()
    title = lines[0].strip() if lines else ""
    body = "\n".join(lines[1:]).strip()
    return clip(title, title_limit, encoding=encoding), clip(body, body_limit, encoding=encoding)
