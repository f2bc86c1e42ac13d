"""Signing in and out of the desk: a name and password from the members file and the store."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from store.database import session_scope
from yuqing.webdesk.access import password_matches, person_for
from yuqing.webdesk.site import DeskSite, SignInRequired


def _safe_next(target: str | None) -> str:
    """Only a path on this desk (never another site) is a place to go back to after signing in."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/now"


def routes(site: DeskSite) -> list[BaseRoute]:
    def show(request: Request) -> Response:
        try:
            site.person(request)
        except SignInRequired:
            return site.page(request, "signin.html.j2", None, next=_safe_next(request.query_params.get("next")),
                             login="", error=None)
        return RedirectResponse(_safe_next(request.query_params.get("next")), status_code=303)

    async def submit(request: Request) -> Response:
        form = await site.form(request)
        login, password = form.get("login", "").strip(), form.get("password", "")
        target = _safe_next(form.get("next"))
        client = request.client.host if request.client else "?"
        keys = (f"login:{login}", f"addr:{client}")
        wait = site.limiter.wait_for(*keys)
        if wait > 0:
            return site.page(request, "signin.html.j2", None, status=429, next=target, login=login,
                             error=site.templates.reply("web_sign_in_wait", minutes=int(wait // 60) + 1))
        person = person_for(site.members, login)

        def check() -> bool:  # argon2 is slow on purpose: keep it off the event loop
            with session_scope(site.sessions) as session:
                return password_matches(session, login, password)

        matches = await run_in_threadpool(check)
        if person is None or not matches:
            site.limiter.failed(*keys)
            return site.page(request, "signin.html.j2", None, status=401, next=target, login=login,
                             error=site.templates.reply("web_sign_in_failed"))
        site.limiter.succeeded(keys[0])
        site.sign_in(request, person)
        return RedirectResponse(target, status_code=303)

    async def sign_out(request: Request) -> Response:
        await site.form(request)
        request.session.clear()
        return RedirectResponse("/signin", status_code=303)

    return [Route("/signin", show, methods=["GET"]), Route("/signin", submit, methods=["POST"]),
            Route("/signout", sign_out, methods=["POST"])]
