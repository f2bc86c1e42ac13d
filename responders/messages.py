"""Message text: Jinja2 templates from the playbook, HTML-escaped, clipped to Telegram's limit.

Every text a person reads comes from here: the playbook's ``templates`` (alerts, notices, views)
and its ``replies`` (answers to commands and buttons, prompts, refusals), all in one Jinja
environment; a reply named ``x`` is the template ``replies/x``, so templates may include each other.

The wording of alerts is policy (the office decides what a duty officer
reads), so it lives in the playbook's ``templates``; this module only renders.
Templates render with autoescape on, so item text from the web can never
inject markup; the result is clipped to 4096 UTF-16 units without breaking a
tag or an entity.
"""

from __future__ import annotations

import html
import re
import weakref
from collections.abc import Callable, Mapping
from typing import Any

import jinja2
from markupsafe import Markup

from monitor.urls import safe_link
from playbooks.schema import Playbook
from responders.errors import ResponderError
from store.types import shown

TELEGRAM_LIMIT = 4096
REQUIRED_TEMPLATES = (
    "duty_alert", "case_notice", "escalation", "consultation", "agreed_line",
    "reassign_request", "source_health", "event_cases", "case_list", "help",
)
_ELLIPSIS = "…"
_TAG = re.compile(r"<(/?)([a-zA-Z-]+)[^>]*>")


class TemplateMissing(ResponderError):
    """The playbook lacks a template the responders need."""


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _cut_utf16(text: str, units: int) -> str:
    out, used = [], 0
    for ch in text:
        used += 2 if ord(ch) > 0xFFFF else 1
        if used > units:
            break
        out.append(ch)
    return "".join(out)


def clip_html(text: str, limit: int = TELEGRAM_LIMIT) -> str:
    """Cut *text* to *limit* UTF-16 units, never inside a tag or entity, closing open tags."""
    if utf16_len(text) <= limit:
        return text
    budget = limit - 64  # room for the ellipsis and closing tags
    cut = _cut_utf16(text, budget)
    cut = re.sub(r"<[^>]*$", "", cut)
    cut = re.sub(r"&[#a-zA-Z0-9]*$", "", cut)
    stack: list[str] = []
    for closing, name in _TAG.findall(cut):
        if closing:
            if stack and stack[-1] == name:
                stack.pop()
        else:
            stack.append(name)
    return cut + _ELLIPSIS + "".join(f"</{name}>" for name in reversed(stack))


def _environment(sources: Mapping[str, str]) -> jinja2.Environment:
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True,
                             lstrip_blocks=True, loader=jinja2.DictLoader(dict(sources)))
    env.filters["shown"] = shown
    env.filters["clip"] = lambda s, n=300: s if s is None or len(s) <= n else s[: n - 1] + _ELLIPSIS
    return env


class Templates:
    """The playbook's message templates, compiled once."""

    def __init__(self, sources: Mapping[str, str], replies: Mapping[str, str] | None = None,
                 playbook: Playbook | None = None) -> None:
        missing = [name for name in REQUIRED_TEMPLATES if name not in sources]
        if missing:
            raise TemplateMissing(f"templates: missing {', '.join(missing)}")
        env = _environment({**sources, **{f"replies/{k}": v for k, v in (replies or {}).items()}})
        if playbook is not None:  # policy values the wording cites (15个工作日) come from the playbook
            env.globals.update(clocks=playbook.clocks, sign_off=playbook.sign_off)
        self._env = env

    def with_pages(self, loader: jinja2.BaseLoader) -> jinja2.Environment:
        """The same environment (filters, escaping, the playbook's values) that also finds *loader*'s pages.

        The web desk renders its pages here, so a page and a chat message say a thing the same way.
        """
        assert self._env.loader is not None
        return self._env.overlay(loader=jinja2.ChoiceLoader([loader, self._env.loader]))

    @classmethod
    def from_playbook(cls, playbook: Playbook) -> Templates:
        return cls(playbook.templates, playbook.replies, playbook)

    @classmethod
    def of(cls, playbook: Playbook) -> Templates:
        """The templates of *playbook*, built once per playbook (for code that holds the playbook only)."""
        key = id(playbook)
        if key not in _OF_PLAYBOOK:
            _OF_PLAYBOOK[key] = cls.from_playbook(playbook)
            weakref.finalize(playbook, _OF_PLAYBOOK.pop, key, None)
        return _OF_PLAYBOOK[key]

    def render(self, name: str, **context: Any) -> str:
        try:
            template = self._env.get_template(name)
        except jinja2.TemplateNotFound:
            raise TemplateMissing(f"templates: missing {name}") from None
        # Not clipped here: what is stored (a portal reply kept on a case) stays whole; each backend clips
        # to its own limit when it sends (responders/notifiers).
        return safe_links(template.render(**context).strip(), self.not_a_link)

    def reply(self, name: str, **values: Any) -> Markup:
        """The playbook's reply *name* filled with *values* (escaped), as markup to show or to nest."""
        return Markup(self.render(f"replies/{name}", **values))

    def plain(self, name: str, **values: Any) -> str:
        """A reply as plain text, for wording stored as data (an audit reason) rather than shown as markup."""
        return html.unescape(self.render(f"replies/{name}", **values))

    def said(self, exc: ResponderError) -> Markup:
        """What a person reads for *exc*: its reply template, or its message escaped."""
        if exc.reply is not None:
            return self.reply(exc.reply, **exc.values)
        return Markup.escape(str(exc))

    def said_plain(self, exc: ResponderError) -> str:
        """What a person reads for *exc* as plain text (the command line)."""
        return html.unescape(self.said(exc))

    def not_a_link(self, text: str, address: str) -> Markup:
        """An anchor whose address is no web page, shown as its text with the address flagged."""
        return self.reply("not_a_link", text=Markup(text), address=address[:200])


_OF_PLAYBOOK: dict[int, Templates] = {}


_ANCHOR = re.compile(r'<a\s+href="([^"]*)"\s*>(.*?)</a>', re.DOTALL)


def safe_links(markup: str, flagged: Callable[[str, str], str]) -> str:
    """Only http/https addresses stay links (without their credentials); any other address
    (``javascript:``, ``data:`` …) is shown as text and flagged by *flagged* (the anchor's markup and
    the address: :meth:`Templates.not_a_link`), whatever the template wrote."""
    def fix(match: re.Match[str]) -> str:
        address = html.unescape(match.group(1))
        link = safe_link(address)
        if link is not None:
            return f'<a href="{html.escape(link)}">{match.group(2)}</a>'
        return str(flagged(match.group(2), address))
    return _ANCHOR.sub(fix, markup)
