"""A fake Telegram Bot API on 127.0.0.1: records calls, serves injected updates, fails on demand.

Implements getMe, getUpdates, deleteWebhook, sendMessage, editMessageText,
answerCallbackQuery and sendDocument — enough for python-telegram-bot's
Application and our outbox. ``fail_next(method, 429 | 502)`` makes the next
call to *method* fail the way Telegram does.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

from .serving import serve_in_thread  # relative: the benchmarks import this module as tests.support

BOT_USER = {"id": 4242, "is_bot": True, "first_name": "舆情助手", "username": "yuqing_test_bot"}


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    result: Any = None


@dataclass
class FakeBotAPI:
    calls: list[Call] = field(default_factory=list)
    updates: list[dict] = field(default_factory=list)
    failures: dict[str, list[tuple[int, int]]] = field(default_factory=dict)
    messages: dict[tuple[str, int], dict] = field(default_factory=dict)
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))
    _update_ids: itertools.count = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Condition = field(default_factory=threading.Condition)
    server: ThreadingHTTPServer | None = None

    # ---------------------------------------------------------------- control

    @property
    def base_url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}/bot"

    def start(self) -> FakeBotAPI:
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                api._handle(self)

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

    def fail_next(self, method: str, status: int, retry_after: int = 3, times: int = 1) -> None:
        with self._lock:
            self.failures.setdefault(method, []).extend([(status, retry_after)] * times)

    def inject(self, update: dict) -> None:
        with self._lock:
            update = {"update_id": next(self._update_ids), **update}
            self.updates.append(update)
            self._lock.notify_all()

    def sent(self, method: str = "sendMessage") -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def wait_for(self, method: str, count: int = 1, deadline: float = 10.0) -> list[Call]:
        """Block until *count* calls of *method* were made (fails the test if they never come)."""
        end = time.monotonic() + deadline
        with self._lock:
            while len([c for c in self.calls if c.method == method]) < count:
                left = end - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"expected {count} {method} call(s), got {self.calls!r}")
                self._lock.wait(left)
            return [c for c in self.calls if c.method == method]

    # ---------------------------------------------------------------- updates a test injects

    def message_update(self, user_id: int, chat_id: int, text: str, name: str = "测试用户") -> dict:
        entities = (
            [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}] if text.startswith("/") else []
        )
        return {
            "message": {
                "message_id": next(self._ids),
                "date": int(time.time()),
                "chat": {"id": chat_id, "type": "group" if chat_id < 0 else "private", "title": "t"},
                "from": {"id": user_id, "is_bot": False, "first_name": name},
                "text": text,
                "entities": entities,
            }
        }

    def button_update(self, user_id: int, chat_id: int, message_id: int, data: str, name: str = "测试用户") -> dict:
        original = self.messages[(str(chat_id), message_id)]
        return {
            "callback_query": {
                "id": str(next(self._ids)),
                "chat_instance": "ci",
                "data": data,
                "from": {"id": user_id, "is_bot": False, "first_name": name},
                "message": original,
            }
        }

    # ---------------------------------------------------------------- serving

    def _params(self, request: BaseHTTPRequestHandler) -> dict[str, Any]:
        length = int(request.headers.get("Content-Length") or 0)
        body = request.rfile.read(length)
        ctype = request.headers.get("Content-Type", "")
        if ctype.startswith("multipart/form-data"):
            msg = BytesParser(policy=HTTP).parsebytes(b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + body)
            params = {}
            for part in msg.iter_parts():
                name = part.get_param("name", header="content-disposition")
                payload = part.get_payload(decode=True) or b""
                params[name] = (
                    payload.decode("utf-8", "replace")
                    if part.get_filename() is None
                    else f"<file {part.get_filename()}>"
                )
            return params
        if ctype.startswith("application/json"):
            return json.loads(body or b"{}")
        return dict(parse_qsl(body.decode()))

    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        method = request.path.rsplit("/", 1)[-1]
        params = self._params(request)
        with self._lock:
            failure = self.failures.get(method, [])
            status, retry_after = failure.pop(0) if failure else (200, 0)
            call = Call(method, params)
        if status == 429:
            return self._reply(
                request,
                429,
                {
                    "ok": False,
                    "error_code": 429,
                    "description": f"Too Many Requests: retry after {retry_after}",
                    "parameters": {"retry_after": retry_after},
                },
            )
        if 400 <= status < 500:
            return self._reply(
                request, status, {"ok": False, "error_code": status, "description": "Bad Request: chat not found"}
            )
        if status != 200:
            request.send_response(status)
            request.send_header("Content-Type", "text/html")
            request.end_headers()
            request.wfile.write(b"<html>Bad Gateway</html>")
            return None
        if method == "getUpdates":
            return self._reply(request, 200, {"ok": True, "result": self._updates(params)})
        call.result = self._result(method, params)
        with self._lock:
            self.calls.append(call)
            self._lock.notify_all()
        return self._reply(request, 200, {"ok": True, "result": call.result})

    @staticmethod
    def _reply(request: BaseHTTPRequestHandler, status: int, payload: dict) -> None:
        body = json.dumps(payload, ensure_ascii=False).encode()
        request.send_response(status)
        request.send_header("Content-Type", "application/json")
        request.send_header("Content-Length", str(len(body)))
        request.end_headers()
        request.wfile.write(body)

    def _updates(self, params: dict[str, Any]) -> list[dict]:
        offset = int(params.get("offset") or 0)
        with self._lock:
            self.updates = [u for u in self.updates if u["update_id"] >= offset]
            if not self.updates:
                self._lock.wait(0.2)
            return [u for u in self.updates if u["update_id"] >= offset]

    def _message(self, params: dict[str, Any], text: str) -> dict:
        chat_id = int(params["chat_id"])
        message = {
            "message_id": next(self._ids),
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "group" if chat_id < 0 else "private", "title": "t"},
            "from": BOT_USER,
            "text": text,
        }
        if params.get("reply_markup"):
            markup = params["reply_markup"]
            markup = json.loads(markup) if isinstance(markup, str) else markup
            if "inline_keyboard" in markup:  # messages carry only inline keyboards
                message["reply_markup"] = markup
        return message

    def _result(self, method: str, params: dict[str, Any]) -> Any:
        if method == "getMe":
            return BOT_USER
        if method in ("deleteWebhook", "answerCallbackQuery", "setMyCommands"):
            return True
        if method in ("sendMessage", "sendDocument"):
            message = self._message(params, params.get("text") or params.get("caption") or "")
            with self._lock:
                self.messages[(str(message["chat"]["id"]), message["message_id"])] = message
            return message
        if method == "editMessageText":
            key = (str(params["chat_id"]), int(params["message_id"]))
            with self._lock:
                message = dict(self.messages.get(key, self._message(params, "")), text=params["text"])
                message["message_id"] = key[1]
                if params.get("reply_markup"):
                    message["reply_markup"] = json.loads(params["reply_markup"])
                else:
                    message.pop("reply_markup", None)
                self.messages[key] = message
            return message
        return True
