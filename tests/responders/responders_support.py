"""Helpers shared by the responders' tests (a plain module: conftest cannot be imported)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")
MEMBERS_FILE = Path(__file__).resolve().parents[2] / "playbooks" / "members.yaml"

DUTY_CHIEF = 100001
DUTY_STAFF = 100002
EDU_MEMBER = 200101
TRAFFIC_MEMBER = 200151
STRANGER = 999999


def local(*args: int) -> dt.datetime:
    """A time in the office's timezone."""
    return dt.datetime(*args, tzinfo=SHANGHAI)


class Clock:
    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def set(self, now: dt.datetime) -> None:
        self.now = now
