"""Fake WeCom, Feishu and DingTalk APIs on 127.0.0.1: record what is sent, fail on demand.

Each fake answers the few calls our backends make, in the vendor's own shapes (WeCom's
``errcode``, Feishu's ``code``/``data``, DingTalk's HTTP status with ``code``/``message``), and
records every message as a :class:`Sent` in one shape, so one scenario table can read all three.
``fail_next(kind, how)`` makes the next send of *kind* (``card``, ``text``, ``edit``) fail:
``"transient"`` or ``"permanent"`` in the vendor's way of saying so.
"""

from __future__ import annotations

import itertools
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from support.serving import serve_in_thread


@dataclass
class Sent:
    kind: str  # card, text, edit, file
    to: str  # the vendor's chat or user
    text: str  # everything a person reads, flattened
    buttons: list[str]  # button data, in order
    labels: list[str]
    message_id: str = ""


@dataclass
class FakeVendor:
    sent: list[Sent] = field(default_factory=list)
    failures: dict[str, list[str]] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> FakeVendor:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _any(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                query = {k: v[0] for k, v in parse_qs(parts.query).items()}
                with fake._lock:
                    fake.requests.append((self.command, parts.path))
                    status, answer = fake.handle(self.command, parts.path, query, dict(self.headers), body)
                data = json.dumps(answer, ensure_ascii=False).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json; charset=utf-8")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_PATCH = _any

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        serve_in_thread(self.server)
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    def fail_next(self, kind: str, how: str) -> None:
        with self._lock:
            self.failures.setdefault(kind, []).append(how)

    def _failure(self, kind: str) -> str | None:
        queue = self.failures.get(kind)
        return queue.pop(0) if queue else None

    def record(self, sent: Sent) -> str:
        sent.message_id = sent.message_id or f"m{next(self._ids)}"
        self.sent.append(sent)
        return sent.message_id

    def handle(self, method: str, path: str, query: dict[str, str], headers: dict[str, str],
               body: bytes) -> tuple[int, Any]:
        raise NotImplementedError


def _json(body: bytes) -> dict[str, Any]:
    try:
        return json.loads(body or b"{}")
    except ValueError:
        return {}


class FakeWeCom(FakeVendor):
    """WeCom names a pressed card by the press's response code: ``codes`` maps it to the card's task id."""

    TOKEN = "wecom-token-1"

    def __init__(self) -> None:
        super().__init__()
        self.codes: dict[str, str] = {}

    def handle(self, method, path, query, headers, body):  # type: ignore[no-untyped-def]
        if path == "/cgi-bin/gettoken":
            return 200, {"errcode": 0, "errmsg": "ok", "access_token": self.TOKEN, "expires_in": 7200}
        if query.get("access_token") != self.TOKEN:
            return 200, {"errcode": 40014, "errmsg": "invalid access_token"}
        if path == "/cgi-bin/media/upload":
            return 200, {"errcode": 0, "media_id": "media-1", "type": "file"}
        payload = _json(body)
        if path == "/cgi-bin/message/send":
            kind = {"template_card": "card", "text": "text", "file": "file"}[payload["msgtype"]]
        elif path == "/cgi-bin/message/update_template_card":
            kind = "edit"
        else:
            return 404, {"errcode": 404, "errmsg": "no such API"}
        how = self._failure(kind)
        if how == "transient":
            return 200, {"errcode": -1, "errmsg": "system busy"}
        if how == "permanent":
            return 200, {"errcode": 81013, "errmsg": "user & party & tag all invalid"}
        to = payload.get("touser") or payload.get("toparty") or ",".join(payload.get("userids", []))
        if kind == "card":
            card = payload["template_card"]
            self.record(Sent("card", to, f"{card['main_title']['title']}\n{card.get('sub_title_text', '')}",
                             [b["key"] for b in card["button_list"]], [b["text"] for b in card["button_list"]],
                             card["task_id"]))
        elif kind == "edit":
            card = payload.get("template_card")
            if card:
                self.record(Sent("edit", to, f"{card['main_title']['title']}\n{card.get('sub_title_text', '')}",
                                 [b["key"] for b in card["button_list"]], [b["text"] for b in card["button_list"]],
                                 card["task_id"]))
            else:
                self.record(Sent("edit", to, payload["button"]["replace_name"], [], [],
                                 self.codes.get(payload["response_code"], "")))
        else:
            self.record(Sent(kind, to, payload.get("text", {}).get("content", ""), [], []))
        return 200, {"errcode": 0, "errmsg": "ok", "msgid": f"msg{len(self.sent)}"}


class FakeFeishu(FakeVendor):
    TOKEN = "t-feishu-1"

    def handle(self, method, path, query, headers, body):  # type: ignore[no-untyped-def]
        if path == "/open-apis/auth/v3/tenant_access_token/internal":
            return 200, {"code": 0, "msg": "ok", "tenant_access_token": self.TOKEN, "expire": 7200}
        if headers.get("Authorization", headers.get("authorization")) != f"Bearer {self.TOKEN}":
            return 200, {"code": 99991663, "msg": "Invalid access token"}
        if path == "/open-apis/im/v1/files":
            return 200, {"code": 0, "msg": "ok", "data": {"file_key": "file-1"}}
        payload = _json(body)
        if method == "POST" and path == "/open-apis/im/v1/messages":
            kind = {"interactive": "card", "text": "text", "file": "file"}[payload["msg_type"]]
            to = payload["receive_id"]
        elif method == "PATCH" and path.startswith("/open-apis/im/v1/messages/"):
            kind, to = "edit", path.rsplit("/", 1)[1]
        else:
            return 404, {"code": 404, "msg": "no such API"}
        how = self._failure(kind)
        if how == "transient":
            return 500, {"code": 1, "msg": "internal error"}
        if how == "permanent":
            return 400, {"code": 230002, "msg": "Bot/User can NOT be out of the chat."}
        content = json.loads(payload["content"])
        if kind in ("card", "edit"):
            text = "\n".join([content["header"]["title"]["content"]] + [
                e["text"]["content"] for e in content["elements"] if e.get("tag") == "div"])
            buttons = [a for e in content["elements"] if e.get("tag") == "action" for a in e["actions"]]
            message_id = self.record(Sent(kind, to, text, [b["value"]["data"] for b in buttons],
                                          [b["text"]["content"] for b in buttons],
                                          to if kind == "edit" else ""))
        else:
            message_id = self.record(Sent(kind, to, content.get("text", content.get("file_key", "")), [], []))
        return 200, {"code": 0, "msg": "success", "data": {"message_id": message_id}}


@dataclass
class FakeDingTalk(FakeVendor):
    TOKEN = "ding-token-1"
    uploads: list[bytes] = field(default_factory=list)  # the multipart bodies of media/upload

    def handle(self, method, path, query, headers, body):  # type: ignore[no-untyped-def]
        if path == "/media/upload":  # the oapi host (tests serve both hosts here)
            if query.get("access_token") != self.TOKEN:
                return 200, {"errcode": 40014, "errmsg": "不合法的access_token"}
            if self._failure("upload") == "permanent":
                return 200, {"errcode": 40004, "errmsg": "不合法的媒体文件类型"}
            self.uploads.append(body)
            return 200, {"errcode": 0, "errmsg": "ok", "media_id": f"@media{len(self.uploads)}", "type": "file"}
        payload = _json(body)
        if path == "/v1.0/oauth2/accessToken":
            return 200, {"accessToken": self.TOKEN, "expireIn": 7200}
        if headers.get("x-acs-dingtalk-access-token") != self.TOKEN:
            return 401, {"code": "InvalidAuthentication", "message": "token invalid"}
        routes = {("POST", "/v1.0/im/interactiveCards/send"): "card", ("PUT", "/v1.0/im/interactiveCards"): "edit",
                  ("POST", "/v1.0/robot/groupMessages/send"): "text",
                  ("POST", "/v1.0/robot/oToMessages/batchSend"): "text"}
        kind = routes.get((method, path))
        if kind is None:
            return 404, {"code": "NotFound", "message": "no such API"}
        how = self._failure(kind)
        if how == "transient":
            return 503, {"code": "ServiceUnavailable", "message": "busy"}
        if how == "permanent":
            return 400, {"code": "param.conversationNotExist", "message": "会话不存在"}
        if kind in ("card", "edit"):
            card = json.loads(payload["cardData"]["cardParamMap"]["sys_full_json_obj"])
            text = "\n".join([card["header"]["title"]["text"]] + [
                c["text"] for c in card["contents"] if c["type"] == "markdown" or c["type"] == "text"])
            buttons = [a for c in card["contents"] if c["type"] == "action" for a in c["actions"]]
            self.record(Sent(kind, payload.get("openConversationId", payload["outTrackId"]), text,
                             [b["id"] for b in buttons], [b["label"]["text"] for b in buttons], payload["outTrackId"]))
            return 200, {"success": True, "result": {"processQueryKey": "q"}}
        to = payload.get("openConversationId") or ",".join(payload.get("userIds", []))
        param = json.loads(payload["msgParam"])
        if payload.get("msgKey") == "sampleFile":
            self.record(Sent("file", to, f"{param['fileName']} {param['mediaId']}", [], []))
        else:
            self.record(Sent("text", to, param.get("content", ""), [], []))
        return 200, {"processQueryKey": "q"}
