"""`yuqing demo` end to end: the real service against the replay sources, then a weekly report."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import feedparser
import httpx
import pytest

from yuqing.replay import ReplayServer, ReplayState, load_demo_items

YUQING = str(Path(sys.executable).with_name("yuqing"))


def test_replay_serves_every_kind_and_answers_conditional_gets() -> None:
    import datetime as dt

    server = ReplayServer(ReplayState(load_demo_items(), started=dt.datetime.now(dt.UTC))).start()
    try:
        news = httpx.get(f"{server.base}/news.xml")
        assert len(feedparser.parse(news.content).entries) == 4
        again = httpx.get(f"{server.base}/news.xml", headers={"If-None-Match": news.headers["ETag"]})
        assert again.status_code == 304
        server.advance(2)
        assert len(feedparser.parse(httpx.get(f"{server.base}/news.xml").content).entries) == 6
        cards = httpx.get(f"{server.base}/weibo/timeline").json()["data"]["cards"]
        reposts = [c["mblog"] for c in cards if "retweeted_status" in c["mblog"]]
        assert reposts and all(r["retweeted_status"]["id"] == "5001" for r in reposts if r["id"].startswith("5001"))
        board = httpx.get(f"{server.base}/board/list").text
        assert "/board/msg/9001" in board and "未回复" in board
        server.advance(4)
        assert "reply-body" in httpx.get(f"{server.base}/board/msg/9001").text
        assert httpx.get(f"{server.base}/broken.xml").status_code == 500
    finally:
        server.stop()


@pytest.mark.slow
def test_demo_runs_the_whole_loop(tmp_path: Path) -> None:
    env = {**os.environ, "YUQING_DATA_DIR": str(tmp_path)}
    result = subprocess.run([YUQING, "demo"], capture_output=True, text=True, env=env, timeout=240,
                            stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    out = result.stdout
    for step in range(1, 7):
        assert f"第{step}步" in out
    assert "已签收" in out and "本次未作改动" in out  # a second press changes nothing and says so
    assert "审签通过" in out
    delivered = re.search(r"alerts delivered: (\d+) of (\d+)", out)
    assert delivered and delivered.group(1) == delivered.group(2)
    assert re.search(r"clarification reprints [2-9]", out)
    reports = list((tmp_path / "demo" / "reports").glob("weekly-*.pdf"))
    assert reports and reports[0].stat().st_size > 0
    assert "【信息源异常】county-site" in out  # the broken county site reached the duty chat
    assert re.search(r"网页工作台 http://127\.0\.0\.1:\d+/ — 登录名 wangzhiban", out)  # the desk was up
