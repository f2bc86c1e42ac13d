"""The monthly ranking (月度通报): points, on-time rates, policy-reprint timeliness, the overdue list.

Ranked units get a place; counted-but-not-ranked units (附件3, office
divisions) are listed after them without one. Written as HTML for leaders and
CSV for the office's spreadsheets.
"""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from monitor.compliance import check_policy, important_policies
from monitor.config import DedupeSection
from monitor.store.models import Department
from playbooks.schema import Playbook
from responders.compliance import Timeliness, timeliness
from responders.periods import Period
from responders.points import Standing, rank
from responders.points import standings as points_standings
from responders.reports import _num, _pct, render
from responders.reports.timeliness import Overdue, Rates, opened_in, overdue, rates

CSV_HEADER = ["名次", "单位", "是否排名", "积分", "奖励(元)", "签收按时", "签收应计", "签收及时率",
              "回应按时", "回应应计", "回应及时率", "政策按时转载", "政策迟转载", "政策未转载", "政策转载及时率"]


@dataclass
class MonthlyRow:
    standing: Standing
    yuan: float
    rates: Rates
    policy: Timeliness


@dataclass
class MonthlyReport:
    period: Period
    generated_at: dt.datetime
    rows: list[MonthlyRow]
    overdue: list[Overdue]


def _policy_timeliness(session: Session, playbook: Playbook, period: Period, now: dt.datetime,
                       dedupe: DedupeSection | None) -> dict[str, Timeliness]:
    if playbook.important_policy is None:
        return {}
    policies = important_policies(session, playbook, period.start, min(period.end, now))
    return timeliness({p.id: check_policy(session, p, playbook, now, dedupe) for p in policies})


def build(session: Session, playbook: Playbook, period: Period, now: dt.datetime,
          dedupe: DedupeSection | None = None) -> MonthlyReport:
    """Every unit with points, assignments or policy clocks in the month, ranked by points."""
    by_key = {s.department_key: s for s in points_standings(session, period)}
    table = rates(opened_in(session, period), now)
    policy = _policy_timeliness(session, playbook, period, now, dedupe)
    units = {d.key: d for d in session.scalars(select(Department))}
    for key in (set(table) | set(policy)) - set(by_key):
        unit = units.get(key)
        by_key[key] = Standing(key, (unit.full_name if unit else None) or key, bool(unit and unit.ranked))
    ordered = rank(list(by_key.values()))
    rows = [MonthlyRow(s, s.yuan(playbook), table.get(s.department_key, Rates()),
                       policy.get(s.department_key, Timeliness())) for s in ordered]
    return MonthlyReport(period, now, rows, overdue(session, now))


def csv_rows(report: MonthlyReport) -> list[list[str]]:
    out = []
    for row in report.rows:
        s, r, p = row.standing, row.rates, row.policy
        out.append([str(s.rank or ""), s.full_name, "是" if s.ranked else "否（只计数不排名）", _num(s.points),
                    _num(row.yuan), str(r.ack_on_time), str(r.ack_judged), _pct(r.ack_rate), str(r.resp_on_time),
                    str(r.resp_judged), _pct(r.resp_rate), str(p.on_time), str(p.late), str(p.missing), _pct(p.rate)])
    return out


def write(report: MonthlyReport, out_dir: Path) -> tuple[Path, Path]:
    """Write ``monthly-YYYY-MM.html`` and ``.csv`` (UTF-8 with BOM, so Excel reads the Chinese)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    html_path = out_dir / f"monthly-{report.period.label}.html"
    csv_path = out_dir / f"monthly-{report.period.label}.csv"
    html_path.write_text(render("monthly.html.j2", r=report), encoding="utf-8")
    with csv_path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(CSV_HEADER)
        writer.writerows(csv_rows(report))
    return html_path, csv_path
