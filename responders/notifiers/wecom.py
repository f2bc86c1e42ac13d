"""WeCom (企业微信 / 政务微信): an application's template cards out, its encrypted callback in.

Sending: ``gettoken`` then ``message/send`` (a ``button_interaction`` template card when the message
has buttons, text otherwise; a report goes as an uploaded file after its caption). A chat of the
members file is reached as the WeCom ``touser``/``toparty`` its ``chats`` table names, or else as
its people one by one. Receiving: the callback URL's signature check and AES decryption are
wechatpy's (``wechatpy.enterprise.crypto``), never ours; then the timestamp and replay check.
A pressed button is answered by ``message/update_template_card`` with the press's response code.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import xmltodict
from wechatpy.enterprise.crypto import WeChatCrypto

from playbooks.members import Members
from responders.chat.conversation import Card, Conversation, Outcome, actor_for, flat
from responders.chat.guard import ReplayGuard, from_epoch, refuse
from responders.chat.http import CallbackRequest, CallbackResponse
from responders.chat.render import clip, title_and_body
from responders.chat.transport import VendorClient, call
from responders.errors import DeliveryError
from responders.notifiers import Button, Outgoing
from responders.notifiers.console import plain

log = logging.getLogger(__name__)

VENDOR = "wecom"
# message/send (developer.work.weixin.qq.com/document/path/90236): text.content "最长不超过2048个字节，超过将截断".
TEXT_BYTES = 2048
# template_card, button_interaction (same page): main_title.title and button text are "建议" lengths (WeCom cuts
# longer ones on screen), button_list "列表长度不超过6"; sub_title_text has no hard limit there, so the card's
# body keeps the budget of a text message.
TITLE_CHARS = 36
BODY_BYTES = TEXT_BYTES
BUTTON_CHARS = 10
BUTTONS = 6
REPLACE_NAME_CHARS = 20  # update_template_card's button.replace_name, a status line in place of the buttons
TRANSIENT = frozenset({-1, 40014, 42001, 45009, 45033})  # busy, token invalid/expired, rate limits
TOKEN_ERRORS = frozenset({40014, 42001})


@dataclass(frozen=True)
class WeComConfig:
    api_url: str
    corp_id: str
    agent_id: int
    secret: str
    token: str
    aes_key: str


def card(text: str, buttons: tuple[tuple[Button, ...], ...], task_id: str) -> dict[str, Any]:
    """A ``button_interaction`` template card: the text's fields clipped to WeCom's limits, at most 6 buttons."""
    title, body = title_and_body(text, TITLE_CHARS, BODY_BYTES, body_encoding="utf-8")
    return {
        "card_type": "button_interaction",
        "main_title": {"title": title},
        "sub_title_text": body,
        "task_id": task_id,
        "button_list": [{"text": clip(b.text, BUTTON_CHARS), "style": 1, "key": b.data}
                        for b in flat(buttons)[:BUTTONS]],
    }


class WeComNotifier(VendorClient):
    """Sends as the WeCom application; its access token is fetched and refreshed on demand."""

    name = VENDOR

    def __init__(self, config: WeComConfig, members: Members, *, timeout: float = 20.0) -> None:
        super().__init__(config.api_url, timeout=timeout)
        self.config = config
        self.members = members

    async def _fetch_token(self) -> tuple[str, int]:
        _, body = await call(self.client, VENDOR, "GET", "/cgi-bin/gettoken",
                             params={"corpid": self.config.corp_id, "corpsecret": self.config.secret})
        self._check(body, "gettoken")
        return str(body["access_token"]), int(body.get("expires_in", 7200))

    def _check(self, body: Any, what: str) -> None:
        code = body.get("errcode", 0) if isinstance(body, dict) else -1
        if code == 0:
            return
        if code in TOKEN_ERRORS:
            self._token.forget()
        message = f"WeCom {what} failed (errcode {code}: {str(body.get('errmsg', ''))[:200]})"
        raise DeliveryError(message, permanent=code not in TRANSIENT)

    async def _api(self, path: str, payload: dict[str, Any], what: str) -> dict[str, Any]:
        token = await self._access_token()
        _, body = await call(self.client, VENDOR, "POST", path, params={"access_token": token}, json=payload)
        self._check(body, what)
        answer: dict[str, Any] = body
        return answer

    def _target(self, chat_id: str) -> dict[str, str]:
        """``touser``/``toparty`` for a chat of the members file."""
        named = self.members.vendor_chat(VENDOR, chat_id)
        if named:
            return {"toparty": named.removeprefix("party:")} if named.startswith("party:") else {"touser": named}
        users = self.members.vendor_users(VENDOR, self.members.people_of_chat(chat_id))
        if not users:
            raise DeliveryError(f"members.yaml names no WeCom user for chat {chat_id} (backends.wecom)", permanent=True)
        return {"touser": "|".join(users)}

    async def send(self, message: Outgoing) -> str:
        target = {**self._target(message.chat_id), "agentid": self.config.agent_id}
        if message.buttons:
            task_id = uuid.uuid4().hex
            await self._api("/cgi-bin/message/send", {**target, "msgtype": "template_card",
                                                      "template_card": card(message.text, message.buttons, task_id)},
                            "send card")
            return task_id  # the callback names the card by its task id
        body = await self._api("/cgi-bin/message/send", {**target, "msgtype": "text", "text": {
            "content": clip(plain(message.text), TEXT_BYTES, encoding="utf-8")}}, "send text")
        if message.attachment_path:
            body = await self._send_file(target, Path(message.attachment_path))
        return str(body.get("msgid", ""))

    async def _send_file(self, target: dict[str, Any], path: Path) -> dict[str, Any]:
        try:
            data = await asyncio.to_thread(path.read_bytes)
        except FileNotFoundError as exc:
            raise DeliveryError(f"attachment not found: {path}", permanent=True) from exc
        token = await self._access_token()
        _, body = await call(self.client, VENDOR, "POST", "/cgi-bin/media/upload",
                             params={"access_token": token, "type": "file"}, files={"media": (path.name, data)})
        self._check(body, "upload file")
        return await self._api("/cgi-bin/message/send", {**target, "msgtype": "file",
                                                         "file": {"media_id": body["media_id"]}}, "send file")

    async def edit(self, chat_id: str, message_id: str, text: str,
                   buttons: tuple[tuple[Button, ...], ...] = ()) -> None:
        """WeCom edits a card only in answer to a press (it needs the press's response code)."""
        raise DeliveryError("WeCom updates a card only in answer to a press", permanent=True)

    async def update_card(self, user: str, response_code: str, task_id: str, text: str,
                          buttons: tuple[tuple[Button, ...], ...], note: str) -> None:
        """Replace the pressed card for *user*: new text and buttons, or the buttons by the status line."""
        payload: dict[str, Any] = {"userids": [user], "agentid": self.config.agent_id, "response_code": response_code}
        if buttons:
            payload["template_card"] = card(text, buttons, task_id)
        else:
            payload["button"] = {"replace_name": clip(plain(note), REPLACE_NAME_CHARS)}
        await self._api("/cgi-bin/message/update_template_card", payload, "update card")

    async def tell(self, user: str, text: str) -> None:
        """A private text to one person (answers, refusals, questions)."""
        await self._api("/cgi-bin/message/send", {"touser": user, "agentid": self.config.agent_id, "msgtype": "text",
                                                  "text": {"content": clip(plain(text), TEXT_BYTES, encoding="utf-8")}},
                        "send text")


class WeComCallback:
    """The callback URL: verify and decrypt with wechatpy, refuse stale or replayed ones, then act."""

    path = "/wecom/callback"

    def __init__(self, config: WeComConfig, notifier: WeComNotifier, conversation: Conversation,
                 guard: ReplayGuard) -> None:
        self.crypto = WeChatCrypto(config.token, config.aes_key, config.corp_id)
        self.notifier = notifier
        self.conversation = conversation
        self.members = conversation.desk.members
        self.guard = guard

    async def __call__(self, request: CallbackRequest) -> CallbackResponse:
        q = request.query
        try:
            sent_at = from_epoch(q.get("timestamp"))
            if request.method == "GET":  # the admin console checking the URL
                echo = self.crypto.check_signature(q.get("msg_signature", ""), q.get("timestamp", ""),
                                                   q.get("nonce", ""), q.get("echostr", ""))
                self.guard.check(VENDOR, sent_at, q.get("nonce", ""), request.body)
                return CallbackResponse(200, echo.encode("utf-8") if isinstance(echo, str) else echo)
            xml = self.crypto.decrypt_message(request.body.decode("utf-8", "replace"), q.get("msg_signature", ""),
                                              q.get("timestamp", ""), q.get("nonce", ""))
            self.guard.check(VENDOR, sent_at, q.get("nonce", "") + q.get("msg_signature", ""), request.body)
        except Exception as exc:  # wechatpy's signature, corp id and XML errors, our timestamp and replay check
            refuse(VENDOR, request.path, exc)
            return CallbackResponse.refused("signature, timestamp or replay check failed")
        message = xmltodict.parse(xml).get("xml") or {}
        await self._handle(message)
        return CallbackResponse(200, b"success")

    async def _handle(self, message: dict[str, Any]) -> None:
        user = str(message.get("FromUserName") or "")
        if message.get("MsgType") == "event" and message.get("Event") == "template_card_event":
            await self._press(user, message)
        elif message.get("MsgType") == "text":
            actor = actor_for(self.members, VENDOR, user, f"{VENDOR}:{user}")
            outcome = await asyncio.to_thread(self.conversation.say, VENDOR, user, actor,
                                              str(message.get("Content") or ""))
            if outcome is not None:
                await self._show(user, outcome)

    async def _press(self, user: str, message: dict[str, Any]) -> None:
        task_id = str(message.get("TaskId") or "")
        chat = await asyncio.to_thread(self.conversation.chat_of, task_id)
        card_ref = Card(chat, task_id) if chat else None
        actor = actor_for(self.members, VENDOR, user, chat)
        outcome = await asyncio.to_thread(self.conversation.press, VENDOR, user, actor,
                                          str(message.get("EventKey") or ""), card_ref,
                                          str(message.get("ResponseCode") or "") or None)
        await self._show(user, outcome)

    async def _show(self, user: str, outcome: Outcome) -> None:
        """Edit the card with the press's response code (kept across a question), else answer privately."""
        try:
            if outcome.edits and outcome.token and outcome.card is not None and outcome.text is not None:
                await self.notifier.update_card(user, outcome.token, outcome.card.message_id, outcome.text,
                                                outcome.buttons, outcome.note or outcome.answer)
            if not outcome.changed or outcome.asks or not (outcome.edits and outcome.token):
                await self.notifier.tell(user, outcome.answer)
        except DeliveryError as exc:  # the change is stored; only showing it failed
            log.warning("wecom: could not show the answer to %s: %s", user, exc)
