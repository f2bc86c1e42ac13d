"""Kept for ``bench/botapi.py``, which puts this directory on ``sys.path``: the fake lives in tests/support.

Tests import ``support.fake_bot_api``; delete this module once bench imports it from there too.
"""

from tests.support.fake_bot_api import BOT_USER, Call, FakeBotAPI

__all__ = ["BOT_USER", "Call", "FakeBotAPI"]
