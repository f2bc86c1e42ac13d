"""The monthly 通报 (2006 §四): every unit of 附件2 in its group with zeros, the counted-but-not-ranked units
with their submissions, overdue cases reported without deductions, the quarter's payout, the year's
roll-up, HTML, PDF and CSV, and posting exactly once per month across restarts."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

from pypdf import PdfReader
from responders_support import SHANGHAI, a_case, event, local
from sqlalchemy import func, select

from playbooks.schema import UnitKind
from responders import periods, submissions
from responders.cycle import run_cycle
from responders.reports import monthly
from responders.reports.schedule import next_monthly_run, post_monthly_report_if_due
from responders.submissions import Bonus
from store.database import session_scope
from store.models import OutboxMessage, PointsEntry, ScheduledReport
from yuqing.settings import Settings

NOW = local(2026, 11, 20, 10, 0)
RANKED = (UnitKind.city, UnitKind.county, UnitKind.provincial)


def _adopt(session, playbook, unit: str, bonus: Bonus | None = None, when: dt.datetime = NOW) -> None:
    row = submissions.submit(session, unit=unit, title=f"{unit}工作动态", text="正文", by="联络员", now=when)
    submissions.adopt(session, playbook, row.id, who="编辑", now=when, bonus=bonus)


def test_every_ranked_unit_appears_in_its_group_with_zeros(session, playbook, tmp_path):
    _adopt(session, playbook, "吉林市政府", Bonus.interview)
    _adopt(session, playbook, "长春市政府")
    _adopt(session, playbook, "省新闻办", Bonus.interview)  # 附件3: counted, not ranked
    submissions.submit(session, unit="省地震局", title="地震局动态", text="正文", by="联络员", now=NOW)
    ev = event(session, "某校乱收费<i>", NOW)
    ok = a_case(session, playbook, ev, "长春市政府", NOW)
    ok.acknowledged_at, ok.acknowledged_on_time = NOW + dt.timedelta(minutes=10), True
    a_case(session, playbook, ev, "省教育厅", NOW, role="co")  # never acknowledged: overdue
    report = monthly.build(session, playbook, periods.month("2026-11", SHANGHAI), local(2026, 11, 30, 12, 0))
    groups = {g.kind: g for g in report.groups}
    ranked = {k.value: [key for key, d in playbook.departments.items() if d.kind is k] for k in RANKED}
    assert [len(ranked[k]) for k in ("city", "county", "provincial")] == [10, 42, 40]
    for kind, keys in ranked.items():
        assert groups[kind].ranked and {r.standing.department_key for r in groups[kind].rows} == set(keys)
    cities = groups["city"].rows
    assert [r.standing.department_key for r in cities[:2]] == ["吉林市政府", "长春市政府"]
    assert cities[0].standing.points == 35 and cities[0].adopted == 1 and cities[0].standing.rank == 1
    assert cities[2].standing.points == 0 and cities[2].standing.rank == 3  # zeros share the next place
    direct = {r.standing.department_key: r for r in groups["direct"].rows}
    assert not groups["direct"].ranked and direct["省新闻办"].standing.rank is None
    assert direct["省地震局"].submitted == 1 and direct["省地震局"].adopted == 0
    edu = next(r for r in groups["provincial"].rows if r.standing.department_key == "省教育厅")
    assert edu.rates.ack_rate == 0.0 and edu.overdue == 1 and edu.standing.points == 0
    assert report.payout is None and report.annual is None
    html_path, pdf_path, csv_path = monthly.write(report, tmp_path)
    html = html_path.read_text(encoding="utf-8")
    text = "".join(page.extract_text() for page in PdfReader(pdf_path).pages)
    for document in (html, text):
        for keys in ranked.values():
            for key in keys:
                assert key in document, key
        assert "市（州）政府" in document and "县（市）政府" in document and "省政府工作部门" in document
    assert "&lt;i&gt;" in html and html.count("data:image/png;base64,") == 3
    with csv_path.open(encoding="utf-8-sig") as handle:
        rows = list(csv.reader(handle))
    assert rows[0][:3] == ["分组", "名次", "单位"] and rows[1][:5] == ["市（州）政府", "1", "吉林市政府", "35", "35"]


def test_overdue_cases_are_reported_never_deducted(sessions, playbook, members, templates):
    with session_scope(sessions) as s:
        ev = event(s, "某校食堂问题", NOW)
        a_case(s, playbook, ev, "省教育厅", NOW)
        a_case(s, playbook, ev, "长春市政府", NOW, role="co")
    later = NOW + dt.timedelta(days=20)
    run_cycle(sessions, playbook, members, templates, later, later - dt.timedelta(days=30))
    with session_scope(sessions) as s:
        assert s.scalar(select(func.count()).select_from(PointsEntry)) == 0
        report = monthly.build(s, playbook, periods.month("2026-11", SHANGHAI), later)
        assert {o.department_key for o in report.overdue} == {"省教育厅", "长春市政府"}


def test_quarter_end_carries_the_payout_and_december_the_annual_roll_up(session, playbook):
    _adopt(session, playbook, "农安县", Bonus.video, local(2026, 10, 9, 10, 0))
    _adopt(session, playbook, "农安县", None, local(2026, 12, 9, 10, 0))
    november = monthly.build(session, playbook, periods.month("2026-11", SHANGHAI), local(2026, 12, 1, 9, 0))
    assert november.payout is None and november.annual is None
    december = monthly.build(session, playbook, periods.month("2026-12", SHANGHAI), local(2027, 1, 1, 9, 0))
    assert december.payout is not None and december.payout.period.label == "2026-Q4"
    assert [(s.department_key, s.points) for s in december.payout.rows] == [("农安县", 20.0)]
    assert december.annual is not None and december.annual.period.label == "2026"
    assert december.annual.rows[0].rank == 1
    html = monthly.html(december)
    assert "季度奖励兑现" in html and "年度汇总" in html


def test_next_monthly_slot_is_the_playbook_day_and_time(playbook):
    policy = playbook.reports
    run = next_monthly_run(local(2026, 11, 20, 8, 0), policy, SHANGHAI).astimezone(SHANGHAI)
    assert (run.month, run.day, run.time()) == (12, policy.monthly_day, policy.monthly_at)
    assert next_monthly_run(run, policy, SHANGHAI).astimezone(SHANGHAI).month == 1


def test_posted_exactly_once_per_month_across_restarts(sessions, playbook, tmp_path: Path):
    settings = Settings(data_dir=tmp_path, reports_dir=tmp_path / "reports")
    with session_scope(sessions) as s:
        _adopt(s, playbook, "农安县", Bonus.video)
    start = local(2026, 11, 20, 12, 0)
    assert post_monthly_report_if_due(sessions, start, settings, playbook, chat_id="-100") is None  # schedules only
    due = local(2026, 12, 1, 10, 0)
    alert = post_monthly_report_if_due(sessions, due, settings, playbook, chat_id="-100")
    assert alert is not None and (alert.kind, alert.dedupe_key) == ("report", "report:monthly:2026-11")
    assert Path(alert.attachment_path).is_file() and alert.attachment_path.endswith("monthly-2026-11.pdf")
    assert "县（市）政府：第一名 农安县（15 分）" in alert.text
    # a restart later the same day (a new process reads the same sessions) posts nothing more
    assert post_monthly_report_if_due(sessions, due + dt.timedelta(hours=3), settings, playbook, chat_id="-100") is None
    with session_scope(sessions) as s:
        assert s.scalar(select(func.count()).select_from(OutboxMessage)) == 1
        assert s.get(ScheduledReport, "monthly").next_run_at.astimezone(SHANGHAI).month == 1
    january = local(2027, 1, 1, 10, 0)
    assert post_monthly_report_if_due(sessions, january, settings, playbook, chat_id="-100") is not None
