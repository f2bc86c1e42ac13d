"""Weekly report: real HTML and PDF files with Chinese text, escaped item text, posted once per week."""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path

from pypdf import PdfReader
from responders_support import SHANGHAI, event, item, local, source
from sqlalchemy import func, select

from responders import clarifications, periods
from responders.cases import Actor
from responders.reports import weekly
from responders.reports.schedule import next_weekly_run, post_weekly_report_if_due
from store.database import session_scope
from store.models import OutboxMessage, ScheduledReport
from yuqing.settings import Settings

WEEK = "2026-W47"  # Monday 2026-11-16 .. Sunday 2026-11-22
IN_WEEK = local(2026, 11, 18, 9, 0)


def _fill(session) -> None:
    src = source(session, "bbs.small.cn")
    ev = event(session, "网传某小学食堂<script>alert(1)</script>", IN_WEEK, heat=80.0, rumour=0.9, items=3)
    for h in range(3):
        item(session, src, "网传某小学食堂使用过期食材", IN_WEEK + dt.timedelta(hours=h), event=ev, category="教育",
             reposts=5)
    item(session, src, "上周的医院排队问题", IN_WEEK - dt.timedelta(days=7), category="医疗")


def test_weekly_files_render_chinese_and_escape(session, playbook, tmp_path: Path):
    _fill(session)
    report = weekly.build(session, playbook, periods.week(WEEK, SHANGHAI), local(2026, 11, 23, 9, 0))
    cats = {c.category: (c.current, c.previous) for c in report.categories}
    assert cats["教育"] == (3, 0) and cats["医疗"] == (0, 1)
    assert [r.event_id for r in report.rumours] == [report.top_events[0].event_id]
    html_path, pdf_path = weekly.write(report, tmp_path)
    assert html_path.name == f"weekly-{WEEK}.html" and pdf_path.name == f"weekly-{WEEK}.pdf"
    html = html_path.read_text(encoding="utf-8")
    assert "<script>alert(1)" not in html and "&lt;script&gt;" in html
    # heat and categories; the rumour has no clarification yet, so no spread chart, and the report says why
    assert "类别分布" in html and html.count("data:image/png;base64,") == 2
    assert "尚无经审签的澄清" in html
    # the clocks behind the on-time rates say where they come from; the office's own are labelled
    assert "回应时限 7 个工作日" in html and "依据 2015 §四" in html
    assert "签收时限" in html and "<b>本办规则" in html
    text = "".join(page.extract_text() for page in PdfReader(pdf_path).pages)
    for phrase in ("网上舆情周报", "类别分布", "谣言与澄清覆盖", "信息源运行状况", "网传某小学食堂"):
        assert phrase in text, phrase
    assert "&lt;script&gt;" in weekly.summary_text(report) and "本周条目 3 条" in weekly.summary_text(report)


def _clarified(session, ev, when: dt.datetime, playbook) -> None:
    """An approved clarification published at *when* and reprinted an hour later."""
    gov = source(session, "www.changchun.gov.cn", department="长春市政府")
    text = "长春市教育局：网传某小学食堂使用过期食材的消息不实，经现场核查，食材均在保质期内。"
    row = clarifications.submit(session, ev, "长春市政府", text, Actor("联络员"), when)
    clarifications.approve(session, row.id, Actor("值班员"), when)
    item(session, gov, text, when)
    item(session, source(session, "news.other.cn"), "转载：" + text, when + dt.timedelta(hours=1))
    clarifications.track(session, row, playbook, when + dt.timedelta(hours=2))


def test_spread_charts_only_for_rumours_with_a_clarification(session, playbook, tmp_path: Path):
    src = source(session, "bbs.small.cn")
    answered = event(session, "网传某小学食堂使用过期食材", IN_WEEK, heat=80.0, rumour=0.9)
    unanswered = event(session, "网传某中学明天停课", IN_WEEK, heat=70.0, rumour=0.9)
    complaint = event(session, "某医院挂号太难，希望增加网上预约名额", IN_WEEK, heat=60.0, rumour=0.1)
    for ev in (answered, unanswered, complaint):
        item(session, src, ev.title, IN_WEEK, event=ev, reposts=5)
    _clarified(session, answered, IN_WEEK + dt.timedelta(hours=3), playbook)
    _clarified(session, complaint, IN_WEEK + dt.timedelta(hours=3), playbook)  # an answer, not a debunk
    report = weekly.build(session, playbook, periods.week(WEEK, SHANGHAI), local(2026, 11, 23, 9, 0))
    rows = {r.event_id: r for r in report.rumours}
    assert set(rows) == {answered.id, unanswered.id, complaint.id}
    assert rows[complaint.id].verdict == "未见谣言特征" and rows[answered.id].verdict == "疑似谣言"
    assert set(report.rumour_charts) == {answered.id}
    assert "不是疑似谣言" in report.rumour_note(rows[complaint.id])
    assert "尚无经审签的澄清" in report.rumour_note(rows[unanswered.id])
    html = weekly.html(report)
    assert html.count('alt="谣言与澄清传播曲线"') == 1 and "不是疑似谣言" in html
    text = "".join(page.extract_text() for page in PdfReader(weekly.write(report, tmp_path)[1]).pages)
    assert "不是疑似谣言" in text and "尚无经审签的澄清" in text


def test_no_data_no_chart_and_the_report_says_so(session, playbook, tmp_path: Path):
    report = weekly.build(session, playbook, periods.week(WEEK, SHANGHAI), local(2026, 11, 23, 9, 0))
    assert report.charts == {} and report.rumour_charts == {}
    html_path, pdf_path = weekly.write(report, tmp_path)
    html = html_path.read_text(encoding="utf-8")
    assert "data:image/png" not in html and report.missing("categories") in html
    assert report.missing("categories") in "".join(page.extract_text() for page in PdfReader(pdf_path).pages)


def test_next_run_is_the_configured_weekday_and_time(playbook):
    policy = playbook.reports
    run = next_weekly_run(local(2026, 11, 23, 8, 0), policy, SHANGHAI).astimezone(SHANGHAI)
    assert (run.isoweekday(), run.time()) == (policy.weekly_weekday, policy.weekly_at)
    again = next_weekly_run(run, policy, SHANGHAI)
    assert again - run == dt.timedelta(days=7)


def test_posted_exactly_once_per_week(sessions, playbook, tmp_path: Path):
    settings = Settings(data_dir=tmp_path, reports_dir=tmp_path / "reports")
    with session_scope(sessions) as s:
        _fill(s)
    start = local(2026, 11, 20, 12, 0)
    assert post_weekly_report_if_due(sessions, start, settings, playbook, chat_id="-100") is None  # schedules only
    due = local(2026, 11, 23, 9, 30)
    results: list[OutboxMessage | None] = []
    threads = [threading.Thread(target=lambda: results.append(
        post_weekly_report_if_due(sessions, due, settings, playbook, chat_id="-100"))) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    posted = [r for r in results if r is not None]
    assert len(posted) == 1
    alert = posted[0]
    assert (alert.kind, alert.dedupe_key, alert.chat_id) == ("report", f"report:weekly:{WEEK}", "-100")
    assert Path(alert.attachment_path).is_file() and alert.attachment_path.endswith(f"weekly-{WEEK}.pdf")
    assert post_weekly_report_if_due(sessions, due + dt.timedelta(hours=1), settings, playbook, chat_id="-100") is None
    with session_scope(sessions) as s:
        assert s.scalar(select(func.count()).select_from(OutboxMessage)) == 1
        assert s.get(ScheduledReport, "weekly").next_run_at > due
