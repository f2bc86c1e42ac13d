"""Hostile command arguments never silence the chat: on the console reader and through the fake Bot API.

Each command is fed a table of hostile ids and texts; every one gets an answer (a refusal with
the usage, or an apology naming the command) and the reader goes on to the next line.
"""

from __future__ import annotations

import asyncio
import io

import pytest
from responders_support import DUTY_STAFF
from sqlalchemy import select
from telegram import Update

from responders.bot import build_application
from responders.cases import Actor
from responders.desk_commands import COMMANDS, MAX_ID, parse_id, press_button, run_command
from responders.errors import BadCommand
from responders.intake import process_event
from responders.notifiers.console import read_commands
from responders.notifiers.telegram import TelegramNotifier
from responders.outbox import OutboxSender
from store.database import session_scope
from store.models import Case, CaseAudit, Event

DUTY_CHAT = -1001000000001
HOSTILE_IDS = ["9223372036854775808", "¹", "٣", "-1", "0", "#", "1e3", "9" * 40, "1;DROP TABLE items", "'",
               "0x10", "１", str(MAX_ID + 1)]


@pytest.mark.parametrize("word", HOSTILE_IDS)
def test_ids_are_ascii_positive_and_fit_the_store(word):
    with pytest.raises(BadCommand):
        parse_id(word, "/cases 事件号")


def test_good_ids_parse():
    assert parse_id("12", "") == 12 and parse_id("#7", "") == 7 and parse_id(str(MAX_ID), "") == MAX_ID


def _hostile_lines() -> list[str]:
    lines = [f"/{name} {word} 理由" for name in COMMANDS for word in HOSTILE_IDS]
    lines += ["/cases", "/", "/acknowledge\x00", "/nosuch 1", "/line 1 " + "长" * 5000,
              "/respond 1 javascript:alert(1)"]
    return lines


def test_console_reader_answers_every_hostile_line_and_goes_on(desk, members):
    actor = Actor("console", members.duty.chief, "console")
    lines = _hostile_lines()
    out = io.StringIO()

    async def handle(line: str) -> str:
        if line == "/boom":  # a handler that fails in a way nobody foresaw
            raise RuntimeError("boom")
        return run_command(desk, actor, line).text

    script = "\n".join([*lines, "/boom", "/status"]) + "\n"
    asyncio.run(read_commands(handle, io.StringIO(script), out, templates=desk.templates))
    answers = out.getvalue()
    assert answers.count("编号应为 1 到") == len(COMMANDS) * len(HOSTILE_IDS)
    assert "抱歉，/boom 执行时出错" in answers
    assert "在办任务" in answers  # the last command, after all of them, was still read
    assert "Traceback" not in answers


def test_an_unexpected_handler_error_is_an_apology_naming_the_command(desk):
    actor = Actor("duty", DUTY_STAFF, str(DUTY_CHAT))
    desk.sessions = None  # a fault nobody foresaw: every store call now fails with a TypeError
    reply = run_command(desk, actor, "/cases 1")
    assert "抱歉，/cases 执行时出错" in reply.text
    assert "抱歉，/acknowledge 执行时出错" in press_button(desk, actor, "case:acknowledge:1").text


@pytest.fixture
def duty_alert(sessions, playbook, members, templates, make_event, clock) -> int:
    event_id = make_event("长春市某小学强制补课收费", "家长反映每月收费800元", heat=30)
    with session_scope(sessions) as session:
        process_event(session, session.get(Event, event_id), playbook, members, templates, clock())
    return event_id


def test_bot_answers_every_hostile_command_and_button(api, sessions, desk, clock, duty_alert):
    async def scenario() -> None:
        app = build_application("123:TEST", api.base_url, desk)
        await app.initialize()
        try:
            await OutboxSender(sessions, TelegramNotifier(app.bot), clock).run_once()
            alert = next(
                c for c in api.sent() if int(c.params["chat_id"]) == DUTY_CHAT and "舆情预警" in c.params["text"]
            )
            mid = alert.result["message_id"]
            updates = 0

            async def feed(update: dict) -> None:
                nonlocal updates
                updates += 1
                await app.process_update(Update.de_json({"update_id": 10_000 + updates, **update}, app.bot))

            for line in _hostile_lines():
                before = len(api.sent())
                await feed(api.message_update(DUTY_STAFF, DUTY_CHAT, line))
                if line.split()[0].split("\x00")[0] in ("/", "/nosuch") or line.startswith("/acknowledge\x00"):
                    continue  # not a command this bot registered: nothing to answer
                assert len(api.sent()) == before + 1, line
                assert "内部错误" not in api.sent()[-1].params["text"], line
            for data in [f"event:confirm:{w}" for w in HOSTILE_IDS] + [
                    "case:acknowledge:", "x", "event:nosuch:1", "case:acknowledge:1:2", "a:ack:1:2",
                    "event:acknowledge:1", ""]:
                before = len(api.sent("answerCallbackQuery"))
                await feed(api.button_update(DUTY_STAFF, DUTY_CHAT, mid, data))
                if data:
                    assert len(api.sent("answerCallbackQuery")) == before + 1, data
            await feed(api.message_update(DUTY_STAFF, DUTY_CHAT, "/status"))
            assert "在办任务" in api.sent()[-1].params["text"]
        finally:
            await app.shutdown()
        with session_scope(sessions) as session:  # only the one well-formed /respond changed a case
            actions = [e.action for e in session.scalars(select(CaseAudit))]
            assert actions.count("respond") == 1 and set(actions) <= {"open", "notify", "respond"}
            answered = session.scalars(select(Case).where(Case.responded_at.is_not(None))).one()
            assert answered.response_url is None and answered.response_text == "javascript:alert(1)"

    asyncio.run(scenario())
