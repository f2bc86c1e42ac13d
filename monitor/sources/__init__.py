"""Kinds of source, as a registry of Protocol implementations (one module per kind).

A kind knows how to turn one configured source into normalised items; it
does not touch the database or decide when to poll. The poller hands it a
:class:`FetchContext` (shared fetcher, stored validators, what was seen) and
gets back a :class:`FetchOutcome`. Add a kind by writing a module with a class
that has ``name``, ``Options`` and ``fetch`` and calling :func:`register`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar, Protocol, runtime_checkable

from pydantic import BaseModel

from monitor.errors import UnknownSourceError
from monitor.fetch import Fetcher
from monitor.items import NormalisedItem

if TYPE_CHECKING:
    from monitor.config import SourceSpec


@dataclass(frozen=True)
class SeenItem:
    """What the store already holds for an external id (lets portals stop paginating)."""

    external_id: str
    reply_status: str | None
    has_reply: bool


async def nothing_seen(_external_ids: Sequence[str]) -> Mapping[str, SeenItem]:
    return {}


@dataclass(frozen=True)
class FetchContext:
    """``seen`` looks many external ids up at once (one query in a worker thread): what the store holds."""

    fetcher: Fetcher
    now: dt.datetime
    etag: str | None = None
    last_modified: str | None = None
    seen: Callable[[Sequence[str]], Awaitable[Mapping[str, SeenItem]]] = nothing_seen


@dataclass(frozen=True)
class FetchOutcome:
    """Items of one fetch, plus the validators to keep (None when the parse was partial)."""

    items: list[NormalisedItem] = field(default_factory=list)
    not_modified: bool = False
    etag: str | None = None
    last_modified: str | None = None
    warnings: list[str] = field(default_factory=list)
    keep_validators: bool = True


@runtime_checkable
class SourceKind(Protocol):
    name: ClassVar[str]
    Options: ClassVar[type[BaseModel]]

    async def fetch(self, spec: SourceSpec, ctx: FetchContext) -> FetchOutcome:
        """Fetch once and return normalised items; raise a SourceError naming the URL."""
        ...


registry: dict[str, SourceKind] = {}


def register(kind: SourceKind) -> SourceKind:
    registry[kind.name] = kind
    return kind


def get_kind(name: str) -> SourceKind:
    try:
        return registry[name]
    except KeyError:
        raise UnknownSourceError(f"unknown source kind {name!r} (known: {', '.join(sorted(registry))})") from None


def _load_builtin() -> None:
    from monitor.sources import feed, polled_import, portal, weibo  # noqa: F401  (they register)


_load_builtin()
