"""The service's one HTTP server: the chat vendors' callbacks and the web desk.

A Starlette app under uvicorn on ``YUQING_WEB_ADDRESS``. Each route hands a framework-free
:class:`~responders.chat.http.CallbackRequest` to the backend's handler, which verifies the
vendor's signature, timestamp and replay before anything changes. Bodies are capped: no vendor
sends a callback anywhere near the limit.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from responders.chat.http import CallbackHandler, CallbackRequest
from yuqing.settings import Settings
from yuqing.webdesk.routes import desk_exception_handlers, desk_middleware, desk_routes
from yuqing.webdesk.site import DeskSite, session_secret

log = logging.getLogger(__name__)

MAX_BODY = 1_000_000


async def _body(request: Request) -> bytes | None:
    """The request body, or None when it is larger than :data:`MAX_BODY`."""
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _endpoint(handler: CallbackHandler):  # type: ignore[no-untyped-def]
    async def endpoint(request: Request) -> Response:
        body = await _body(request)
        if body is None:
            return PlainTextResponse("too large", status_code=413)
        callback = CallbackRequest(request.method, request.url.path, dict(request.query_params),
                                   {k.lower(): v for k, v in request.headers.items()}, body)
        try:
            answer = await handler(callback)
        except Exception:
            log.exception("callback on %s failed", request.url.path)
            return PlainTextResponse("error", status_code=500)
        return Response(answer.body, answer.status, dict(answer.headers), media_type=answer.content_type)

    return endpoint


def build_app(routes: Mapping[str, CallbackHandler], desk: DeskSite | None = None,
              secret: str = "") -> Starlette:
    """The ASGI app: one route per callback path, the desk's pages when *desk* is given, and ``/healthz``
    for the operator's probe (the one address that answers without signing in)."""
    async def healthz(_request: Request) -> Response:
        return PlainTextResponse("ok")

    callbacks: list[BaseRoute] = [Route(path, _endpoint(h), methods=["GET", "POST"]) for path, h in routes.items()]
    if desk is None:
        return Starlette(routes=[Route("/healthz", healthz), *callbacks])
    return Starlette(routes=[Route("/healthz", healthz), *callbacks, *desk_routes(desk)],
                     middleware=desk_middleware(secret, desk.secure_cookies),
                     exception_handlers=desk_exception_handlers(desk))  # type: ignore[arg-type]


class _Server(uvicorn.Server):
    """uvicorn without its own signal handlers: the service owns SIGTERM and SIGINT."""

    def capture_signals(self) -> contextlib.AbstractContextManager[None]:  # type: ignore[override]
        return contextlib.nullcontext()


class WebServer:
    """uvicorn on *host*:*port* as a task of the service's loop; ``stop`` lets requests in flight finish."""

    def __init__(self, routes: Mapping[str, CallbackHandler], host: str, port: int, desk: DeskSite | None = None,
                 secret: str = "") -> None:
        config = uvicorn.Config(build_app(routes, desk, secret), host=host, port=port, log_level="warning",
                                lifespan="off", access_log=False, timeout_graceful_shutdown=5)
        self.server = _Server(config)
        self.desk = desk
        self._task: asyncio.Task[None] | None = None

    @property
    def port(self) -> int:
        """The bound port (useful with port 0 in tests)."""
        port: int = self.server.servers[0].sockets[0].getsockname()[1]
        return port

    async def start(self) -> None:
        self._task = asyncio.create_task(self.server.serve())
        while not self.server.started:
            if self._task.done():
                await self._task  # a bind error surfaces here
                raise OSError("the callback server stopped before it started")
            await asyncio.sleep(0.01)
        log.info("web server listening on http://%s:%d/%s", self.server.config.host, self.port,
                 "" if self.desk is None else " (web desk and callbacks)")

    @property
    def address(self) -> str:
        return f"http://{self.server.config.host}:{self.port}/"

    async def stop(self) -> None:
        if self.desk is not None:  # the live lists' streams end, so uvicorn's graceful stop is quick
            self.desk.stopping.set()
        self.server.should_exit = True
        if self._task is not None:
            await self._task


def web_server(settings: Settings, routes: Mapping[str, CallbackHandler], desk: DeskSite | None) -> WebServer:
    """The one HTTP server on YUQING_WEB_ADDRESS, as ``yuqing run`` and ``yuqing web`` both build it: the
    callbacks, the desk when given, and its cookies signed with YUQING_WEB_SECRET or the kept secret."""
    return WebServer(routes, *settings.web_host_port, desk=desk,
                     secret=session_secret(settings.data_dir, settings.web_secret))
