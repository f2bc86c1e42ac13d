"""*Reports*: the reports directory listed newest first, a report shown, its PDF downloaded, and only names
listed from the directory ever served."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import httpx
import pytest
from desk_support import RunningDesk, Seed, SignIn

from responders import digest
from store.database import session_scope
from store.types import utcnow

PDF = b"%PDF-1.4\n% a weekly report\n%%EOF\n"


def _write_reports(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "weekly-2026-W47.html").write_text("<html><body><h1>网上舆情周报 2026-W47</h1></body></html>",
                                                 encoding="utf-8")
    (folder / "weekly-2026-W47.pdf").write_bytes(PDF)
    (folder / "weekly-2026-W49.html").write_text("<html><body><h1>网上舆情周报 2026-W49</h1></body></html>",
                                                 encoding="utf-8")
    (folder / "weekly-2026-W49.pdf").write_bytes(PDF)
    (folder / "monthly-2026-11.html").write_text("<html><body><h1>月度通报 2026-11</h1></body></html>",
                                                 encoding="utf-8")
    (folder / "monthly-2026-11.pdf").write_bytes(PDF)
    (folder / "monthly-2026-11.csv").write_text("\ufeff单位,得分\n", encoding="utf-8")
    (folder / "digest-2026-12-01.html").write_text("<html><body><h1>网络信息摘要 2026-12-01</h1></body></html>",
                                                   encoding="utf-8")
    (folder / "notes.txt").write_text("not a report", encoding="utf-8")


def test_reports_are_listed_newest_first(desk_server: RunningDesk, sign_in: SignIn) -> None:
    _write_reports(desk_server.site.reports_dir)
    page = sign_in("chenjiaoyu").get("/reports").text  # everyone signed in reads reports
    order = [page.index(f'data-report="{stem}"') for stem in
             ("weekly-2026-W49", "digest-2026-12-01", "monthly-2026-11", "weekly-2026-W47")]
    assert order == sorted(order)
    assert "notes.txt" not in page
    assert 'href="/reports/weekly-2026-W49.pdf"' in page and 'href="/reports/monthly-2026-11.csv"' in page


def test_a_report_is_shown_and_its_pdf_downloaded(desk_server: RunningDesk, sign_in: SignIn) -> None:
    _write_reports(desk_server.site.reports_dir)
    client = sign_in("wuzhuren")
    shown = client.get("/reports/weekly-2026-W47")
    assert shown.status_code == 200 and "网上舆情周报 2026-W47" in shown.text
    assert "default-src 'none'" in shown.headers["content-security-policy"]  # no script runs in a report
    assert client.get("/reports/weekly-2026-W47.html").text == shown.text
    pdf = client.get("/reports/weekly-2026-W47.pdf")
    assert pdf.status_code == 200 and pdf.content == PDF
    assert pdf.headers["content-type"] == "application/pdf"
    assert 'filename="weekly-2026-W47.pdf"' in pdf.headers["content-disposition"]
    assert client.get("/reports/monthly-2026-11.csv").content.startswith("\ufeff单位".encode())


def test_a_digest_day_only_in_the_store_is_listed_and_rendered(desk_server: RunningDesk, sign_in: SignIn,
                                                               seed: Seed) -> None:
    event = seed("网传某化工厂爆炸", heat=80.0)
    day = dt.date(2026, 12, 5)
    with session_scope(desk_server.site.sessions) as session:
        digest.add(session, desk_server.site.playbook, who="王值班", now=utcnow(), event_id=event, day=day)
    client = sign_in("wangzhiban")
    assert 'data-report="digest-2026-12-05"' in client.get("/reports").text
    shown = client.get("/reports/digest-2026-12-05")
    assert shown.status_code == 200 and "网传某化工厂爆炸" in shown.text
    assert client.get("/reports/digest-2026-12-05.pdf").status_code == 404  # no such file was written


@pytest.mark.parametrize("name", [
    "..%2Fstore.sqlite3", "%2E%2E%2Fstore.sqlite3", "..%5Cstore.sqlite3", "%2Fetc%2Fpasswd", "notes.txt",
    "weekly-2026-W47.exe",
    "weekly-2026-W99.pdf", "weekly-2026-W47.pdf%00.html", "linked-2026-W01.pdf", "weekly-2026-W01.pdf",
    "digest-2026-12-31", "store.sqlite3",
])
def test_only_listed_names_are_served(desk_server: RunningDesk, sign_in: SignIn, name: str) -> None:
    folder = desk_server.site.reports_dir
    _write_reports(folder)
    (folder / "weekly-2026-W99.pdf").write_bytes(PDF)  # no such ISO week: not a report's name
    os.symlink("/etc/passwd", folder / "weekly-2026-W01.pdf")  # a link out of the folder is never followed
    client = sign_in("wangzhiban")
    answer = client.get(f"/reports/{name}")
    assert answer.status_code == 404, answer.text
    assert "root:" not in answer.text and "SQLite" not in answer.text


def test_reports_need_a_session(desk_server: RunningDesk) -> None:
    _write_reports(desk_server.site.reports_dir)
    with httpx.Client(base_url=desk_server.base) as anonymous:
        answer = anonymous.get("/reports/weekly-2026-W47.pdf")
    assert answer.status_code == 303 and answer.headers["location"].startswith("/signin")
