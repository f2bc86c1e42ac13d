"""The monthly 通报 (2006 §四 按月进行统计排名，每月通报一次): every unit, in the document's groups.

Three ranked groups as 附件2 keeps them — 市（州）政府, 县（市）政府, 省政府工作部门 — each listing
every unit, zeros included, with points, submissions, adoptions, reprints, on-time rates and
overdue cases; then the counted-but-not-ranked units (附件3 信息直报单位, the office's divisions)
with their submission counts (列入信息报送数量统计). At a quarter's end the payout statement
(每分奖励人民币1元，每季度兑现一次); in the 通报 for December, the year's roll-up for
年度全省政府系统网站评议考核. Written as HTML and PDF with charts, and CSV for spreadsheets.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from monitor.config import DedupeSection
from monitor.policy_carriage import check_policy, important_policies
from playbooks.schema import Playbook, UnitKind
from responders import periods
from responders.periods import Period
from responders.points import GROUP_LABELS, GROUP_ORDER, Reason, Standing, is_local, label_of, standings
from responders.policy_reminders import Timeliness, timeliness
from responders.reports import _num, _pct, charts, columns, has_words, render, words
from responders.reports.rules import RuleNote, timeliness_rules
from responders.reports.timeliness import Overdue, Rates, opened_in, overdue, overdue_counts, rates
from store.models import PointsEntry, Submission

REPRINT_REASONS = (Reason.reprint_major.value, Reason.reprint_other.value)


@dataclass
class MonthlyRow:
    standing: Standing
    yuan: float
    submitted: int
    adopted: int
    reprints: int
    rates: Rates
    overdue: int
    policy: Timeliness


@dataclass
class Group:
    kind: str
    label: str
    ranked: bool
    rows: list[MonthlyRow]


@dataclass
class Roll:
    """Points over a longer period (the quarter's payout, the year's roll-up), one row per unit with any."""

    period: Period
    rows: list[Standing]

    @property
    def total(self) -> float:
        return sum(s.points for s in self.rows)


@dataclass
class MonthlyReport:
    period: Period
    generated_at: dt.datetime
    groups: list[Group]
    overdue: list[Overdue]
    rules: list[RuleNote] = field(default_factory=list)
    local_rows: list[tuple[str, str, float]] = field(default_factory=list)  # unit, rule label, points
    payout: Roll | None = None
    annual: Roll | None = None
    yuan_per_point: float = 1.0
    payout_every: str = "quarterly"  # the playbook's points.payout
    charts: dict[str, bytes] = field(default_factory=dict)

    @property
    def rows(self) -> list[MonthlyRow]:
        return [row for group in self.groups for row in group.rows]

    @property
    def every(self) -> str:
        """How often the reward is paid out, in the wording file's words (每季度)."""
        name = f"monthly.payout_every.{self.payout_every}"
        return words(name) if has_words(name) else self.payout_every


def _policy_timeliness(session: Session, playbook: Playbook, period: Period, now: dt.datetime,
                       dedupe: DedupeSection | None) -> dict[str, Timeliness]:
    if playbook.important_policy is None:
        return {}
    policies = important_policies(session, playbook, period.start, min(period.end, now))
    return timeliness({p.id: check_policy(session, p, playbook, now, dedupe) for p in policies})


def _count_by_unit(session: Session, column: InstrumentedAttribute[Any], since: dt.datetime,
                   until: dt.datetime) -> Counter[str]:
    rows = session.execute(select(Submission.department_key, func.count())
                           .where(column >= since, column < until)
                           .group_by(Submission.department_key)).all()
    return Counter({key: int(n) for key, n in rows})


def _reprints_by_unit(session: Session, period: Period) -> Counter[str]:
    rows = session.execute(select(PointsEntry.department_key, func.count())
                           .where(PointsEntry.reason.in_(REPRINT_REASONS), PointsEntry.at >= period.start,
                                  PointsEntry.at < period.end)
                           .group_by(PointsEntry.department_key)).all()
    return Counter({key: int(n) for key, n in rows})


def _overdue_by_unit(items: list[Overdue]) -> Counter[str]:
    return Counter(o.department_key for o in {o.case_id: o for o in items}.values())


def _local_rows(playbook: Playbook, stands: list[Standing]) -> list[tuple[str, str, float]]:
    return [(s.full_name, label_of(reason, playbook), value) for s in stands
            for reason, value in sorted(s.by_reason.items()) if is_local(reason)]


def _roll(session: Session, period: Period) -> Roll:
    return Roll(period, [s for s in standings(session, period) if s.points])


def _quarter_end(period: Period, tz: ZoneInfo) -> Period | None:
    """The quarter that *period* (a month) closes, if it closes one."""
    quarter = periods.quarter_of(period.start, tz)
    return quarter if quarter.end == period.end else None


def _year(period: Period, tz: ZoneInfo) -> Period | None:
    """The year that a December report closes (the roll-up goes out in January)."""
    year = periods.year_of(period.start, tz)
    return year if year.end == period.end else None


def build(session: Session, playbook: Playbook, period: Period, now: dt.datetime,
          dedupe: DedupeSection | None = None, *, draw: bool = True, policy: bool = True,
          overdue_list: bool = True) -> MonthlyReport:
    """Every registered unit in its group, ranked by the month's points; zeros included.

    *draw* False leaves out the PNG ranking charts, *policy* False the policy-reprint timeliness (it
    scans the month's items) and *overdue_list* False the list of overdue cases (the units' overdue
    counts are then counted by the database): the web desk shows the other tables on every request.
    """
    tz = ZoneInfo(playbook.timezone)
    stands = standings(session, period)
    table = rates(opened_in(session, period), now)
    by_policy = _policy_timeliness(session, playbook, period, now, dedupe) if policy else {}
    submitted = _count_by_unit(session, Submission.submitted_at, period.start, period.end)
    adopted = _count_by_unit(session, Submission.adopted_at, period.start, period.end)
    reprints = _reprints_by_unit(session, period)
    late = overdue(session, now) if overdue_list else []
    late_by_unit = (_overdue_by_unit([o for o in late if o.opened_at < period.end]) if overdue_list
                    else overdue_counts(session, now, period.end))
    groups = []
    for kind in GROUP_ORDER:
        rows = [MonthlyRow(s, s.yuan(playbook), submitted[s.department_key], adopted[s.department_key],
                           reprints[s.department_key], table.get(s.department_key, Rates()),
                           late_by_unit[s.department_key], by_policy.get(s.department_key, Timeliness()))
                for s in stands if s.group == kind.value]
        if rows or kind in (UnitKind.city, UnitKind.county, UnitKind.provincial):
            groups.append(Group(kind.value, GROUP_LABELS[kind], kind not in (UnitKind.direct,
                                                                             UnitKind.office_division), rows))
    quarter, year = _quarter_end(period, tz), _year(period, tz)
    report = MonthlyReport(period, now, groups, late, rules=timeliness_rules(playbook),
                           local_rows=_local_rows(playbook, stands),
                           payout=_roll(session, quarter) if quarter else None,
                           annual=_roll(session, year) if year else None,
                           yuan_per_point=playbook.points.yuan_per_point, payout_every=playbook.points.payout)
    if draw:
        _draw(report)
    return report


def _draw(report: MonthlyReport) -> None:
    """One ranking chart per ranked group (every unit, zeros included)."""
    for group in report.groups:
        if group.ranked and group.rows:
            report.charts[group.kind] = charts.ranking(
                [r.standing.full_name for r in group.rows], [r.standing.points for r in group.rows],
                words("monthly.ranking_chart.title", group=group.label, period=report.period.label),
                words("monthly.ranking_chart.xlabel"))


def csv_rows(report: MonthlyReport) -> list[list[str]]:
    out = []
    for group in report.groups:
        for row in group.rows:
            s, r, p = row.standing, row.rates, row.policy
            out.append([group.label, str(s.rank or ""), s.full_name, _num(s.points), _num(row.yuan),
                        str(row.submitted), str(row.adopted), str(row.reprints), str(r.ack_on_time),
                        str(r.ack_judged), _pct(r.ack_rate), str(r.resp_on_time), str(r.resp_judged),
                        _pct(r.resp_rate), str(row.overdue), str(p.on_time), str(p.late), str(p.missing),
                        _pct(p.rate)])
    return out


def html(report: MonthlyReport) -> str:
    uris = {kind: charts.data_uri(png) for kind, png in report.charts.items()}
    return render("monthly.html.j2", r=report, charts=uris)


def write(report: MonthlyReport, out_dir: Path) -> tuple[Path, Path, Path]:
    """Write ``monthly-YYYY-MM.html``, ``.pdf`` and ``.csv`` (UTF-8 with BOM, so Excel reads the Chinese)."""
    from responders.reports.pdf import monthly_pdf

    out_dir.mkdir(parents=True, exist_ok=True)
    stem = out_dir / f"monthly-{report.period.label}"
    html_path, pdf_path, csv_path = stem.with_suffix(".html"), stem.with_suffix(".pdf"), stem.with_suffix(".csv")
    html_path.write_text(html(report), encoding="utf-8")
    monthly_pdf(report, pdf_path)
    with csv_path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns("monthly.csv_columns"))
        writer.writerows(csv_rows(report))
    return html_path, pdf_path, csv_path


def summary_text(report: MonthlyReport) -> str:
    """The chat message that goes with the PDF: the top unit of each ranked group (escaped by the template)."""
    return render("monthly_chat.txt.j2", r=report).strip()
