"""Turn response bytes into text without mojibake, whatever the headers claim.

Chinese government sites often serve GBK/GB2312 pages with no charset header,
or with a wrong one (``ISO-8859-1`` from a default server config, ``utf-8``
on a GBK page). We try, in order: the HTTP header's charset, the page's
``<meta charset>`` (or ``http-equiv``), then charset-normalizer detection;
a candidate counts only if it decodes the bytes strictly. GBK and GB2312 are
read as GB18030, their superset, so rare characters in names survive.
"""

from __future__ import annotations

import codecs
import re

from charset_normalizer import from_bytes

_META = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_\-:.]+)""", re.IGNORECASE)
_XML_DECL = re.compile(rb"""^\s*<\?xml[^>]*encoding\s*=\s*["']([A-Za-z0-9_\-.]+)["']""", re.IGNORECASE)
_HEADER = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9_\-:.]+)", re.IGNORECASE)
# Labels servers send by default without knowing the content: never trusted alone.
_WEAK = {"iso8859-1", "latin-1", "iso-8859-1", "ascii", "us-ascii", "windows-1252", "cp1252"}
_CHINESE_SUPERSET = {"gbk": "gb18030", "gb2312": "gb18030", "gb_2312-80": "gb18030", "x-gbk": "gb18030"}


def _canonical(label: str | None) -> str | None:
    if not label:
        return None
    label = label.strip().strip("\"'").lower()
    label = _CHINESE_SUPERSET.get(label, label)
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def header_charset(content_type: str | None) -> str | None:
    """The charset parameter of a Content-Type header, if any."""
    if not content_type:
        return None
    match = _HEADER.search(content_type)
    return match.group(1) if match else None


def declared_charset(content: bytes) -> str | None:
    """The charset the document declares about itself (XML declaration or meta tag)."""
    head = content[:4096]
    match = _XML_DECL.search(head) or _META.search(head)
    return match.group(1).decode("ascii", "replace") if match else None


def _try(content: bytes, label: str | None) -> str | None:
    codec = _canonical(label)
    if codec is None:
        return None
    if codec == "gbk":
        codec = "gb18030"
    try:
        return content.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return None


def decode_bytes(content: bytes, content_type: str | None = None) -> tuple[str, str]:
    """Decode *content*; return (text, encoding used). Never raises on odd bytes."""
    if content.startswith(codecs.BOM_UTF8):
        return content[3:].decode("utf-8", "replace"), "utf-8"
    from_header = header_charset(content_type)
    from_doc = declared_charset(content)
    strong = [c for c in (from_header, from_doc) if c and (_canonical(c) or "") not in _WEAK]
    for label in strong:
        text = _try(content, label)
        if text is not None:
            return text, _canonical(label) or label
    text = _try(content, "utf-8")
    if text is not None:
        return text, "utf-8"
    best = from_bytes(content).best()
    if best is not None and best.encoding:
        guessed = _canonical(best.encoding) or best.encoding
        if guessed in ("gbk", "gb2312", "big5", "cp936") or guessed.startswith("gb"):
            guessed = "gb18030"
        text = _try(content, guessed)
        if text is not None:
            return text, guessed
    # Chinese sites: GB18030 is the likeliest legacy encoding; replace what still fails.
    return content.decode("gb18030", "replace"), "gb18030"
