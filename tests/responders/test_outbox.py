from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from sqlalchemy import select
from telegram import Bot

from responders.notifiers import Button
from responders.notifiers.telegram import TelegramNotifier
from responders.outbox import OutboxSender, RetryPolicy, enqueue
from store.database import session_scope
from store.models import OutboxMessage

CHAT = -1001000000001


def send_round(sessions, api, clock, policy: RetryPolicy | None = None):
    """One outbox round through a fresh Bot (as after a restart)."""

    async def run():
        bot = Bot("123:TEST", base_url=api.base_url)
        async with bot:
            sender = OutboxSender(sessions, TelegramNotifier(bot), clock, policy=policy)
            sender.recover()
            return await sender.run_once()

    return asyncio.run(run())


def queue(sessions, clock, key: str, text: str = "预警", chat: int = CHAT, **kw) -> None:
    with session_scope(sessions) as session:
        enqueue(session, dedupe_key=key, kind="event", chat_id=chat, text=text, now=clock(), **kw)


def rows(sessions) -> dict[str, OutboxMessage]:
    with session_scope(sessions) as session:
        return {a.dedupe_key: a for a in session.scalars(select(OutboxMessage))}


def test_enqueue_is_idempotent_per_dedupe_key(sessions, clock) -> None:
    queue(sessions, clock, "k1")
    queue(sessions, clock, "k1", text="again")
    assert [a.text for a in rows(sessions).values()] == ["预警"]


def test_sends_with_buttons_and_records_message_id(sessions, api, clock) -> None:
    queue(sessions, clock, "k1", text="<b>事件</b> &lt;x&gt;", buttons=[[Button("确认", "event:confirm:1")]])
    report = send_round(sessions, api, clock)
    assert report.sent == 1
    call = api.sent()[0]
    assert call.params["parse_mode"] == "HTML" and call.params["text"] == "<b>事件</b> &lt;x&gt;"
    assert "event:confirm:1" in call.params["reply_markup"]
    row = rows(sessions)["k1"]
    assert row.state == "sent" and row.message_id is not None and row.sent_at == clock() and row.attempts == 1


def test_restart_sends_what_is_left_and_repeats_nothing(sessions, api, clock) -> None:
    queue(sessions, clock, "a")
    send_round(sessions, api, clock)
    queue(sessions, clock, "b")
    queue(sessions, clock, "c")
    with session_scope(sessions) as session:  # the service died while sending c
        session.scalar(select(OutboxMessage).where(OutboxMessage.dedupe_key == "c")).state = "sending"
    send_round(sessions, api, clock)  # a new process: recover, then send
    send_round(sessions, api, clock)
    texts = [c.params["text"] for c in api.sent()]
    assert len(texts) == 3
    assert {a.state for a in rows(sessions).values()} == {"sent"}


def test_429_waits_as_long_as_telegram_asks(sessions, api, clock) -> None:
    queue(sessions, clock, "a")
    queue(sessions, clock, "b")
    api.fail_next("sendMessage", 429, retry_after=30)
    report = send_round(sessions, api, clock, RetryPolicy(base=dt.timedelta(seconds=1)))
    assert (report.sent, report.retried) == (0, 1)  # b waits behind a: order per chat is kept
    a = rows(sessions)["a"]
    assert a.state == "pending" and a.next_attempt_at == clock() + dt.timedelta(seconds=30)
    assert "flood control" in a.last_error
    assert send_round(sessions, api, clock).sent == 1  # b only; a is not due yet
    clock.advance(dt.timedelta(seconds=30))
    assert send_round(sessions, api, clock).sent == 1
    assert [c.params["text"] for c in api.sent()] == ["预警", "预警"]
    assert rows(sessions)["a"].attempts == 2


def test_502_is_retried_with_backoff(sessions, api, clock) -> None:
    queue(sessions, clock, "a")
    api.fail_next("sendMessage", 502, times=2)
    policy = RetryPolicy(base=dt.timedelta(seconds=10), maximum=dt.timedelta(seconds=15))
    send_round(sessions, api, clock, policy)
    assert rows(sessions)["a"].next_attempt_at == clock() + dt.timedelta(seconds=10)
    clock.advance(dt.timedelta(seconds=10))
    send_round(sessions, api, clock, policy)
    assert rows(sessions)["a"].next_attempt_at == clock() + dt.timedelta(seconds=15)  # capped
    clock.advance(dt.timedelta(seconds=15))
    assert send_round(sessions, api, clock, policy).sent == 1
    row = rows(sessions)["a"]
    assert row.state == "sent" and row.attempts == 3 and row.last_error is None


def test_permanent_error_marks_failed(sessions, api, clock) -> None:
    queue(sessions, clock, "a")
    api.fail_next("sendMessage", 400)
    report = send_round(sessions, api, clock)
    row = rows(sessions)["a"]
    assert report.failed == 1 and row.state == "failed" and row.last_error
    assert send_round(sessions, api, clock).sent == 0


def test_gives_up_after_max_attempts(sessions, api, clock) -> None:
    queue(sessions, clock, "a")
    api.fail_next("sendMessage", 502, times=2)
    policy = RetryPolicy(base=dt.timedelta(seconds=1), maximum=dt.timedelta(seconds=1), max_attempts=2)
    send_round(sessions, api, clock, policy)
    clock.advance(dt.timedelta(seconds=1))
    send_round(sessions, api, clock, policy)
    assert rows(sessions)["a"].state == "failed"


def test_document_attachment(sessions, api, clock, tmp_path) -> None:
    report_file = tmp_path / "weekly.txt"
    report_file.write_text("周报", encoding="utf-8")
    queue(sessions, clock, "r", text="周报", attachment_path=str(report_file))
    assert send_round(sessions, api, clock).sent == 1
    call = api.sent("sendDocument")[0]
    assert call.params["caption"] == "周报" and call.params["document"].startswith("<file")


def test_retry_policy_refuses_nonsense() -> None:
    with pytest.raises(ValueError, match="positive"):
        RetryPolicy(base=dt.timedelta(0))
