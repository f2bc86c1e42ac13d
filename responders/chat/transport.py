"""The HTTP side every vendor shares: JSON calls through httpx, with failures sorted for the outbox.

A network error, a timeout, HTTP 429 or a 5xx answer is transient (the outbox retries it);
what each vendor's own error codes mean is decided by the vendor module.
"""

from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from responders.errors import DeliveryError


async def call(client: httpx.AsyncClient, vendor: str, method: str, url: str, **kwargs: Any) -> tuple[int, Any]:
    """(status, decoded JSON body) of one call; transport failures raise a transient DeliveryError."""
    try:
        response = await client.request(method, url, **kwargs)
    except httpx.HTTPError as exc:
        raise DeliveryError(f"{vendor} network error: {type(exc).__name__}: {exc}", permanent=False) from exc
    if response.status_code == 429 or response.status_code >= 500:
        wait = response.headers.get("retry-after", "")
        retry = dt.timedelta(seconds=int(wait)) if wait.isdigit() else None
        raise DeliveryError(f"{vendor} unavailable for now (HTTP {response.status_code})", permanent=False,
                            retry_after=retry)
    try:
        return response.status_code, response.json()
    except ValueError:
        raise DeliveryError(f"{vendor} answered with something not JSON (HTTP {response.status_code})",
                            permanent=response.status_code < 500) from None


class AccessToken:
    """A vendor's access token, kept until five minutes before it expires and fetched again on demand
    (or after the vendor said it is no longer valid: :meth:`forget`)."""

    def __init__(self) -> None:
        self._value: tuple[str, dt.datetime] | None = None

    async def get(self, fetch: Callable[[], Awaitable[tuple[str, int]]]) -> str:
        """The cached token, or a new one from *fetch* (which returns the token and its lifetime in seconds)."""
        now = dt.datetime.now(dt.UTC)
        if self._value is not None and self._value[1] > now:
            return self._value[0]
        token, lifetime = await fetch()
        self._value = (token, now + dt.timedelta(seconds=max(lifetime - 300, 60)))
        return token

    def forget(self) -> None:
        self._value = None


class VendorClient(ABC):
    """What every vendor's sender shares: one HTTP client on the vendor's API base URL and its access token.

    A subclass says how to fetch a token (:meth:`_fetch_token`) and calls :meth:`_access_token` before
    each API call; after the vendor rejects a token it calls ``self._token.forget()``.
    """

    def __init__(self, api_url: str, *, timeout: float) -> None:
        self.client = httpx.AsyncClient(base_url=api_url.rstrip("/"), timeout=timeout)
        self._token = AccessToken()

    async def aclose(self) -> None:
        await self.client.aclose()

    async def _access_token(self) -> str:
        return await self._token.get(self._fetch_token)

    @abstractmethod
    async def _fetch_token(self) -> tuple[str, int]:
        """A new token from the vendor and its lifetime in seconds."""
