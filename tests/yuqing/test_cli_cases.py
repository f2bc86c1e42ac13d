"""Issue 10 end to end through the command line: a feed on 127.0.0.1 or an import file, `yuqing poll`,
`yuqing cycle`, and what `yuqing events` / `yuqing cases` show, on SQLite and PostgreSQL.

The texts are written for these tests (no dataset text is copied).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from email.utils import format_datetime
from html import escape
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from rss_server import RssServer
from sqlalchemy import select

from playbooks.loader import load_playbook
from playbooks.workdays import WorkClock
from store.database import make_engine, session_factory, session_scope
from store.models import Consultation, OutboxMessage
from store.types import utcnow
from yuqing.cli import main

EXPLOSION = (
    "网传吉林市化工厂爆炸泄漏多人死亡",
    "有网友称，今天上午吉林市某化工厂突然发生爆炸，现场有气体泄漏，已造成多人死亡。",
)
DRILL = ("吉林市化工厂开展爆炸泄漏应急演练", "今天上午，吉林市某化工厂组织爆炸泄漏事故应急演练，检验应急预案。")
DEBUNK = ("辟谣：网传吉林市化工厂爆炸不实", "经核实，网传吉林市某化工厂发生爆炸造成人员死亡的消息不实。")


class _Feed(RssServer):
    """One RSS document on 127.0.0.1, replaced between polls."""

    def publish(self, items: list[tuple[str, str, dt.datetime]]) -> None:
        entries = "".join(
            f"<item><title>{escape(t)}</title><link>http://news.example.cn/a/{i}</link>"
            f"<guid>http://news.example.cn/a/{i}</guid><pubDate>{format_datetime(when)}</pubDate>"
            f"<description>{escape(text)}</description></item>"
            for i, (t, text, when) in enumerate(items)
        )
        self.body = (
            f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>新闻</title>'
            f"<link>http://news.example.cn/</link><description>d</description>{entries}"
            f"</channel></rss>"
        ).encode()


@pytest.fixture
def feed() -> Iterator[_Feed]:
    served = _Feed()
    yield served
    served.server.shutdown()
    served.server.server_close()


def _env(tmp_path: Path, database_url: str, *, models: bool = False) -> dict[str, str]:
    env = {
        "YUQING_DATA_DIR": str(tmp_path),
        "YUQING_SOURCES_FILE": str(tmp_path / "sources.yaml"),
        "YUQING_DATABASE_URL": database_url,
    }
    if not models:  # signals and clocks need no model; the category (who leads) does
        env["YUQING_MODELS_DIR"] = str(tmp_path / "no-models")
    return env


def _run(args: list[str], env: dict[str, str]) -> str:
    result = CliRunner().invoke(main, args, env=env)
    assert result.exit_code == 0, result.output
    return result.output


def _json_lines(output: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in output.splitlines() if line.startswith("{")]


def _when(value: str | None) -> dt.datetime:
    assert value is not None
    return dt.datetime.fromisoformat(value)


def _poll_and_cycle(
    feed: _Feed, tmp_path: Path, database_url: str, title: str, text: str, published: dt.datetime
) -> dict[str, str]:
    env = _env(tmp_path, database_url)
    feed.publish([(title, text, published)])
    _run(["init"], env)
    _run(["sources", "add", "--kind", "feed", "--url", feed.url, "--name", "news"], env)
    _run(["poll", "--once"], env)
    _run(["cycle"], env)
    return env


def test_an_explosion_report_on_a_news_feed_opens_emergency_cases(feed, tmp_path, database_url) -> None:
    playbook = load_playbook()
    published = (utcnow() - dt.timedelta(minutes=40)).replace(microsecond=0)
    env = _poll_and_cycle(feed, tmp_path, database_url, *EXPLOSION, published)

    [event] = _json_lines(_run(["events", "--json"], env))
    assert event["is_emergency"] and event["profile"] == "emergency" and event["alerted"]
    assert {"emergency", "unverified"} <= set(event["signal_kinds"]) and "吉林市" in event["places"]
    assert event["consultation_open"]  # an emergency is a major event: 会商

    cases = _json_lines(_run(["cases", "--event", str(event["id"]), "--json"], env))
    assert cases and {c["profile"] for c in cases} == {"emergency"}
    assert "吉林市政府" in {c["department"] for c in cases}
    for c in cases:
        assert _when(c["clock_started_at"]) == published  # the item's own time, not when we stored it
        assert _when(c["first_information_due_at"]) == published + playbook.clocks.emergency.first_information

    engine = make_engine(database_url)
    with session_scope(session_factory(engine)) as session:
        duty = [a.text for a in session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "event"))]
        assert len(duty) == 1 and "突发事件" in duty[0] and "爆炸" in duty[0] and "死亡" in duty[0]
    engine.dispose()


@pytest.mark.parametrize("title,text", [DRILL, DEBUNK], ids=["drill", "debunk"])
def test_drill_and_debunk_reports_are_not_emergencies(feed, tmp_path, database_url, title, text) -> None:
    published = (utcnow() - dt.timedelta(minutes=40)).replace(microsecond=0)
    env = _poll_and_cycle(feed, tmp_path, database_url, title, text, published)
    [event] = _json_lines(_run(["events", "--json"], env))
    assert not event["is_emergency"] and "emergency" not in event["signal_kinds"]
    assert all(c["profile"] != "emergency" for c in _json_lines(_run(["cases", "--json"], env)))


def _mailbox_record(written: dt.datetime, reply: str | None = None) -> str:
    record = {
        "id": "MB-2026-1115-0042",
        "title": "农安县某小学强制学生购买教辅资料",
        "text": "我是农安县某小学学生家长，学校要求每名学生购买教辅资料，费用260元，不买就在班上点名。",
        "time": written.isoformat(),
    }
    if reply is not None:
        record.update(reply=reply, reply_time=(written + dt.timedelta(days=21)).isoformat())
    return json.dumps(record, ensure_ascii=False) + "\n"


def test_a_late_import_is_due_from_the_citizens_own_time_and_one_reply_answers_every_case(
    tmp_path, database_url
) -> None:
    playbook = load_playbook()
    env = _env(tmp_path, database_url, models=True)
    written = (utcnow() - dt.timedelta(days=20)).replace(microsecond=0)
    export = tmp_path / "mailbox.jsonl"
    export.write_text(_mailbox_record(written), encoding="utf-8")
    _run(["init"], env)
    _run(["import", str(export), "--source", "mayor-mailbox"], env)
    _run(["cycle"], env)

    cases = _json_lines(_run(["cases", "--json"], env))
    assert {"农安县", "长春市政府", "省教育厅"} <= {c["department"] for c in cases}
    due = WorkClock.from_playbook(playbook).due_in_working_days(written, playbook.clocks.respond_working_days)
    for c in cases:
        assert _when(c["clock_started_at"]) == written
        assert _when(c["respond_due_at"]) == due
        assert "respond" in c["overdue"]  # already late when it opened
    engine = make_engine(database_url)
    with session_scope(session_factory(engine)) as session:
        assert session.scalar(select(Consultation)) is None  # a county message is no 会商
        chased = [a.text for a in session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "escalation"))]
        assert chased and all("已超时" in t for t in chased) and any("天" in t for t in chased)

    export.write_text(_mailbox_record(written, reply="经核查，学校已停止统一征订并退还费用。"), encoding="utf-8")
    _run(["import", str(export), "--source", "mayor-mailbox"], env)
    _run(["cycle"], env)
    after = _json_lines(_run(["cases", "--json"], env))
    assert {c["state"] for c in after} == {"responded"}
    with session_scope(session_factory(engine)) as session:
        from store.models import Clarification

        assert session.scalar(select(Clarification)) is None  # an official reply is not a clarification
    engine.dispose()
