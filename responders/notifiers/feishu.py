"""Feishu (飞书): an app bot's interactive message cards out, its card action callback in.

Sending: ``tenant_access_token/internal`` then ``im/v1/messages`` (an ``interactive`` card when the
message has buttons, text otherwise; a report goes as an uploaded file after its caption); a card
is edited with ``PATCH im/v1/messages/{id}`` (cards are sent with ``update_multi`` so everyone in
the chat sees the edit). A chat of the members file is reached as the ``chat_id`` its
``backends.feishu.chats`` names; people by open_id. Receiving: one URL for both the card action
callback (``card.action.trigger``) and the bot's messages (``im.message.receive_v1``); decryption,
the verification token and the signature are checked by the official SDK (lark-oapi's
``EventDispatcherHandler``), never by us; then the timestamp and replay check.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
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

VENDOR = "feishu"
# im/v1/messages (open.feishu.cn/document/server-docs/im-v1/message/create): "文本消息请求体最大不能超过150KB",
# "卡片及富文本消息请求体最大不能超过30KB". The content travels as a JSON string inside the JSON body, so its
# escaping counts too: the text is held to half its limit, the card's JSON to 30 KB less room for the envelope.
TEXT_BYTES = 150 * 1024 // 2
CARD_BYTES = 30 * 1024 - 2048
TITLE_CHARS = 100  # the header shows about a line; the rest of a long first line is cut
BODY_BYTES = CARD_BYTES
BUTTON_CHARS = 20
TOKEN_ERRORS = frozenset({99991661, 99991663, 99991664, 99991665, 99991668, 99991671, 99991677})
TRANSIENT = TOKEN_ERRORS | {99991400, 230020, 11232}  # rate limits, and a token to fetch again
LARK_HEADERS = ("X-Lark-Request-Timestamp", "X-Lark-Request-Nonce", "X-Lark-Signature", "X-Request-Id")


@dataclass(frozen=True)
class FeishuConfig:
    api_url: str
    app_id: str
    app_secret: str
    verification_token: str
    encrypt_key: str = ""


def card(text: str, buttons: tuple[tuple[Button, ...], ...]) -> dict[str, Any]:
    """An interactive card in plain text (nothing an item says becomes markup), one button row per row;
    its text fields are clipped so that the card's JSON stays within :data:`CARD_BYTES`."""
    def build(body_bytes: int) -> dict[str, Any]:
        title, body = title_and_body(text, TITLE_CHARS, body_bytes, body_encoding="utf-8")
        elements: list[dict[str, Any]] = [{"tag": "div", "text": {"tag": "plain_text", "content": body or title}}]
        for row in buttons:
            elements.append({"tag": "action", "actions": [
                {"tag": "button", "text": {"tag": "plain_text", "content": clip(b.text, BUTTON_CHARS)},
                 "type": "primary" if i == 0 else "default", "value": {"data": b.data}}
                for i, b in enumerate(row)]})
        return {"config": {"wide_screen_mode": True, "update_multi": True},
                "header": {"title": {"tag": "plain_text", "content": title}}, "elements": elements}

    return fit_json(build, BODY_BYTES, CARD_BYTES)


class FeishuNotifier(VendorClient):
    """Sends as the Feishu app's bot; its tenant access token is fetched and refreshed on demand."""

    name = VENDOR

    def __init__(self, config: FeishuConfig, members: Members, *, timeout: float = 20.0) -> None:
        super().__init__(config.api_url, timeout=timeout)
        self.config = config
        self.members = members

    async def _fetch_token(self) -> tuple[str, int]:
        _, body = await call(self.client, VENDOR, "POST", "/open-apis/auth/v3/tenant_access_token/internal",
                             json={"app_id": self.config.app_id, "app_secret": self.config.app_secret})
        self._check(body, "tenant_access_token")
        return str(body["tenant_access_token"]), int(body.get("expire", 7200))

    def _check(self, body: Any, what: str) -> None:
        code = body.get("code", -1) if isinstance(body, dict) else -1
        if code == 0:
            return
        if code in TOKEN_ERRORS:
            self._token.forget()
        detail = str(body.get("msg", "")) if isinstance(body, dict) else ""
        raise DeliveryError(f"Feishu {what} failed (code {code}: {detail[:200]})", permanent=code not in TRANSIENT)

    async def _api(self, method: str, path: str, what: str, **kwargs: Any) -> dict[str, Any]:
        token = await self._access_token()
        _, body = await call(self.client, VENDOR, method, path, headers={"Authorization": f"Bearer {token}"},
                             **kwargs)
        self._check(body, what)
        answer: dict[str, Any] = body
        return answer

    async def _message(self, id_type: str, receive_id: str, msg_type: str, content: dict[str, Any],
                       what: str) -> str:
        body = await self._api("POST", "/open-apis/im/v1/messages", what, params={"receive_id_type": id_type},
                               json={"receive_id": receive_id, "msg_type": msg_type,
                                     "content": json.dumps(content, ensure_ascii=False)})
        return str((body.get("data") or {}).get("message_id", ""))

    def _chat(self, chat_id: str) -> str:
        named = self.members.vendor_chat(VENDOR, chat_id)
        if not named:
            raise DeliveryError(f"members.yaml names no Feishu chat for chat {chat_id} (backends.feishu.chats)",
                                permanent=True)
        return named

    async def send(self, message: Outgoing) -> str:
        chat = self._chat(message.chat_id)
        if message.buttons:
            content = card(message.text, message.buttons)
            return await self._message("chat_id", chat, "interactive", content, "send card")
        text = clip(plain(message.text), TEXT_BYTES, encoding="utf-8")
        message_id = await self._message("chat_id", chat, "text", {"text": text}, "send text")
        if message.attachment_path:
            message_id = await self._send_file(chat, Path(message.attachment_path))
        return message_id

    async def _send_file(self, chat: str, path: Path) -> str:
        try:
            data = await asyncio.to_thread(path.read_bytes)
        except FileNotFoundError as exc:
            raise DeliveryError(f"attachment not found: {path}", permanent=True) from exc
        body = await self._api("POST", "/open-apis/im/v1/files", "upload file",
                               data={"file_type": "stream", "file_name": path.name},
                               files={"file": (path.name, data)})
        file_key = str((body.get("data") or {}).get("file_key", ""))
        return await self._message("chat_id", chat, "file", {"file_key": file_key}, "send file")

    async def edit(self, chat_id: str, message_id: str, text: str,
                   buttons: tuple[tuple[Button, ...], ...] = ()) -> None:
        content = json.dumps(card(text, buttons), ensure_ascii=False)
        await self._api("PATCH", f"/open-apis/im/v1/messages/{message_id}", "update card", json={"content": content})

    async def tell(self, open_id: str, text: str) -> None:
        """A private text to one person (answers, refusals, questions)."""
        content = {"text": clip(plain(text), TEXT_BYTES, encoding="utf-8")}
        await self._message("open_id", open_id, "text", content, "send text")


class FeishuCallback:
    """The callback URL: the SDK verifies (token, signature, decryption), we refuse stale or replayed ones."""

    path = "/feishu/callback"

    def __init__(self, config: FeishuConfig, notifier: FeishuNotifier, conversation: Conversation,
                 guard: ReplayGuard) -> None:
        # lark-oapi takes seconds to import: only when Feishu is the backend
        from lark_oapi.core.model import RawRequest
        from lark_oapi.event.callback.model.p2_card_action_trigger import P2CardActionTriggerResponse
        from lark_oapi.event.dispatcher_handler import EventDispatcherHandler

        self._raw = RawRequest
        self._pressed = P2CardActionTriggerResponse
        self._local = threading.local()
        self.handler = (EventDispatcherHandler.builder(config.encrypt_key, config.verification_token)
                        .register_p2_card_action_trigger(self._keep_press)
                        .register_p2_im_message_receive_v1(self._keep)
                        .build())
        self.notifier = notifier
        self.conversation = conversation
        self.members = conversation.desk.members
        self.guard = guard

    def _keep(self, event: Any) -> None:
        self._local.event = event

    def _keep_press(self, event: Any) -> Any:
        self._local.event = event
        return self._pressed()

    def _verify(self, request: CallbackRequest) -> tuple[Any, Any]:
        """The SDK's answer and the verified event (None for the console's URL check or a refusal)."""
        raw = self._raw()
        raw.uri = request.path
        raw.body = request.body
        raw.headers = {name: request.headers[name.lower()] for name in LARK_HEADERS
                       if name.lower() in request.headers}
        self._local.event = None
        answer = self.handler.do(raw)
        return answer, self._local.event

    async def __call__(self, request: CallbackRequest) -> CallbackResponse:
        try:
            answer, event = await asyncio.to_thread(self._verify, request)
            if answer.status_code != 200:
                detail = bytes(answer.content or b'')[:120]
                raise CallbackRefused(f"Feishu callback failed the SDK's checks ({detail!r})")
            if event is not None:
                header = event.header
                self.guard.check(VENDOR, from_epoch(header.create_time, millis=True), str(header.event_id),
                                 request.body)
        except CallbackRefused as exc:
            refuse(VENDOR, request.path, exc)
            return CallbackResponse.refused("token, signature, timestamp or replay check failed")
        if event is not None:
            await self._handle(event)
        return CallbackResponse(200, bytes(answer.content or b"{}"), "application/json; charset=utf-8")

    async def _handle(self, event: Any) -> None:
        if event.header.event_type == "card.action.trigger":
            await self._press(event.event)
        elif event.header.event_type == "im.message.receive_v1":
            await self._line(event.event)

    async def _press(self, data: Any) -> None:
        user = str(data.operator.open_id or "")
        value = data.action.value if data.action and isinstance(data.action.value, dict) else {}
        message_id = str(data.context.open_message_id or "") if data.context else ""
        chat = await asyncio.to_thread(self.conversation.chat_of, message_id)
        card_ref = Card(chat, message_id) if chat else None
        actor = actor_for(self.members, VENDOR, user, chat)
        outcome = await asyncio.to_thread(self.conversation.press, VENDOR, user, actor,
                                          str(value.get("data", "")), card_ref)
        await self._show(user, outcome)

    async def _line(self, data: Any) -> None:
        message = data.message
        if message is None or message.message_type != "text":
            return
        user = str(data.sender.sender_id.open_id or "")
        try:
            text = str(json.loads(message.content or "{}").get("text", ""))
        except ValueError:
            return
        for mention in message.mentions or []:  # "@_user_1 /approve 3" in a group: the @ is not the command
            text = text.replace(str(mention.key or ""), "")
        vendor_chat = str(message.chat_id or "")
        chat = self.members.chat_of_vendor(VENDOR, vendor_chat) or f"{VENDOR}:{vendor_chat}"
        actor = actor_for(self.members, VENDOR, user, chat)
        outcome = await asyncio.to_thread(self.conversation.say, VENDOR, user, actor, text)
        if outcome is not None:
            await self._show(user, outcome)

    async def _show(self, user: str, outcome: Outcome) -> None:
        await show_outcome(self.notifier, VENDOR, user, outcome)

