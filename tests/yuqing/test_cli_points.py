"""Issue 11 through the command line: a county submits, the editor adopts with the video bonus, the
provincial portal publishes it, a major and a minor site reprint it — all from feeds on 127.0.0.1 —
and `yuqing points --json` and `yuqing report monthly` show it, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from email.utils import format_datetime
from html import escape
from pathlib import Path

import pytest
from click.testing import CliRunner
from pypdf import PdfReader
from rss_server import RssServer

from store.types import utcnow
from yuqing.cli import main

TITLE = "农安县农村公路建设成效明显"
TEXT = ("今年以来，农安县新建改建农村公路一百二十公里，实现所有行政村通硬化路，群众出行条件明显改善，"
        "沿线特色种植和乡村旅游同步发展，带动农民增收。")


class _Site(RssServer):
    """One RSS feed on 127.0.0.1 whose items link to a named host (the portal, a news site)."""

    def publish(self, link: str, title: str, text: str, when: dt.datetime) -> None:
        self.body = (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title>'
                     f"<link>{link}</link><description>d</description><item><title>{escape(title)}</title>"
                     f"<link>{link}</link><guid>{link}</guid><pubDate>{format_datetime(when)}</pubDate>"
                     f"<description>{escape(text)}</description></item></channel></rss>").encode()


@pytest.fixture
def sites() -> Iterator[list[_Site]]:
    served = [_Site() for _ in range(3)]
    yield served
    for site in served:
        site.close()


def _run(args: list[str], env: dict[str, str]) -> str:
    result = CliRunner().invoke(main, args, env=env)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.slow
def test_adopted_video_is_fifteen_and_reprints_add_by_site(sites, tmp_path: Path, database_url: str) -> None:
    env = {"YUQING_DATA_DIR": str(tmp_path), "YUQING_SOURCES_FILE": str(tmp_path / "sources.yaml"),
           "YUQING_DATABASE_URL": database_url, "YUQING_MODELS_DIR": str(tmp_path / "no-models")}
    portal, major, minor = sites
    _run(["init"], env)
    for name, site in (("jl-portal", portal), ("people", major), ("county-news", minor)):
        _run(["sources", "add", "--kind", "feed", "--url", site.url, "--name", name], env)
    number = _run(["submit", "--unit", "农安县", "--title", TITLE, "--text", TEXT, "--by", "孙农安"], env).strip()
    assert "+15 分" in _run(["adopt", number, "--bonus", "video", "--by", "编辑甲"], env)
    now = utcnow()
    portal.publish("https://www.jl.gov.cn/xxgk/a/1.html", TITLE, TEXT, now)
    major.publish("http://www.people.com.cn/n1/a.html", "吉林农安：农村公路通到家门口", TEXT, now)
    minor.publish("http://www.county-news.cn/a/9.html", "农安农村公路", TEXT, now)
    _run(["poll", "--once"], env)
    _run(["cycle"], env)
    _run(["cycle"], env)  # a second cycle awards nothing twice
    month = now.astimezone(dt.timezone(dt.timedelta(hours=8))).strftime("%Y-%m")
    data = json.loads(_run(["points", "--month", month, "--json"], env))
    unit = next(u for u in data["units"] if u["unit"] == "农安县")
    assert unit["group"] == "county" and unit["rank"] == 1
    assert sorted((r["reason"], r["points"]) for r in unit["rows"]) == [
        ("adopted", 5.0), ("reprint_major", 1.0), ("reprint_other", 0.5), ("video", 10.0)]
    assert unit["points"] == 16.5
    assert sum(u["points"] for u in data["units"]) == 16.5  # nobody else earned anything
    out = tmp_path / "reports"
    paths = _run(["report", "monthly", "--month", month, "--out", str(out)], env).split()
    pdf = next(p for p in paths if p.endswith(".pdf"))
    assert "农安县" in "".join(page.extract_text() for page in PdfReader(pdf).pages)
