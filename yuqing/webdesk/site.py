"""What every desk page needs, built once: the store, the rules, the people, the shared actions, the pages.

A page is a plain (synchronous) Starlette endpoint: Starlette runs it in a worker thread, so store
work never blocks the service's event loop. Pages call :meth:`DeskSite.person` first; it raises
:class:`SignInRequired` or :class:`Forbidden`, which the app turns into a redirect or a 403 page.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jinja2
from markupsafe import Markup
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from classifiers.verdicts import verdict
from playbooks.members import Members
from playbooks.schema import Playbook
from responders.cases import EVENT_STATUS_LABELS
from responders.desk import Desk, Reply
from responders.errors import AlreadyDone, ResponderError
from responders.messages import Templates
from responders.views import signal_lines
from store.types import utcnow
from yuqing.errors import DeskError
from yuqing.settings import Settings
from yuqing.webdesk.access import Person, SignInLimiter, csrf_matches, new_csrf_token, person_for

PAGES_DIR = Path(__file__).with_name("templates")
STATIC_DIR = Path(__file__).with_name("static")
SESSION_HOURS = 12  # a duty shift and a half; then sign in again


class SignInRequired(DeskError):  # noqa: N818 - the name says what the page does about it
    """The request has no valid session; GET pages redirect to the sign-in page."""


class Forbidden(DeskError):  # noqa: N818 - the name says what the page does about it
    """The signed-in person may not see or do this (another department's case, a read-only leader).

    ``reply`` names the playbook's reply that says why and ``values`` fill it (the 403 page renders it).
    """

    def __init__(self, reply: str, **values: object) -> None:
        super().__init__(f"{reply} {values}")
        self.reply = reply
        self.values = values


@dataclass
class DeskSite:
    """The desk's shared parts; one per server."""

    sessions: sessionmaker[Session]
    playbook: Playbook
    members: Members
    desk: Desk
    templates: Templates
    reports_dir: Path
    clock: Callable[[], dt.datetime] = utcnow
    limiter: SignInLimiter = field(default_factory=SignInLimiter)
    secure_cookies: bool = False
    stopping: asyncio.Event = field(default_factory=asyncio.Event)  # set when the server stops: streams end
    settings: Settings | None = None  # where the sources file is and how fetches are limited (/sources)

    def __post_init__(self) -> None:
        self.env = self.templates.with_pages(jinja2.FileSystemLoader(PAGES_DIR))
        self.tz = ZoneInfo(self.playbook.timezone)
        self.env.globals.update(tz=self.tz, news_office=self.playbook.news_office, event_status=EVENT_STATUS_LABELS)
        self.env.filters["local"] = lambda value, fmt="%m-%d %H:%M": (
            value.astimezone(self.tz).strftime(fmt) if value is not None else "—")
        self.env.filters["signals"] = signal_lines  # the same words the chat alert uses
        self.env.filters["verdict"] = lambda p: verdict(p, self.playbook.rumour) if p is not None else "—"

    # ------------------------------------------------------------------ sessions

    def person(self, request: Request, *, acting: bool = False) -> Person:
        """The signed-in person, still listed in the members file; *acting* refuses read-only leaders."""
        login = request.session.get("login")
        started = request.session.get("since", 0)
        fresh = isinstance(started, (int, float)) and self.clock().timestamp() - started < SESSION_HOURS * 3600
        person = person_for(self.members, login) if isinstance(login, str) and fresh else None
        if person is None:
            request.session.clear()
            raise SignInRequired
        if acting and person.read_only:
            raise Forbidden("web_read_only")
        return person

    def sign_in(self, request: Request, person: Person) -> None:
        """A new session (a new CSRF token too, so a token seen before sign-in is worthless after)."""
        request.session.clear()
        request.session.update(login=person.login, since=self.clock().timestamp(), csrf=new_csrf_token())

    @staticmethod
    def csrf(request: Request) -> str:
        token = request.session.get("csrf")
        if not isinstance(token, str):
            token = new_csrf_token()
            request.session["csrf"] = token
        return token

    async def form(self, request: Request) -> dict[str, str]:
        """The posted form, after its CSRF token matched the session's; a mismatch is :class:`Forbidden`."""
        form = await request.form()
        values = {k: v for k, v in form.items() if isinstance(v, str)}
        if not csrf_matches(request.session.get("csrf"), values.get("csrf")):
            raise Forbidden("web_stale_form")
        return values

    # ------------------------------------------------------------------ pages

    def page(self, request: Request, name: str, person: Person | None, status: int = 200,
             **values: Any) -> HTMLResponse:
        """Render page *name* with the navigation, the person, the CSRF token and any flashed notes."""
        flashes = request.session.pop("flash", []) if "flash" in request.session else []
        html = self.env.get_template(name).render(
            request=request, person=person, csrf=self.csrf(request), flashes=flashes, now=self.clock(), **values)
        return HTMLResponse(html, status_code=status, headers=_SECURITY_HEADERS)

    def fragment(self, name: str, **values: Any) -> HTMLResponse:
        """A piece of a page (the live list), without the frame."""
        return HTMLResponse(self.env.get_template(name).render(now=self.clock(), **values),
                            headers=_SECURITY_HEADERS)

    @staticmethod
    def flash(request: Request, text: str | Markup, ok: bool = True) -> None:
        notes = list(request.session.get("flash", []))
        notes.append({"text": str(text), "ok": ok})
        request.session["flash"] = notes[-5:]

    async def post_action(self, request: Request, work: Callable[[Person, dict[str, str]], Response]) -> Response:
        """Every form post that acts: the signed-in person (a read-only leader is refused), the CSRF check, then
        *work* (its own visibility checks and the shared action) in a worker thread, where store work runs."""
        person = self.person(request, acting=True)
        form = await self.form(request)
        return await run_in_threadpool(work, person, form)

    def act(self, request: Request, run: Callable[[], Reply], back: str) -> Response:
        """Run one shared action, flash its answer (or the refusal) and go back to *back*."""
        try:
            reply = run()
        except AlreadyDone as exc:
            self.flash(request, self.templates.said(exc), ok=True)
        except ResponderError as exc:
            self.flash(request, self.templates.reply("not_done", reason=self.templates.said(exc)), ok=False)
        else:
            self.flash(request, reply.text, ok=True)
        return RedirectResponse(back, status_code=303)


_SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; "
                               "script-src 'self'; frame-ancestors 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def session_secret(data_dir: Path, configured: str | None) -> str:
    """The cookie-signing key: YUQING_WEB_SECRET, or one made once and kept (0600) in the data folder."""
    if configured:
        return configured
    path = data_dir / "web-secret"
    if path.exists():
        return path.read_text(encoding="ascii").strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48)
    path.touch(mode=0o600)
    path.write_text(secret, encoding="ascii")
    return secret


def build_site(settings: Settings, playbook: Playbook, members: Members, sessions: sessionmaker[Session],
               templates: Templates, clock: Callable[[], dt.datetime] = utcnow) -> DeskSite:
    """The desk over *sessions*, acting through the same :class:`Desk` as the chats."""
    desk = Desk(sessions, playbook, members, templates, clock)
    return DeskSite(sessions, playbook, members, desk, templates, settings.effective_reports_dir, clock,
                    secure_cookies=settings.web_secure_cookies, settings=settings)
