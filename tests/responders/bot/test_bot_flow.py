"""The real python-telegram-bot Application against the fake Bot API on loopback."""

from __future__ import annotations

import asyncio
import datetime as dt
import json

import pytest
from responders_support import DUTY_STAFF, EDU_MEMBER, STRANGER, TRAFFIC_MEMBER
from sqlalchemy import select
from telegram import Update

from responders.bot import build_application
from responders.intake import process_event
from responders.notifiers.telegram import TelegramNotifier
from responders.outbox import OutboxSender
from store.database import session_scope
from store.models import Case, CaseAudit, Event

EDU_CHAT = -1001000000101
DUTY_CHAT = -1001000000001


@pytest.fixture
def routed_event(sessions, playbook, members, templates, make_event, clock):
    """An education event in 长春 routed into cases; returns {department: case id}."""
    event_id = make_event("长春市某小学强制补课收费", "家长反映 <script>alert(1)</script> 每月收费800元", heat=30)
    with session_scope(sessions) as session:
        process_event(session, session.get(Event, event_id), playbook, members, templates, clock())
        return {a.department_key: a.id for a in session.scalars(select(Case))}


class Harness:
    """The Application plus the outbox sender, both on the fake API."""

    def __init__(self, api, sessions, desk, clock) -> None:
        self.api = api
        self.app = build_application("123:TEST", api.base_url, desk)
        self.sender = OutboxSender(sessions, TelegramNotifier(self.app.bot), clock)

    async def __aenter__(self) -> Harness:
        await self.app.initialize()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.app.shutdown()

    async def feed(self, update: dict) -> None:
        update = {"update_id": next(self.api._update_ids), **update}
        await self.app.process_update(Update.de_json(update, self.app.bot))

    def message_in(self, chat: int, contains: str):
        return next(c for c in self.api.sent() if int(c.params["chat_id"]) == chat and contains in c.params["text"])

    def message_id(self, call) -> int:
        return call.result["message_id"]


def history(sessions, case_id: int) -> list[CaseAudit]:
    with session_scope(sessions) as session:
        return list(session.scalars(select(CaseAudit).where(CaseAudit.case_id == case_id)
                                    .order_by(CaseAudit.id)))


def test_alert_button_acknowledgement_edit(api, sessions, desk, clock, routed_event) -> None:
    edu = routed_event["省教育厅"]

    async def scenario() -> None:
        async with Harness(api, sessions, desk, clock) as h:
            report = await h.sender.run_once()
            assert report.sent == len(routed_event) + 1, api.calls  # one notice per department + the duty alert
            duty = h.message_in(DUTY_CHAT, "舆情预警")
            assert "&lt;script&gt;" in duty.params["text"] and "<script>" not in duty.params["text"]
            assert [b["callback_data"] for b in json.loads(duty.params["reply_markup"])["inline_keyboard"][0]] == [
                f"event:{a}:{json.loads('1')}" for a in ("confirm", "ignore", "assign", "consult")]
            notice = h.message_in(EDU_CHAT, f"任务 #{edu}")
            # delivery moved the case to notified
            assert [e.action for e in history(sessions, edu)] == ["open", "notify"]
            # real polling: the update comes through getUpdates
            await h.app.start()
            await h.app.updater.start_polling(poll_interval=0.0, timeout=dt.timedelta(seconds=1))
            try:
                api.inject(api.button_update(EDU_MEMBER, EDU_CHAT, h.message_id(notice), f"case:acknowledge:{edu}",
                                             "王联络"))
                await asyncio.to_thread(api.wait_for, "editMessageText")
            finally:
                await h.app.updater.stop()
                await h.app.stop()
            edit = api.sent("editMessageText")[0]
            assert "已签收：王联络 (200101)" in edit.params["text"]
            buttons = [b["text"] for b in json.loads(edit.params["reply_markup"])["inline_keyboard"][0]]
            assert buttons == ["申请延期", "提交回应", "转办"]
            last = history(sessions, edu)[-1]
            assert (last.action, last.actor, last.chat_id, last.to_state) == (
                "acknowledge", "王联络 (200101)", str(EDU_CHAT), "acknowledged")
            # the second press changes nothing and says so
            await h.feed(api.button_update(EDU_MEMBER, EDU_CHAT, h.message_id(notice), f"case:acknowledge:{edu}"))
            answer = api.sent("answerCallbackQuery")[-1]
            assert "已经「签收」过了" in answer.params["text"] and answer.params["show_alert"] == "true"
            assert len(api.sent("editMessageText")) == 1
            assert len(history(sessions, edu)) == 3

    asyncio.run(scenario())


def test_wrong_department_and_non_duty_are_refused(api, sessions, desk, clock, routed_event) -> None:
    edu = routed_event["省教育厅"]

    async def scenario() -> None:
        async with Harness(api, sessions, desk, clock) as h:
            await h.sender.run_once()
            notice = h.message_in(EDU_CHAT, f"任务 #{edu}")
            await h.feed(api.button_update(TRAFFIC_MEMBER, EDU_CHAT, h.message_id(notice), f"case:acknowledge:{edu}"))
            refusal = api.sent("answerCallbackQuery")[-1].params["text"]
            assert "属于省教育厅" in refusal and "省交通厅" in refusal
            await h.feed(api.button_update(STRANGER, EDU_CHAT, h.message_id(notice), f"case:respond:{edu}"))
            assert "不在 members.yaml" in api.sent("answerCallbackQuery")[-1].params["text"]
            duty = h.message_in(DUTY_CHAT, "舆情预警")
            await h.feed(api.button_update(EDU_MEMBER, DUTY_CHAT, h.message_id(duty), "event:ignore:1"))
            assert "只有新闻办值班人员" in api.sent("answerCallbackQuery")[-1].params["text"]
            await h.feed(api.message_update(EDU_MEMBER, EDU_CHAT, f"/dismiss {edu} 不归我们管"))
            assert "只有新闻办值班人员可以撤销" in api.sent()[-1].params["text"]
            assert api.sent("editMessageText") == []
            assert [e.action for e in history(sessions, edu)] == ["open", "notify"]

    asyncio.run(scenario())


def test_respond_button_asks_then_records(api, sessions, desk, clock, routed_event) -> None:
    edu = routed_event["省教育厅"]

    async def scenario() -> None:
        async with Harness(api, sessions, desk, clock) as h:
            await h.sender.run_once()
            notice = h.message_in(EDU_CHAT, f"任务 #{edu}")
            await h.feed(api.button_update(EDU_MEMBER, EDU_CHAT, h.message_id(notice), f"case:respond:{edu}"))
            question = api.sent()[-1]
            assert "回应的链接或文字" in question.params["text"] and "force_reply" in question.params["reply_markup"]
            await h.feed(api.message_update(EDU_MEMBER, EDU_CHAT, "https://jyt.jl.gov.cn/reply/88"))
            assert "已提交回应" in api.sent()[-1].params["text"]
            assert "已提交回应" in api.sent("editMessageText")[-1].params["text"]
            with session_scope(sessions) as session:
                a = session.get(Case, edu)
                assert a.state == "responded" and a.response_url == "https://jyt.jl.gov.cn/reply/88"
                assert a.responded_on_time is True

    asyncio.run(scenario())


def test_commands_for_departments_and_duty(api, sessions, desk, clock, routed_event) -> None:
    edu, city = routed_event["省教育厅"], routed_event["长春市政府"]

    async def say(h: Harness, user: int, chat: int, text: str) -> str:
        await h.feed(api.message_update(user, chat, text))
        return api.sent()[-1].params["text"]

    async def scenario() -> None:
        async with Harness(api, sessions, desk, clock) as h:
            assert "已签收" in await say(h, EDU_MEMBER, EDU_CHAT, f"/acknowledge {edu}")
            assert "已延期" in await say(h, EDU_MEMBER, EDU_CHAT, f"/extend {edu} 涉及多个区县，情况复杂")
            assert "用法" in await say(h, EDU_MEMBER, EDU_CHAT, "/extend")
            assert "转办申请已提交" in await say(h, EDU_MEMBER, EDU_CHAT, f"/reassign {edu} 省交通厅 校车属交通")
            assert "已转办至 省交通厅" in await say(h, DUTY_STAFF, DUTY_CHAT, f"/reassign {edu} 省交通厅 同意")
            assert "已撤销" in await say(h, DUTY_STAFF, DUTY_CHAT, f"/dismiss {city} 重复交办")
            assert "不是剧本中的部门" in await say(h, DUTY_STAFF, DUTY_CHAT, "/assign 1 教育局")
            assert "已指派 省信访局" in await say(h, DUTY_STAFF, DUTY_CHAT, "/assign 1 省信访局")
            assert "会商已开启" in await say(h, DUTY_STAFF, DUTY_CHAT, "/consult 1")
            assert "已经开启" in await say(h, DUTY_STAFF, DUTY_CHAT, "/consult 1")
            assert "统一口径已记录" in await say(h, DUTY_STAFF, DUTY_CHAT, "/line 1 已责令学校立即停止收费并退还")
            case = await say(h, DUTY_STAFF, DUTY_CHAT, "/cases 1")
            assert "已转办" in case and "已撤销" in case and "立即停止收费" in case
            assert "在办任务" in await say(h, DUTY_STAFF, DUTY_CHAT, "/status")
            assert "今日任务" in await say(h, DUTY_STAFF, DUTY_CHAT, "/today")
            assert "超时任务</b>（0）" in await say(h, DUTY_STAFF, DUTY_CHAT, "/overdue")
            assert "/respond" in await say(h, STRANGER, 5, "/help")
            assert "没有编号为 #999" in await say(h, EDU_MEMBER, EDU_CHAT, "/acknowledge 999")
        with session_scope(sessions) as session:
            actions = [e.action for e in session.scalars(
                select(CaseAudit).where(CaseAudit.case_id == edu).order_by(CaseAudit.id))]
            assert actions == ["open", "acknowledge", "extend", "reassign_requested", "reassign"]

    asyncio.run(scenario())


def test_duty_buttons_confirm_assign_consult(api, sessions, desk, clock, routed_event) -> None:
    async def scenario() -> None:
        async with Harness(api, sessions, desk, clock) as h:
            await h.sender.run_once()
            duty = h.message_in(DUTY_CHAT, "舆情预警")
            mid = h.message_id(duty)
            await h.feed(api.button_update(DUTY_STAFF, DUTY_CHAT, mid, "event:confirm:1", "李值班"))
            confirmed = api.sent("editMessageText")[-1].params
            assert "已确认：李值班" in confirmed["text"]
            assert "event:consult:1" in confirmed["reply_markup"]  # the other buttons stay
            await h.feed(api.button_update(DUTY_STAFF, DUTY_CHAT, mid, "event:confirm:1", "李值班"))
            assert "已经「确认」过了" in api.sent("answerCallbackQuery")[-1].params["text"]
            await h.feed(api.button_update(DUTY_STAFF, DUTY_CHAT, mid, "event:assign:1", "李值班"))
            assert "指派的部门" in api.sent()[-1].params["text"]
            await h.feed(api.message_update(DUTY_STAFF, DUTY_CHAT, "省信访局", "李值班"))
            assert "已指派 省信访局" in api.sent()[-1].params["text"]
            await h.feed(api.button_update(DUTY_STAFF, DUTY_CHAT, mid, "event:consult:1", "李值班"))
            assert "已发起会商" in api.sent("editMessageText")[-1].params["text"]
            await h.sender.run_once()
            consult = [c for c in api.sent() if "【会商】" in c.params["text"]]
            assert {int(c.params["chat_id"]) for c in consult} >= {DUTY_CHAT, EDU_CHAT, 100001}
            assert any("省信访局" in c.params["text"] for c in consult)
        with session_scope(sessions) as session:
            letters = session.scalar(select(Case).where(Case.department_key == "省信访局"))
            assert letters.role == "manual" and "李值班" in letters.reason

    asyncio.run(scenario())
