"""URL helpers every layer above may use: links that are safe to show, URLs without secrets.

Only ``http`` and ``https`` URLs ever become links (a ``javascript:`` or ``data:`` URL in an
imported record must stay text), and a URL is printed or logged without the user name and
password it may carry (``http://user:pass@host/``).
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

LINK_SCHEMES = frozenset({"http", "https"})
_USERINFO = re.compile(r"//[^/?#@]*@")


def redact_url(url: str) -> str:
    """The URL without user name and password, for printing and logging."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return _USERINFO.sub("//", url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{host}:{port}" if port is not None else host
    return urlunsplit(parts._replace(netloc=netloc))


def is_link(url: str | None) -> bool:
    """True when *url* may become a clickable link: http or https with a host."""
    if not url:
        return False
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return False
    return parts.scheme.lower() in LINK_SCHEMES and bool(parts.hostname)


def safe_link(url: str | None) -> str | None:
    """*url* without credentials when it may be a link, else None (show it as text instead)."""
    return redact_url(url.strip()) if url and is_link(url) else None
