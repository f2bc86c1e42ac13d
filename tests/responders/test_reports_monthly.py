"""Monthly ranking (通报): points order, on-time rates, unranked units last, overdue list, HTML and CSV."""

from __future__ import annotations

import csv
import datetime as dt

from responders import periods, points
from responders.points import Reason
from responders.reports import monthly

from loop_support import CST, assignment, at, event, session, source, store  # noqa: F401

NOW = at(2026, 11, 20, 10, 0)


def test_monthly_ranking_files(session, playbook, tmp_path):
    points.award_manual(session, playbook, "吉林市政府", Reason.special_or_interview, now=NOW, who="d", ref="a")
    points.award_manual(session, playbook, "长春市政府", Reason.adopted, now=NOW, who="d", ref="b")
    points.award_manual(session, playbook, "省新闻办", Reason.special_or_interview, now=NOW, who="d", ref="c")
    ev = event(session, "某校乱收费<i>", NOW)
    ok = assignment(session, ev, "长春市政府", NOW)
    ok.acknowledged_at, ok.acknowledged_on_time = NOW + dt.timedelta(minutes=10), True
    assignment(session, ev, "省教育厅", NOW, role="co")  # never acknowledged: overdue
    report = monthly.build(session, playbook, periods.month("2026-11", CST), at(2026, 11, 30, 12, 0))
    keys = [r.standing.department_key for r in report.rows]
    assert keys[:2] == ["吉林市政府", "长春市政府"] and report.rows[0].standing.rank == 1
    unranked = next(r for r in report.rows if r.standing.department_key == "省新闻办")
    assert unranked.standing.rank is None
    cc = next(r for r in report.rows if r.standing.department_key == "长春市政府")
    assert (cc.rates.ack_on_time, cc.rates.ack_judged) == (1, 1)
    edu = next(r for r in report.rows if r.standing.department_key == "省教育厅")
    assert edu.rates.ack_rate == 0.0
    assert {(o.department_key, o.what) for o in report.overdue} >= {("省教育厅", "签收"), ("省教育厅", "首次权威信息发布")}
    html_path, csv_path = monthly.write(report, tmp_path)
    html = html_path.read_text(encoding="utf-8")
    assert "月度通报" in html and "&lt;i&gt;" in html
    with csv_path.open(encoding="utf-8-sig") as handle:
        rows = list(csv.reader(handle))
    assert rows[0][:2] == ["名次", "单位"] and rows[1][:4] == ["1", "吉林市政府", "是", "30"]
