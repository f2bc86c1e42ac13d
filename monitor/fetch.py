"""Polite fetching: one shared client, per-host limits, conditional GET, size caps.

One ``httpx.AsyncClient`` serves every source (connection reuse, one set of
timeouts). Each host gets a concurrency semaphore and a minimum spacing
between requests, so twenty feeds on one provincial portal do not arrive as a
burst. Bodies are streamed and abandoned past ``max_bytes``. Failures are
counted per host: :func:`monitor.decide.next_poll_after_error` uses that count
so every source on a failing host backs off together.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field

import httpx

from monitor.encoding import decode_bytes
from monitor.errors import FetchTimeout, HTTPStatusError, RefusedURL, ResponseTooLarge, TransportError
from monitor.items import host_of
from monitor.netpolicy import FetchPolicy, PolicyTransport, origin_of, redirected_from

USER_AGENT = "yuqing-monitor/0.1 (+government news office; polite polling)"


@dataclass(frozen=True)
class FetchLimits:
    """Network manners; values come from the sources file's ``fetch`` section."""

    connect_timeout: float = 10.0
    read_timeout: float = 20.0
    max_bytes: int = 20_000_000
    per_host_concurrency: int = 2
    per_host_min_delay: float = 1.0
    total_timeout: float = 120.0  # connect, headers, body and redirects of one fetch together
    max_redirects: int = 10
    allow_loopback: bool = True
    allow_private: bool = True

    def __post_init__(self) -> None:
        if self.connect_timeout <= 0 or self.read_timeout <= 0 or self.total_timeout <= 0:
            raise ValueError("timeouts must be positive")
        if self.max_bytes <= 0:
            raise ValueError("the maximum response size must be positive")
        if self.per_host_concurrency < 1:
            raise ValueError("per-host concurrency must be at least 1")


@dataclass(frozen=True)
class Response:
    """What came back: status, headers and the raw bytes (``not_modified`` on 304)."""

    url: str
    status: int
    headers: Mapping[str, str]
    content: bytes = b""

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    @property
    def etag(self) -> str | None:
        return self.headers.get("etag")

    @property
    def last_modified(self) -> str | None:
        return self.headers.get("last-modified")

    @property
    def content_type(self) -> str | None:
        return self.headers.get("content-type")

    def text(self) -> str:
        """The body decoded by header, then meta charset, then detection (see monitor.encoding)."""
        return decode_bytes(self.content, self.content_type)[0]


@dataclass
class _Host:
    semaphore: asyncio.Semaphore
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    last_request: float = 0.0


class Fetcher:
    """Fetches URLs for every source through one client, minding each host."""

    def __init__(self, limits: FetchLimits | None = None, client: httpx.AsyncClient | None = None) -> None:
        self.limits = limits or FetchLimits()
        self.policy = FetchPolicy(allow_loopback=self.limits.allow_loopback, allow_private=self.limits.allow_private)
        timeout = httpx.Timeout(self.limits.read_timeout, connect=self.limits.connect_timeout)
        self._own_client = client is None
        # Redirects are followed here, hop by hop, so that the policy sees each one; proxies from the
        # environment are not used (they would connect on our behalf, past the connect-time check).
        self.client = client or httpx.AsyncClient(
            timeout=timeout, follow_redirects=False, headers={"User-Agent": USER_AGENT},
            transport=PolicyTransport(self.policy), trust_env=False,
        )
        self._hosts: dict[str, _Host] = {}
        self.host_failures: defaultdict[str, int] = defaultdict(int)

    async def aclose(self) -> None:
        if self._own_client:
            await self.client.aclose()

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.aclose()

    def _host(self, host: str) -> _Host:
        if host not in self._hosts:
            self._hosts[host] = _Host(asyncio.Semaphore(self.limits.per_host_concurrency))
        return self._hosts[host]

    async def _space_out(self, state: _Host) -> None:
        async with state.lock:
            wait = state.last_request + self.limits.per_host_min_delay - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            state.last_request = time.monotonic()

    async def get(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        params: Mapping[str, str] | None = None,
        source: str | None = None,
    ) -> Response:
        """GET *url* conditionally; raise a typed FetchError naming *source* and *url*.

        The fetch policy is applied before anything is sent; the whole fetch (connect, headers,
        body, redirects) must finish within ``total_timeout`` so a slow-drip server is cut off.
        """
        try:
            self.policy.check_url(str(url))
        except RefusedURL as exc:
            raise exc.located(source, url) from None
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        host = host_of(url)
        state = self._host(host)
        async with state.semaphore:
            await self._space_out(state)
            try:
                response = await self._within_deadline(url, headers, params, source)
            except (FetchTimeout, TransportError, ResponseTooLarge):
                self.host_failures[host] += 1
                raise
            except HTTPStatusError as exc:
                if exc.transient:
                    self.host_failures[host] += 1
                raise
        self.host_failures[host] = 0
        return response

    async def _within_deadline(
        self, url: str, headers: dict[str, str], params: Mapping[str, str] | None, source: str | None
    ) -> Response:
        deadline = self.limits.total_timeout
        try:
            async with asyncio.timeout(deadline):
                return await self._follow(url, headers, params, source)
        except TimeoutError:
            raise FetchTimeout(f"gave up after {deadline:g} s in total (the server sends too slowly)",
                               source=source, url=url) from None

    async def _follow(
        self, url: str, headers: dict[str, str], params: Mapping[str, str] | None, source: str | None
    ) -> Response:
        """Follow redirects one hop at a time, each hop checked by the fetch policy."""
        current = url
        for hop in range(self.limits.max_redirects + 1):
            token = redirected_from.set(origin_of(url) if hop else None)
            try:
                response, location = await self._stream(current, headers, params, source)
            finally:
                redirected_from.reset(token)
            if location is None:
                return response
            try:
                target = str(httpx.URL(current).join(location))
                self.policy.check_redirect(url, current, target)
            except httpx.InvalidURL as exc:
                raise TransportError(f"redirect to an unusable URL: {exc}", source=source, url=url) from None
            except RefusedURL as exc:
                raise exc.located(source, url) from None
            current, params = target, None  # the query of a redirect target is its own
        raise TransportError(f"more than {self.limits.max_redirects} redirects", source=source, url=url)

    async def _stream(
        self, url: str, headers: dict[str, str], params: Mapping[str, str] | None, source: str | None
    ) -> tuple[Response, str | None]:
        """One request; returns the response, or the Location of a redirect to follow."""
        try:
            async with self.client.stream("GET", url, headers=headers, params=params) as reply:
                if reply.is_redirect and reply.status_code != 304:
                    return Response(str(reply.url), reply.status_code, dict(reply.headers)), reply.headers["location"]
                if reply.status_code == 304:
                    return Response(str(reply.url), 304, dict(reply.headers)), None
                if reply.status_code >= 400:
                    raise HTTPStatusError(reply.status_code, source=source, url=url)
                declared = reply.headers.get("content-length")
                if declared and declared.isdigit() and int(declared) > self.limits.max_bytes:
                    raise ResponseTooLarge(
                        f"response is {int(declared):,} bytes, over the {self.limits.max_bytes:,} limit",
                        source=source, url=url,
                    )
                chunks: list[bytes] = []
                size = 0
                async for chunk in reply.aiter_bytes():
                    size += len(chunk)
                    if size > self.limits.max_bytes:
                        raise ResponseTooLarge(
                            f"response passed the {self.limits.max_bytes:,} byte limit; download stopped",
                            source=source, url=url,
                        )
                    chunks.append(chunk)
                body = b"".join(chunks)
                return Response(str(reply.url), reply.status_code, dict(reply.headers), body), None
        except RefusedURL as exc:  # from the connect-time check, after DNS
            raise exc.located(source, url) from None
        except httpx.TimeoutException as exc:
            kind = "connecting" if isinstance(exc, httpx.ConnectTimeout) else "waiting for data"
            raise FetchTimeout(f"timed out {kind}", source=source, url=url) from None
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            reason = f"connection failed: {exc.__class__.__name__}: {exc}"
            raise TransportError(reason, source=source, url=url) from None
