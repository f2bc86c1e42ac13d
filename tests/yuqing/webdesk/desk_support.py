"""What the desk's tests share besides fixtures: the running server, sign-in passwords, the CSRF token.

(A plain module beside ``conftest.py``: test modules import from here, never from a conftest.)
"""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sqlalchemy import select

from store.database import session_scope
from store.models import Case
from yuqing.web import WebServer
from yuqing.webdesk.site import DeskSite

MEMBERS_FILE = Path(__file__).resolve().parents[3] / "playbooks" / "members.yaml"
SECRET = "test-secret-" + "x" * 40
CSRF = re.compile(r'name="csrf" value="([^"]+)"')

SignIn = Callable[[str], httpx.Client]
Seed = Callable[..., int]


def password_of(login: str) -> str:
    return f"desk-password-{login}"


@dataclass
class RunningDesk:
    """A desk served on 127.0.0.1 from a thread of its own (the tests stay synchronous)."""

    site: DeskSite
    server: WebServer
    base: str = ""
    _loop: asyncio.AbstractEventLoop = field(default_factory=asyncio.new_event_loop)
    _thread: threading.Thread | None = None

    def start(self) -> RunningDesk:
        started = threading.Event()
        errors: list[BaseException] = []

        def run() -> None:
            asyncio.set_event_loop(self._loop)
            try:
                self._loop.run_until_complete(self.server.start())
            except BaseException as exc:  # a bind error reaches the test
                errors.append(exc)
                started.set()
                return
            started.set()
            self._loop.run_forever()

        self._thread = threading.Thread(target=run, name="desk-server", daemon=True)
        self._thread.start()
        started.wait(30)
        if errors:
            raise errors[0]
        self.base = f"http://127.0.0.1:{self.server.port}"
        return self

    def stop(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            return
        asyncio.run_coroutine_threadsafe(self.server.stop(), self._loop).result(30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(30)
        self._loop.close()


def csrf_of(client: httpx.Client, path: str = "/now") -> str:
    """The CSRF token a page of *path* carries in its forms."""
    found = CSRF.search(client.get(path).text)
    assert found, f"no CSRF token on {path}"
    return found.group(1)


def case_of(desk: RunningDesk, event_id: int, department: str) -> int:
    """The id of *department*'s case on *event_id* (the test seeded it)."""
    with session_scope(desk.site.sessions) as session:
        found = session.scalar(select(Case.id).where(Case.event_id == event_id,
                                                           Case.department_key == department))
    assert found is not None, f"no case of {department} on event {event_id}"
    return found
