"""Chat backends behind one small protocol, so WeCom or DingTalk can be added beside Telegram.

A backend turns an :class:`Outgoing` message into a sent message id, or raises
:class:`~responders.errors.DeliveryError` with ``permanent`` set when retrying
cannot help (unknown chat, bot removed, malformed text).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable


@dataclass(frozen=True)
class Button:
    text: str
    data: str  # callback data, ≤ 64 bytes; the same string works as a console command hint


@dataclass(frozen=True)
class Outgoing:
    """One message to deliver: HTML text, optional buttons (rows) and attachment."""

    chat_id: str
    text: str
    buttons: tuple[tuple[Button, ...], ...] = field(default=())
    attachment_path: str | None = None


@runtime_checkable
class Notifier(Protocol):
    """A chat backend."""

    name: str

    async def send(self, message: Outgoing) -> str:
        """Deliver *message*; return the backend's message id."""
        ...

    async def edit(self, chat_id: str, message_id: str, text: str,
                   buttons: tuple[tuple[Button, ...], ...] = ()) -> None:
        """Replace the text (and buttons) of a message sent earlier."""
        ...


def buttons_from_json(raw: list[Any] | None) -> tuple[tuple[Button, ...], ...]:
    """Buttons as stored in ``OutboxMessage.buttons``: ``[[{"text":…, "data":…}, …], …]``."""
    return tuple(tuple(Button(b["text"], b["data"]) for b in row) for row in raw or [])


def buttons_to_json(rows: tuple[tuple[Button, ...], ...] | list[Any]) -> list[Any]:
    return [[{"text": b.text, "data": b.data} for b in row] for row in rows]
