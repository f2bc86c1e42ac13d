"""DingTalk (钉钉 / 浙政钉): an app robot's interactive cards to group chats, presses by HTTP callback.

Sending: ``oauth2/accessToken`` then ``im/interactiveCards/send`` (a ``StandardCard`` with its buttons,
to the group's ``openConversationId`` that ``backends.dingtalk.chats`` names), ``PUT im/interactiveCards``
to edit it, ``robot/groupMessages/send`` for plain text (and, after ``media/upload`` on the oapi host,
a report as a ``sampleFile``) and ``robot/oToMessages/batchSend`` for a private answer to one userId.
Receiving: one URL for the card callback (``actionCallback``) and the robot's
messages. DingTalk signs each callback with headers ``timestamp`` (ms) and
``sign = base64(HMAC-SHA256(app secret, timestamp + "\\n" + app secret))``; the signature is checked
with the standard library's HMAC in constant time, then the timestamp and replay check (each signature
is accepted once, whatever the body, because DingTalk's signature does not cover the body).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import logging
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from playbooks.members import Members
from responders.chat.conversation import Card, Conversation, Outcome, actor_for, show_outcome
from responders.chat.guard import CallbackRefused, ReplayGuard, from_epoch, refuse
from responders.chat.http import CallbackRequest, CallbackResponse
from responders.chat.render import clip, fit_json, title_and_body
from responders.chat.transport import VendorClient, call
from responders.errors import DeliveryError
from responders.notifiers import Button, Outgoing
from responders.notifiers.console import plain

log = logging.getLogger(__name__)

VENDOR = "dingtalk"
# robot/groupMessages/send and robot/oToMessages/batchSend (open.dingtalk.com, 企业机器人发送消息): msgParam
# sampleText.content; DingTalk's message-type page gives no number for it, so 5000 characters is our own cap.
TEXT_CHARS = 5000
# im/interactiveCards/send: the StandardCard rides in cardParamMap.sys_full_json_obj. DingTalk documents no size
# for it; we clip its text fields and hold the card's JSON to the 30 KB Feishu allows its cards, a safe bound.
CARD_BYTES = 30 * 1024 - 2048
TITLE_CHARS = 100
BODY_CHARS = 4000
BUTTON_CHARS = 20
TOKEN_ERRORS = frozenset({"InvalidAuthentication", "Unauthorized", "InvalidAccessToken"})
OAPI_TOKEN_ERRORS = frozenset({40014, 42001})  # the oapi host's "invalid / expired access_token"


def _transient(code: str) -> bool:
    """Rate limits and a token to fetch again are worth a retry; anything else DingTalk refuses is not."""
    return code in TOKEN_ERRORS or "Throttling" in code or "QpsLimit" in code or "Busy" in code


@dataclass(frozen=True)
class DingTalkConfig:
    api_url: str
    app_key: str
    app_secret: str
    robot_code: str
    oapi_url: str = "https://oapi.dingtalk.com"  # the media upload lives on DingTalk's older API host


def card(text: str, buttons: tuple[tuple[Button, ...], ...]) -> dict[str, Any]:
    """A ``StandardCard`` in plain text (nothing an item says becomes markup); a button's id is its data.
    Its text fields are clipped so that the card's JSON stays within :data:`CARD_BYTES`."""
    def build(body_chars: int) -> dict[str, Any]:
        title, body = title_and_body(text, TITLE_CHARS, body_chars)
        contents: list[dict[str, Any]] = [{"type": "text", "text": body or title, "id": "body"}]
        for row in buttons:
            contents.append({"type": "action", "actions": [
                {"type": "button", "label": {"type": "text", "text": clip(b.text, BUTTON_CHARS), "id": f"label{i}"},
                 "actionType": "request", "status": "primary" if i == 0 else "normal", "id": b.data}
                for i, b in enumerate(row)]})
        return {"config": {"autoLayout": True, "enableForward": True},
                "header": {"title": {"type": "text", "text": title}}, "contents": contents}

    return fit_json(build, BODY_CHARS, CARD_BYTES)


def sign(timestamp: str, secret: str) -> str:
    """DingTalk's callback signature (documented for its robots' and apps' HTTP callbacks)."""
    digest = hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


class DingTalkNotifier(VendorClient):
    """Sends as the app's robot; the access token is fetched and refreshed on demand."""

    name = VENDOR

    def __init__(self, config: DingTalkConfig, members: Members, *, timeout: float = 20.0) -> None:
        super().__init__(config.api_url, timeout=timeout)
        self.config = config
        self.members = members

    async def _fetch_token(self) -> tuple[str, int]:
        status, body = await call(self.client, VENDOR, "POST", "/v1.0/oauth2/accessToken",
                                  json={"appKey": self.config.app_key, "appSecret": self.config.app_secret})
        self._check(status, body, "accessToken")
        return str(body["accessToken"]), int(body.get("expireIn", 7200))

    def _check(self, status: int, body: Any, what: str) -> None:
        answer = body if isinstance(body, dict) else {}
        if status < 400 and answer.get("success") is not False:
            return
        code = str(answer.get("code") or f"HTTP {status}")
        if code in TOKEN_ERRORS or status == 401:
            self._token.forget()
        transient = _transient(code) or status == 401
        detail = str(answer.get("message", ""))[:200]
        raise DeliveryError(f"DingTalk {what} failed ({code}: {detail})", permanent=not transient)

    async def _api(self, method: str, path: str, payload: dict[str, Any], what: str) -> dict[str, Any]:
        token = await self._access_token()
        status, body = await call(self.client, VENDOR, method, path, json=payload,
                                  headers={"x-acs-dingtalk-access-token": token})
        self._check(status, body, what)
        answer: dict[str, Any] = body if isinstance(body, dict) else {}
        return answer

    def _chat(self, chat_id: str) -> str:
        named = self.members.vendor_chat(VENDOR, chat_id)
        if not named:
            raise DeliveryError(f"members.yaml names no DingTalk group for chat {chat_id} (backends.dingtalk.chats)",
                                permanent=True)
        return named

    def _text(self, text: str) -> dict[str, str]:
        return {"robotCode": self.config.robot_code, "msgKey": "sampleText",
                "msgParam": json.dumps({"content": clip(plain(text), TEXT_CHARS)}, ensure_ascii=False)}

    async def send(self, message: Outgoing) -> str:
        chat = self._chat(message.chat_id)
        if message.buttons:
            track = uuid.uuid4().hex
            await self._api("POST", "/v1.0/im/interactiveCards/send", {
                "cardTemplateId": "StandardCard", "openConversationId": chat, "conversationType": 1,
                "robotCode": self.config.robot_code, "outTrackId": track,
                "callbackRouteKey": self.config.robot_code,
                "cardData": self._card_data(message.text, message.buttons)}, "send card")
            return track  # the callback and the edit name the card by its outTrackId
        body = await self._api("POST", "/v1.0/robot/groupMessages/send",
                               {**self._text(message.text), "openConversationId": chat}, "send text")
        if message.attachment_path:  # a report: the caption above, then the file
            await self._send_file(chat, Path(message.attachment_path))
        return str(body.get("processQueryKey", ""))

    async def _send_file(self, chat: str, path: Path) -> None:
        """Upload *path* through the media API (``media/upload`` on the oapi host, the app's token as
        ``access_token``), then the robot posts it to the group as a ``sampleFile`` message."""
        try:
            data = await asyncio.to_thread(path.read_bytes)
        except FileNotFoundError as exc:
            raise DeliveryError(f"attachment not found: {path}", permanent=True) from exc
        token = await self._access_token()
        status, body = await call(self.client, VENDOR, "POST", f"{self.config.oapi_url.rstrip('/')}/media/upload",
                                  params={"access_token": token, "type": "file"}, files={"media": (path.name, data)})
        answer = body if isinstance(body, dict) else {}
        code = answer.get("errcode", 0 if status < 400 else status)
        if code != 0 or not answer.get("media_id"):
            if code in OAPI_TOKEN_ERRORS:
                self._token.forget()
            transient = code in OAPI_TOKEN_ERRORS or code == -1 or status >= 500 or status == 429
            detail = str(answer.get("errmsg", ""))[:200]
            raise DeliveryError(f"DingTalk upload file failed ({code}: {detail})", permanent=not transient)
        param = {"mediaId": answer["media_id"], "fileName": path.name,
                 "fileType": path.suffix.lstrip(".").lower() or "file"}
        await self._api("POST", "/v1.0/robot/groupMessages/send", {
            "robotCode": self.config.robot_code, "msgKey": "sampleFile", "openConversationId": chat,
            "msgParam": json.dumps(param, ensure_ascii=False)}, "send file")

    @staticmethod
    def _card_data(text: str, buttons: tuple[tuple[Button, ...], ...]) -> dict[str, Any]:
        return {"cardParamMap": {"sys_full_json_obj": json.dumps(card(text, buttons), ensure_ascii=False)}}

    async def edit(self, chat_id: str, message_id: str, text: str,
                   buttons: tuple[tuple[Button, ...], ...] = ()) -> None:
        await self._api("PUT", "/v1.0/im/interactiveCards", {
            "outTrackId": message_id, "cardData": self._card_data(text, buttons),
            "cardOptions": {"updateCardDataByKey": False}}, "update card")

    async def tell(self, user: str, text: str) -> None:
        """A private text from the robot to one person (answers, refusals, questions)."""
        await self._api("POST", "/v1.0/robot/oToMessages/batchSend", {**self._text(text), "userIds": [user]},
                        "send text")


class DingTalkCallback:
    """The callback URL: DingTalk's signature, then the timestamp and replay check, then act."""

    path = "/dingtalk/callback"

    def __init__(self, config: DingTalkConfig, notifier: DingTalkNotifier, conversation: Conversation,
                 guard: ReplayGuard) -> None:
        self.secret = config.app_secret
        self.notifier = notifier
        self.conversation = conversation
        self.members = conversation.desk.members
        self.guard = guard

    def _verify(self, request: CallbackRequest) -> dict[str, Any]:
        stamp = request.headers.get("timestamp", "")
        given = request.headers.get("sign", "")
        if not given or not hmac.compare_digest(sign(stamp, self.secret).encode(), given.encode()):
            raise CallbackRefused("DingTalk callback signature does not match; refused")
        self.guard.check(VENDOR, from_epoch(stamp, millis=True), given, b"")
        try:
            body = json.loads(request.body or b"{}")
        except ValueError:
            raise CallbackRefused("DingTalk callback body is not JSON; refused") from None
        if not isinstance(body, dict):
            raise CallbackRefused("DingTalk callback body is not a JSON object; refused")
        return body

    async def __call__(self, request: CallbackRequest) -> CallbackResponse:
        try:
            body = self._verify(request)
        except CallbackRefused as exc:
            refuse(VENDOR, request.path, exc)
            return CallbackResponse.refused("signature, timestamp or replay check failed")
        if body.get("outTrackId"):
            await self._press(body)
        elif body.get("msgtype") == "text":
            await self._line(body)
        return CallbackResponse(200, b"{}", "application/json; charset=utf-8")

    @staticmethod
    def _pressed(body: dict[str, Any]) -> str:
        """The pressed button's data: the params it carries, else the id of the action."""
        try:
            private = json.loads(str(body.get("content") or "{}")).get("cardPrivateData") or {}
        except (ValueError, AttributeError):
            return ""
        params = private.get("params") or {}
        if isinstance(params, dict) and params.get("data"):
            return str(params["data"])
        ids = private.get("actionIds") or []
        return str(ids[0]) if ids else ""

    async def _press(self, body: dict[str, Any]) -> None:
        user, track = str(body.get("userId") or ""), str(body.get("outTrackId") or "")
        chat = await asyncio.to_thread(self.conversation.chat_of, track)
        card_ref = Card(chat, track) if chat else None
        actor = actor_for(self.members, VENDOR, user, chat)
        data = self._pressed(body)
        outcome = await asyncio.to_thread(self.conversation.press, VENDOR, user, actor, data, card_ref)
        await self._show(user, outcome)

    async def _line(self, body: dict[str, Any]) -> None:
        user = str(body.get("senderStaffId") or "")
        text = str((body.get("text") or {}).get("content") or "")
        vendor_chat = str(body.get("conversationId") or "")
        chat = self.members.chat_of_vendor(VENDOR, vendor_chat) or f"{VENDOR}:{vendor_chat}"
        actor = actor_for(self.members, VENDOR, user, chat)
        outcome = await asyncio.to_thread(self.conversation.say, VENDOR, user, actor, text)
        if outcome is not None:
            await self._show(user, outcome)

    async def _show(self, user: str, outcome: Outcome) -> None:
        await show_outcome(self.notifier, VENDOR, user, outcome)
