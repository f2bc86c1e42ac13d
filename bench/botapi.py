"""The tests' fake Bot API (tests/support/fake_bot_api.py) with receive times and random faults."""

from __future__ import annotations

import random
import threading
import time
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.support.fake_bot_api import FakeBotAPI  # benchmarks run from the repository root (python -m bench)


class TimedBotAPI(FakeBotAPI):
    """Records when each sendMessage arrived; with ``fault_rate`` > 0, refuses sends at random.

    A refused call answers 429 (retry after 1 s) or 502 before anything is
    recorded, the way Telegram fails: the message was not delivered.
    """

    def __init__(self, fault_rate: float = 0.0, seed: int = 0) -> None:
        super().__init__()
        self.received: dict[int, float] = {}
        self.fault_rate = fault_rate
        self.faults = 0
        self._rand = random.Random(seed)
        self._rand_lock = threading.Lock()

    def start(self) -> TimedBotAPI:
        super().start()
        assert self.server is not None
        self.server.handle_error = lambda *_a: None  # type: ignore[method-assign]  # clients hanging up
        return self

    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        method = request.path.rsplit("/", 1)[-1]
        if self.fault_rate and method in ("sendMessage", "editMessageText", "sendDocument"):
            with self._rand_lock:
                roll = self._rand.random()
                status = self._rand.choice((429, 502))
            if roll < self.fault_rate:
                self.faults += 1
                self.fail_next(method, status, retry_after=1)
        super()._handle(request)

    def _result(self, method: str, params: dict[str, Any]) -> Any:
        result = super()._result(method, params)
        if method == "sendMessage":
            with self._lock:
                self.received[int(result["message_id"])] = time.time()
        return result
