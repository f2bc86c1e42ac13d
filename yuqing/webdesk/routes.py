"""The desk's routes and the middleware that signs its sessions: what ``yuqing.web`` mounts."""

from __future__ import annotations

from urllib.parse import quote

from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles

from yuqing.webdesk import (
    case_board,
    event_page,
    now_page,
    reports_page,
    signin,
    sources_page,
    submissions_page,
    units_page,
)
from yuqing.webdesk.site import SESSION_HOURS, STATIC_DIR, DeskSite, Forbidden, SignInRequired

PAGE_MODULES = (signin, now_page, event_page, sources_page, reports_page, case_board, units_page, submissions_page)
COOKIE = "yuqing_desk"


def desk_routes(site: DeskSite) -> list[BaseRoute]:
    """Every page's routes, and the static files (the stylesheet and the small live-list script)."""
    out: list[BaseRoute] = [Mount("/static", StaticFiles(directory=STATIC_DIR), name="static")]
    for module in PAGE_MODULES:
        out.extend(module.routes(site))
    return out


def desk_middleware(secret: str, secure_cookies: bool) -> list[Middleware]:
    """Signed, HttpOnly, SameSite=strict session cookies (Secure too when the desk is served over HTTPS)."""
    return [Middleware(SessionMiddleware, secret_key=secret, session_cookie=COOKIE, max_age=SESSION_HOURS * 3600,
                       same_site="strict", https_only=secure_cookies)]


def desk_exception_handlers(site: DeskSite) -> dict[type[Exception], object]:
    """No session: pages go to the sign-in form, anything else gets 401. Not allowed: 403 with the reason."""
    async def sign_in_first(request: Request, _exc: Exception) -> Response:
        if request.method == "GET" and not request.url.path.startswith(("/now/rows", "/now/stream")):
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(f"/signin?next={quote(target, safe='/')}", status_code=303)
        return PlainTextResponse(site.templates.plain("web_sign_in_first"), status_code=401)

    async def forbidden(request: Request, exc: Exception) -> Response:
        why = (site.templates.reply(exc.reply, **exc.values) if isinstance(exc, Forbidden)
               else site.templates.reply("web_forbidden"))
        try:
            person = site.person(request)
        except SignInRequired:
            person = None
        return site.page(request, "forbidden.html.j2", person, status=403, why=why)

    return {SignInRequired: sign_in_first, Forbidden: forbidden}
