"""Refusing stale and replayed callbacks, after the vendor's own signature check has passed.

Every vendor signs a timestamp; a callback older (or further in the future) than the window is
refused, and one seen before within the window is refused as a replay. Seen keys are kept in
memory for the window only: a replay after the window is stale anyway, and a replay across a
restart within it can at most repeat a press, which the desk answers with "already done".
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import threading
from collections.abc import Callable

from responders.errors import ResponderError

log = logging.getLogger(__name__)


class CallbackRefused(ResponderError):
    """A vendor callback failed its signature, timestamp or replay check; nothing was changed."""


class ReplayGuard:
    """Accepts each (vendor, signed key, body) once, and only within *window* of its timestamp."""

    def __init__(self, window: dt.timedelta, clock: Callable[[], dt.datetime]) -> None:
        if window <= dt.timedelta(0):
            raise ValueError("the callback window must be positive")
        self.window = window
        self.clock = clock
        self._seen: dict[str, dt.datetime] = {}
        self._lock = threading.Lock()

    def check(self, vendor: str, sent_at: dt.datetime, key: str, body: bytes) -> None:
        """Raise :class:`CallbackRefused` for a stale or repeated callback; remember a fresh one."""
        now = self.clock()
        if abs(now - sent_at) > self.window:
            raise CallbackRefused(f"{vendor} callback timestamp {sent_at.isoformat()} is outside the {self.window} "
                                  "window; refused")
        digest = hashlib.sha256(f"{vendor}\0{key}\0".encode() + body).hexdigest()
        with self._lock:
            self._seen = {k: t for k, t in self._seen.items() if now - t <= self.window}
            if digest in self._seen:
                raise CallbackRefused(f"{vendor} callback seen before (a replay); refused")
            self._seen[digest] = now


def from_epoch(value: str | int | float | None, *, millis: bool = False) -> dt.datetime:
    """A vendor's epoch timestamp as an aware datetime; a missing or malformed one is refused."""
    try:
        seconds = float(value) / (1000 if millis else 1)  # type: ignore[arg-type]
        return dt.datetime.fromtimestamp(seconds, dt.UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        raise CallbackRefused(f"bad callback timestamp: {str(value)[:32]!r}") from None


def refuse(vendor: str, request_path: str, exc: Exception) -> None:
    """Log a refused callback (the duty officer's log shows what came and why it was refused)."""
    log.warning("%s callback on %s refused: %s", vendor, request_path, exc)
