"""Delivery that loses nothing: the outbox of :class:`~store.models.OutboxMessage` rows.

Writers call :func:`enqueue` inside their own transaction, so an alert exists
exactly when the change that caused it was committed; ``dedupe_key`` makes
enqueueing idempotent. :class:`OutboxSender` claims a pending row by a
compare-and-set to ``sending`` (state written before sending), sends, then
records ``sent`` with the message id (state written after). Transient errors go
back to ``pending`` with exponential backoff, or the wait Telegram asked for;
permanent ones become ``failed`` with the error, visible in ``/status``.

A crash between "sending" and "sent" leaves a row in ``sending``; on start
:meth:`OutboxSender.recover` returns such rows to ``pending``. That can repeat
at most the one message that was in flight at the crash — repeating it is
better than losing it. A clean shutdown never leaves such a row.

Every store read and write of :meth:`OutboxSender.run_once` runs in a worker thread; only the
send itself is awaited on the event loop.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from responders.cases import Actor, State, transition
from responders.errors import DeliveryError
from responders.messages import clip_html
from responders.notifiers import Button, Notifier, Outgoing, buttons_from_json, buttons_to_json
from store.database import session_scope
from store.models import Case, OutboxMessage

log = logging.getLogger(__name__)

Clock = Callable[[], dt.datetime]
SentHook = Callable[[Session, OutboxMessage, dt.datetime], None]


@dataclass(frozen=True)
class RetryPolicy:
    """Backoff for transient errors: base·2^(n-1), capped; give up after max_attempts."""

    base: dt.timedelta = dt.timedelta(seconds=5)
    maximum: dt.timedelta = dt.timedelta(minutes=10)
    max_attempts: int = 50

    def __post_init__(self) -> None:
        if self.base <= dt.timedelta(0) or self.maximum < self.base:
            raise ValueError("retry base must be positive and not above the maximum")
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")

    def delay(self, attempts: int) -> dt.timedelta:
        wait: dt.timedelta = min(self.base * (2 ** max(attempts - 1, 0)), self.maximum)
        return wait


def enqueue(session: Session, *, dedupe_key: str, kind: str, chat_id: int | str, text: str, now: dt.datetime,
            buttons: Sequence[Sequence[Button]] = (), event_id: int | None = None,
            case_id: int | None = None, source_id: int | None = None,
            attachment_path: str | None = None) -> OutboxMessage | None:
    """Queue one message unless one with *dedupe_key* exists; returns the new row or None.

    The text is clipped to what a chat message can hold, so every producer
    (alerts, reminders, reports) gets the same limit.
    """
    if session.scalar(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe_key)) is not None:
        return None
    alert = OutboxMessage(dedupe_key=dedupe_key, kind=kind, chat_id=str(chat_id), text=clip_html(text),
                  buttons=buttons_to_json([tuple(r) for r in buttons]) or None, event_id=event_id,
                  case_id=case_id, source_id=source_id, attachment_path=attachment_path,
                  state="pending", attempts=0, next_attempt_at=now, created_at=now)
    try:
        with session.begin_nested():
            session.add(alert)
    except IntegrityError:  # a concurrent writer queued the same key first
        return None
    return alert


def mark_notified(session: Session, alert: OutboxMessage, now: dt.datetime) -> None:
    """A delivered department notice moves its case from new to notified."""
    if alert.kind != "case" or alert.case_id is None:
        return
    a = session.get(Case, alert.case_id)
    if a is not None and a.state == State.new.value:
        transition(session, a, "notify", Actor("system", chat_id=alert.chat_id), now=now,
                   message_id=alert.message_id)


@dataclass
class SendReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)


class OutboxSender:
    """Claims due rows, sends them through a :class:`Notifier`, records the outcome."""

    def __init__(self, sessions: sessionmaker[Session], notifier: Notifier, clock: Clock, *,
                 policy: RetryPolicy | None = None, hooks: Sequence[SentHook] = (mark_notified,),
                 batch: int = 50) -> None:
        self.sessions = sessions
        self.notifier = notifier
        self.clock = clock
        self.policy = policy or RetryPolicy()
        self.hooks = list(hooks)
        self.batch = batch

    def recover(self) -> int:
        """Return rows left in ``sending`` by a crash to ``pending``."""
        with session_scope(self.sessions) as session:
            result = cast(CursorResult[Any], session.execute(
                update(OutboxMessage).where(OutboxMessage.state == "sending").values(state="pending")))
            count = result.rowcount or 0
        if count:
            log.warning("outbox: %d message(s) were being sent when the service stopped; sending again", count)
        return count

    async def run_once(self) -> SendReport:
        """Send every due row once; a chat that asked us to wait is skipped for this round."""
        report = SendReport()
        due = await asyncio.to_thread(self._due, self.clock())
        blocked: set[str] = set()
        for alert_id, chat_id in due:
            if chat_id in blocked:
                continue
            outcome = await self._deliver(alert_id, report)
            if outcome == "retry":
                blocked.add(chat_id)  # keep this chat's messages in order
        return report

    def _due(self, now: dt.datetime) -> list[tuple[int, str]]:
        with session_scope(self.sessions) as session:
            return [(row.id, row.chat_id) for row in session.execute(
                select(OutboxMessage.id, OutboxMessage.chat_id)
                .where(OutboxMessage.state == "pending", OutboxMessage.next_attempt_at <= now)
                .order_by(OutboxMessage.id).limit(self.batch))]

    def _claim(self, alert_id: int) -> Outgoing | None:
        with session_scope(self.sessions) as session:
            claimed = cast(CursorResult[Any], session.execute(
                update(OutboxMessage).where(OutboxMessage.id == alert_id, OutboxMessage.state == "pending")
                .values(state="sending", attempts=OutboxMessage.attempts + 1)))
            if not claimed.rowcount:
                return None
            alert = session.get(OutboxMessage, alert_id)
            assert alert is not None
            return Outgoing(alert.chat_id, alert.text, buttons_from_json(alert.buttons), alert.attachment_path)

    async def _deliver(self, alert_id: int, report: SendReport) -> str:
        outgoing = await asyncio.to_thread(self._claim, alert_id)
        if outgoing is None:
            return "skipped"
        try:
            message_id = await self.notifier.send(outgoing)
        except DeliveryError as exc:
            return await asyncio.to_thread(self._failed, alert_id, exc, report)
        except Exception as exc:  # an unknown error must not lose the alert: retry it
            log.exception("outbox: unexpected error sending alert %d", alert_id)
            error = DeliveryError(f"{type(exc).__name__}: {exc}", permanent=False)
            return await asyncio.to_thread(self._failed, alert_id, error, report)
        await asyncio.to_thread(self._sent, alert_id, message_id)
        report.sent += 1
        return "sent"

    def _sent(self, alert_id: int, message_id: str) -> None:
        now = self.clock()
        with session_scope(self.sessions) as session:
            alert = session.get(OutboxMessage, alert_id)
            assert alert is not None
            alert.state, alert.message_id, alert.sent_at, alert.last_error = "sent", message_id, now, None
            session.flush()
            for hook in self.hooks:
                hook(session, alert, now)

    def _failed(self, alert_id: int, exc: DeliveryError, report: SendReport) -> str:
        now = self.clock()
        with session_scope(self.sessions) as session:
            alert = session.get(OutboxMessage, alert_id)
            assert alert is not None
            alert.last_error = str(exc)
            report.errors.append(f"alert {alert_id}: {exc}")
            if exc.permanent or alert.attempts >= self.policy.max_attempts:
                alert.state = "failed"
                report.failed += 1
                log.error("outbox: alert %d to chat %s failed for good: %s", alert_id, alert.chat_id, exc)
                return "failed"
            wait = self.policy.delay(alert.attempts)
            if exc.retry_after is not None:
                wait = max(wait, exc.retry_after)
            alert.state, alert.next_attempt_at = "pending", now + wait
            report.retried += 1
            log.warning("outbox: alert %d to chat %s will be retried in %s: %s", alert_id, alert.chat_id, wait, exc)
            return "retry"
