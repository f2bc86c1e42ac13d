"""A callback as the vendors send it, without any web framework (the wiring adapts Starlette to it)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class CallbackRequest:
    method: str
    path: str
    query: Mapping[str, str]
    headers: Mapping[str, str]  # lower-case names
    body: bytes


@dataclass(frozen=True)
class CallbackResponse:
    status: int = 200
    body: bytes = b""
    content_type: str = "text/plain; charset=utf-8"
    headers: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def refused(cls, why: str) -> CallbackResponse:
        """What a forged, stale or replayed callback gets: 403 and nothing changed."""
        return cls(403, why.encode("utf-8"))


CallbackHandler = Callable[[CallbackRequest], Awaitable[CallbackResponse]]
