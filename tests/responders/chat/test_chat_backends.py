"""One scenario table, run against each vendor backend's fake API on 127.0.0.1 (SQLite and PostgreSQL).

The service's real pieces: the outbox sender with the backend's notifier, and the callback server
(Starlette under uvicorn) with the backend's routes, built by ``yuqing.chat.build_backend``. The
fake vendor plays the person: it signs a button press or a line of text the way the vendor does
and posts it to the callback server.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import hashlib
import hmac
import itertools
import json
import secrets
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from fake_vendors import FakeDingTalk, FakeFeishu, FakeVendor, FakeWeCom, Sent
from responders_support import DUTY_STAFF, EDU_MEMBER, STRANGER, TRAFFIC_MEMBER
from sqlalchemy import select
from wechatpy.enterprise.crypto import WeChatCrypto

from responders.intake import process_event
from responders.outbox import OutboxSender, RetryPolicy
from store.database import session_scope
from store.models import Case, CaseAudit, Clarification, Event, OutboxMessage
from yuqing.chat import build_backend
from yuqing.settings import Settings
from yuqing.web import WebServer

DUTY_CHAT = "-1001000000001"
EDU_CHAT = "-1001000000101"
AES_KEY = "a" * 43


class Driver:
    """How the test plays the vendor's side: ids, signed presses and lines, where answers land."""

    vendor = ""
    fake: FakeVendor

    def __init__(self, members) -> None:  # type: ignore[no-untyped-def]
        self.members = members

    def settings(self) -> dict[str, Any]:
        raise NotImplementedError

    def uid(self, person: int) -> str:
        found = self.members.vendor_users(self.vendor, [person])
        return found[0] if found else f"stranger{person}"

    def target(self, chat: str) -> str:
        raise NotImplementedError

    def press(self, base: str, now: dt.datetime, person: int, card: Sent, data: str, **forge: Any) -> httpx.Response:
        raise NotImplementedError

    def say(self, base: str, now: dt.datetime, person: int, chat: str, text: str) -> httpx.Response:
        raise NotImplementedError

    def forged(self, base: str, now: dt.datetime, person: int, card: Sent, data: str) -> httpx.Response:
        raise NotImplementedError


class WeComDriver(Driver):
    vendor = "wecom"
    CORP, TOKEN, AGENT = "ww-test-corp", "cb-token", 1000002

    def __init__(self, members) -> None:  # type: ignore[no-untyped-def]
        super().__init__(members)
        self.fake = FakeWeCom()
        self._codes = iter(range(1, 10_000))

    def settings(self) -> dict[str, Any]:
        return dict(wecom_api_url=self.fake.url, wecom_corp_id=self.CORP, wecom_agent_id=self.AGENT,
                    wecom_secret="app-secret", wecom_token=self.TOKEN, wecom_aes_key=AES_KEY)

    def target(self, chat: str) -> str:
        return "|".join(self.members.vendor_users("wecom", self.members.people_of_chat(chat)))

    def _post(self, base: str, now: dt.datetime, xml: str, token: str = TOKEN) -> httpx.Response:
        crypto = WeChatCrypto(token, AES_KEY, self.CORP)
        nonce, stamp = secrets.token_hex(8), str(int(now.timestamp()))
        envelope = crypto.encrypt_message(xml, nonce, stamp)
        signature = envelope.split("<MsgSignature><![CDATA[")[1].split("]]>")[0]
        return httpx.post(f"{base}/wecom/callback", params={"msg_signature": signature, "timestamp": stamp,
                                                            "nonce": nonce}, content=envelope.encode())

    def _press_xml(self, now: dt.datetime, person: int, card: Sent, data: str) -> str:
        code = f"rc{next(self._codes)}"
        self.fake.codes[code] = card.message_id  # type: ignore[attr-defined]
        return (f"<xml><ToUserName>{self.CORP}</ToUserName><FromUserName>{self.uid(person)}</FromUserName>"
                f"<CreateTime>{int(now.timestamp())}</CreateTime><MsgType>event</MsgType>"
                f"<Event>template_card_event</Event><EventKey>{data}</EventKey><TaskId>{card.message_id}</TaskId>"
                f"<CardType>button_interaction</CardType><ResponseCode>{code}</ResponseCode>"
                f"<AgentID>{self.AGENT}</AgentID></xml>")

    def press(self, base, now, person, card, data, **forge):  # type: ignore[no-untyped-def]
        return self._post(base, now, self._press_xml(now, person, card, data))

    def say(self, base, now, person, chat, text):  # type: ignore[no-untyped-def]
        xml = (f"<xml><ToUserName>{self.CORP}</ToUserName><FromUserName>{self.uid(person)}</FromUserName>"
               f"<CreateTime>{int(now.timestamp())}</CreateTime><MsgType>text</MsgType>"
               f"<Content><![CDATA[{text}]]></Content><MsgId>{secrets.randbits(40)}</MsgId>"
               f"<AgentID>{self.AGENT}</AgentID></xml>")
        return self._post(base, now, xml)

    def forged(self, base, now, person, card, data):  # type: ignore[no-untyped-def]
        """Encrypted and signed with a token that is not ours."""
        return self._post(base, now, self._press_xml(now, person, card, data), token="not-the-token")


class FeishuDriver(Driver):
    """Feishu's v2 callbacks, encrypted and signed with the Encrypt Key as Feishu sends them."""

    vendor = "feishu"
    APP, TOKEN, KEY = "cli_test_app", "verify-token", "encrypt-key-1"

    def __init__(self, members) -> None:  # type: ignore[no-untyped-def]
        super().__init__(members)
        self.fake = FakeFeishu()

    def settings(self) -> dict[str, Any]:
        return dict(feishu_api_url=self.fake.url, feishu_app_id=self.APP, feishu_app_secret="app-secret",
                    feishu_verification_token=self.TOKEN, feishu_encrypt_key=self.KEY)

    def target(self, chat: str) -> str:
        return self.members.vendor_chat("feishu", chat) or ""

    def _post(self, base: str, now: dt.datetime, kind: str, event: dict[str, Any],
              token: str = TOKEN) -> httpx.Response:
        payload = {"schema": "2.0", "header": {
            "event_id": secrets.token_hex(16), "token": token,
            "create_time": str(int(now.timestamp() * 1000)),
            "event_type": kind, "tenant_key": "tenant-1", "app_id": self.APP}, "event": event}
        padder = padding.PKCS7(128).padder()
        plain = padder.update(json.dumps(payload, ensure_ascii=False).encode()) + padder.finalize()
        iv = secrets.token_bytes(16)
        key = hashlib.sha256(self.KEY.encode()).digest()
        encryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
        secret = base64.b64encode(iv + encryptor.update(plain) + encryptor.finalize()).decode()
        body = json.dumps({"encrypt": secret})
        stamp, nonce = str(int(now.timestamp())), secrets.token_hex(8)
        signature = hashlib.sha256((stamp + nonce + self.KEY + body).encode()).hexdigest()
        return httpx.post(f"{base}/feishu/callback", content=body.encode(), headers={
            "X-Lark-Request-Timestamp": stamp, "X-Lark-Request-Nonce": nonce, "X-Lark-Signature": signature,
            "content-type": "application/json"})

    def _press_event(self, person: int, card: Sent, data: str) -> dict[str, Any]:
        return {"operator": {"open_id": self.uid(person), "tenant_key": "tenant-1"},
                "token": "c-update-token",
                "action": {"value": {"data": data}, "tag": "button"}, "host": "im_message",
                "context": {"open_message_id": card.message_id, "open_chat_id": card.to}}

    def press(self, base, now, person, card, data, **forge):  # type: ignore[no-untyped-def]
        return self._post(base, now, "card.action.trigger", self._press_event(person, card, data))

    def say(self, base, now, person, chat, text):  # type: ignore[no-untyped-def]
        content = json.dumps({"text": f"@_user_1 {text}"}, ensure_ascii=False)
        return self._post(base, now, "im.message.receive_v1", {
            "sender": {"sender_id": {"open_id": self.uid(person)}, "sender_type": "user"},
            "message": {"message_id": f"om_{secrets.token_hex(8)}", "chat_id": self.target(chat),
                        "chat_type": "group",
                        "message_type": "text", "content": content,
                        "mentions": [{"key": "@_user_1", "id": {"open_id": "ou_bot"}, "name": "yuqing"}]}})

    def forged(self, base, now, person, card, data):  # type: ignore[no-untyped-def]
        """Correctly encrypted and signed, but carrying a verification token that is not ours."""
        return self._post(base, now, "card.action.trigger", self._press_event(person, card, data),
                          token="not-the-token")


class DingTalkDriver(Driver):
    """DingTalk's HTTP callbacks: a JSON body with the headers ``timestamp`` (ms) and ``sign``."""

    vendor = "dingtalk"
    SECRET = "ding-app-secret"

    def __init__(self, members) -> None:  # type: ignore[no-untyped-def]
        super().__init__(members)
        self.fake = FakeDingTalk()
        # DingTalk's signature covers only the timestamp, so the guard accepts each timestamp once: every
        # callback here gets its own millisecond (a random one could repeat and be refused as a replay)
        self.ticks = itertools.count(1)

    def settings(self) -> dict[str, Any]:
        return dict(dingtalk_api_url=self.fake.url, dingtalk_app_key="ding-app-key", dingtalk_app_secret=self.SECRET,
                    dingtalk_robot_code="ding-robot")

    def target(self, chat: str) -> str:
        return self.members.vendor_chat("dingtalk", chat) or ""

    def _post(self, base: str, now: dt.datetime, body: dict[str, Any], secret: str = SECRET) -> httpx.Response:
        stamp = str(int(now.timestamp() * 1000) + next(self.ticks))
        signature = base64.b64encode(hmac.new(secret.encode(), f"{stamp}\n{secret}".encode(),
                                              hashlib.sha256).digest()).decode()
        return httpx.post(f"{base}/dingtalk/callback", content=json.dumps(body, ensure_ascii=False).encode(),
                          headers={"timestamp": stamp, "sign": signature, "content-type": "application/json"})

    def _press_body(self, person: int, card: Sent, data: str) -> dict[str, Any]:
        content = {"cardPrivateData": {"actionIds": [data], "params": {}}}
        return {"type": "actionCallback", "outTrackId": card.message_id, "corpId": "ding-corp",
                "userId": self.uid(person), "content": json.dumps(content)}

    def press(self, base, now, person, card, data, **forge):  # type: ignore[no-untyped-def]
        return self._post(base, now, self._press_body(person, card, data))

    def say(self, base, now, person, chat, text):  # type: ignore[no-untyped-def]
        return self._post(base, now, {
            "msgtype": "text", "text": {"content": f" {text}"}, "senderStaffId": self.uid(person),
            "conversationId": self.target(chat), "conversationType": "2", "msgId": secrets.token_hex(8),
            "createAt": int(now.timestamp() * 1000), "robotCode": "ding-robot"})

    def forged(self, base, now, person, card, data):  # type: ignore[no-untyped-def]
        """Signed with a secret that is not the app's."""
        return self._post(base, now, self._press_body(person, card, data), secret="not-the-secret")


DRIVERS = {"wecom": WeComDriver, "feishu": FeishuDriver, "dingtalk": DingTalkDriver}


@dataclass
class World:
    driver: Driver
    base: str
    sender: OutboxSender
    clock: Any

    @property
    def fake(self) -> FakeVendor:
        return self.driver.fake

    def card(self, chat: str, contains: str) -> Sent:
        target = self.driver.target(chat)
        return next(s for s in self.fake.sent if s.kind == "card" and s.to == target and contains in s.text)

    def answers(self, person: int) -> list[str]:
        uid = self.driver.uid(person)
        return [s.text for s in self.fake.sent if s.kind == "text" and s.to == uid]

    def edits(self, card: Sent) -> list[Sent]:
        return [s for s in self.fake.sent if s.kind == "edit" and s.message_id == card.message_id]


@pytest.fixture(params=sorted(DRIVERS))
def driver(request, members):  # type: ignore[no-untyped-def]
    d = DRIVERS[request.param](members)
    d.fake.start()
    yield d
    d.fake.stop()


@pytest.fixture
def routed(sessions, playbook, members, templates, make_event, clock):  # type: ignore[no-untyped-def]
    """An education event in 长春 routed into cases; returns {department: case id}."""
    event_id = make_event("长春市某小学强制补课收费", "家长反映 <script>alert(1)</script> 每月收费800元", heat=30)
    with session_scope(sessions) as session:
        process_event(session, session.get(Event, event_id), playbook, members, templates, clock())
        return {a.department_key: a.id for a in session.scalars(select(Case))}


def run_world(driver, desk, sessions, clock, scenario) -> None:  # type: ignore[no-untyped-def]
    settings = Settings(chat_backend=driver.vendor, **driver.settings())

    async def main() -> None:
        backend = build_backend(driver.vendor, settings, desk, clock)
        web = WebServer(backend.routes, "127.0.0.1", 0)
        await web.start()
        sender = OutboxSender(sessions, backend.notifier, clock, policy=RetryPolicy(max_attempts=3))
        try:
            await scenario(World(driver, f"http://127.0.0.1:{web.port}", sender, clock))
        finally:
            await web.stop()
            await backend.stop()

    asyncio.run(main())


def history(sessions, case_id: int) -> list[tuple[str, str | None]]:  # type: ignore[no-untyped-def]
    with session_scope(sessions) as session:
        rows = session.scalars(select(CaseAudit).where(CaseAudit.case_id == case_id)
                               .order_by(CaseAudit.id))
        return [(e.action, e.chat_id) for e in rows]


def call(fn, *args):  # type: ignore[no-untyped-def]
    """A callback posted from a worker thread: the server runs on this test's loop."""
    return asyncio.to_thread(fn, *args)


def test_shared_scenario(driver, desk, sessions, clock, routed) -> None:  # type: ignore[no-untyped-def]
    """alert → 签收 → 申请延期 → 提交回应 → 审签, a press from another department, a repeated press."""
    edu = routed["省教育厅"]

    async def scenario(w: World) -> None:
        report = await w.sender.run_once()
        assert report.sent == len(routed) + 1 and report.failed == 0, report.errors
        alert = w.card(DUTY_CHAT, "舆情预警")
        assert alert.buttons[:4] == [f"event:{a}:1" for a in ("confirm", "ignore", "assign", "consult")]
        assert "家长反映 <script>alert(1)</script>" in alert.text  # plain text on the card: shown, never markup
        notice = w.card(EDU_CHAT, f"任务 #{edu}")
        assert notice.labels == ["签收", "提交回应", "转办"]
        assert [a for a, _ in history(sessions, edu)] == ["open", "notify"]
        now = clock()
        steps: list[tuple[str, int, str, str, bool]] = [
            # (what, who, button or line, the answer or card says, changes the case)
            ("press", EDU_MEMBER, f"case:acknowledge:{edu}", "已签收", True),
            ("press", EDU_MEMBER, f"case:acknowledge:{edu}", "已经「签收」过了", False),
            ("press", TRAFFIC_MEMBER, f"case:extend:{edu}", "属于省教育厅", False),
            ("press", STRANGER, f"case:respond:{edu}", "不在 members.yaml", False),
            ("press", EDU_MEMBER, f"case:extend:{edu}", "请回复延期理由", False),
            ("say", EDU_MEMBER, "情况复杂，需多部门核实", "已延期", True),
            ("press", EDU_MEMBER, f"case:respond:{edu}", "回应的链接或文字", False),
            ("say", EDU_MEMBER, "https://jyt.jl.gov.cn/reply/88", "已提交回应", True),
        ]
        for what, who, data, says, changes in steps:
            before = history(sessions, edu)
            edits = len(w.edits(notice))
            if what == "press":
                response = await call(w.driver.press, w.base, now, who, notice, data)
            else:
                response = await call(w.driver.say, w.base, now, who, EDU_CHAT, data)
            assert response.status_code == 200, (data, response.text)
            after = history(sessions, edu)
            assert (len(after) > len(before)) == changes, (data, after)
            if changes:
                assert len(w.edits(notice)) == edits + 1, data
                assert says in w.edits(notice)[-1].text or says in " ".join(w.answers(who)), data
            else:
                assert len(w.edits(notice)) == edits, data
                assert says in w.answers(who)[-1], (data, w.answers(who))
        assert after[-1][1] == EDU_CHAT  # the audit trail names the chat the card was in
        with session_scope(sessions) as session:
            clarification = session.scalars(select(Clarification).where(Clarification.case_id == edu)).one()
            clarification_id = clarification.id
        await w.sender.run_once()
        assert any(f"/approve {clarification_id}" in s.text for s in w.fake.sent if s.to == w.driver.target(DUTY_CHAT))
        response = await call(w.driver.say, w.base, now, DUTY_STAFF, DUTY_CHAT, f"/approve {clarification_id}")
        assert response.status_code == 200
        assert "审签通过" in w.answers(DUTY_STAFF)[-1]
        with session_scope(sessions) as session:
            assert session.get(Clarification, clarification_id).state == "approved"

    run_world(driver, desk, sessions, clock, scenario)


def test_forged_stale_and_replayed_callbacks_change_nothing(driver, desk, sessions, clock, routed) -> None:  # type: ignore[no-untyped-def]
    edu = routed["省教育厅"]

    async def scenario(w: World) -> None:
        await w.sender.run_once()
        notice = w.card(EDU_CHAT, f"任务 #{edu}")
        now = clock()
        forged = await call(w.driver.forged, w.base, now, EDU_MEMBER, notice, f"case:acknowledge:{edu}")
        stale = await call(w.driver.press, w.base, now - dt.timedelta(hours=1), EDU_MEMBER, notice,
                           f"case:acknowledge:{edu}")
        assert (forged.status_code, stale.status_code) == (403, 403)
        assert [a for a, _ in history(sessions, edu)] == ["open", "notify"] and w.edits(notice) == []
        sent = len(w.fake.sent)
        # a fresh, genuine press goes through; the very same request again is a replay
        request = await call(w.driver.press, w.base, now, EDU_MEMBER, notice, f"case:acknowledge:{edu}")
        assert request.status_code == 200 and len(w.fake.sent) == sent + 1
        replay = await asyncio.to_thread(lambda: httpx.post(str(request.request.url), content=request.request.content,
                                                            headers=dict(request.request.headers)))
        assert replay.status_code == 403
        assert [a for a, _ in history(sessions, edu)] == ["open", "notify", "acknowledge"]

    run_world(driver, desk, sessions, clock, scenario)


def test_vendor_errors_retried_and_permanent_ones_recorded(driver, desk, sessions, clock, routed) -> None:  # type: ignore[no-untyped-def]
    async def scenario(w: World) -> None:
        w.fake.fail_next("card", "transient")
        w.fake.fail_next("card", "permanent")
        report = await w.sender.run_once()
        assert (report.retried, report.failed) == (1, 1), report.errors
        with session_scope(sessions) as session:
            rows = {a.state: a for a in session.scalars(select(OutboxMessage))}
            assert rows["failed"].last_error and rows["pending"].last_error
            pending_id = rows["pending"].id
        clock.advance(dt.timedelta(minutes=5))
        report = await w.sender.run_once()
        assert report.sent >= 1
        with session_scope(sessions) as session:
            assert session.get(OutboxMessage, pending_id).state == "sent"

    run_world(driver, desk, sessions, clock, scenario)
