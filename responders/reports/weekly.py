"""The weekly opinion report (舆情周报): what leaders read every Monday, in HTML and PDF.

Contents: the week's top events with their heat curves; the category
distribution against last week; rumours with their clarification-coverage
curves; new hot topics; department timeliness; source health. :func:`build`
gathers plain data from the store, :func:`write` renders both files.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from monitor.config import HealthSection
from monitor.store.models import Department, Event, Item, Source
from playbooks.schema import Playbook, ReportPolicy
from responders.errors import ResponderError
from responders.periods import Period, previous_week
from responders.reports import charts, render
from responders.reports.rules import RuleNote, timeliness_rules
from responders.reports.timeliness import Rates, opened_in, rates
from responders.spread import EventSpread, event_spread, item_reach, policy_of, rumour_events

MAX_RUMOUR_CHARTS = 4
MAX_HEAT_LINES = 5


class ReportError(ResponderError):
    """A report cannot be produced; the message says what is missing."""


@dataclass(frozen=True)
class EventRow:
    event_id: int
    title: str
    category: str
    heat: float
    items: int
    status: str


@dataclass(frozen=True)
class CategoryRow:
    category: str
    current: int
    previous: int

    @property
    def change(self) -> int:
        return self.current - self.previous


@dataclass(frozen=True)
class RumourRow:
    event_id: int
    title: str
    spread: EventSpread
    status: str


@dataclass(frozen=True)
class SourceRow:
    name: str
    kind: str
    healthy: bool
    last_success_at: dt.datetime | None
    failures: int
    last_error: str | None
    items_total: int


@dataclass
class WeeklyReport:
    period: Period
    previous: Period
    generated_at: dt.datetime
    top_events: list[EventRow]
    categories: list[CategoryRow]
    rumours: list[RumourRow]
    new_topics: list[EventRow]
    timeliness: list[tuple[str, Rates]]
    sources: list[SourceRow]
    charts: dict[str, bytes] = field(default_factory=dict)
    rumour_charts: dict[int, bytes] = field(default_factory=dict)
    rules: list[RuleNote] = field(default_factory=list)

    @property
    def total_items(self) -> int:
        return sum(c.current for c in self.categories)


def report_policy(playbook: Playbook) -> ReportPolicy:
    if playbook.reports is None:
        raise ReportError("playbook has no reports section (weekly_weekday, weekly_at, top_events, ...)")
    return playbook.reports


# --------------------------------------------------------------------------- gathering


def _row(e: Event) -> EventRow:
    return EventRow(e.id, e.title, e.category or "—", e.heat, e.item_count, e.status)


def _events_seen(session: Session, period: Period) -> list[Event]:
    return list(session.scalars(select(Event).where(Event.last_seen_at >= period.start,
                                                    Event.first_seen_at < period.end)
                                .order_by(Event.heat.desc(), Event.id)))


def _items(session: Session, period: Period) -> list[tuple[Item, Source]]:
    return list(session.execute(select(Item, Source).join(Source, Item.source_id == Source.id)
                                .where(Item.published_at >= period.start, Item.published_at < period.end)).all())


def category_rows(session: Session, period: Period, previous: Period, playbook: Playbook) -> list[CategoryRow]:
    now = Counter(i.category or playbook.fallback_category for i, _ in _items(session, period))
    before = Counter(i.category or playbook.fallback_category for i, _ in _items(session, previous))
    order = [c for c in playbook.categories if c in now or c in before]
    order += sorted((set(now) | set(before)) - set(order))
    return [CategoryRow(c, now.get(c, 0), before.get(c, 0)) for c in order]


def heat_curves(session: Session, events: list[EventRow], period: Period, playbook: Playbook,
                tz: ZoneInfo) -> dict[str, list[tuple[dt.datetime, float]]]:
    """Daily reach of each top event's items over the week (the shape of its heat)."""
    policy = policy_of(playbook)
    days = [period.start + dt.timedelta(days=d) for d in range(7)]
    curves: dict[str, list[tuple[dt.datetime, float]]] = {}
    for row in events[:MAX_HEAT_LINES]:
        totals = [0.0] * 7
        for item in session.scalars(select(Item).where(Item.event_id == row.event_id,
                                                       Item.published_at >= period.start,
                                                       Item.published_at < period.end)):
            index = min(max((item.published_at - period.start).days, 0), 6) if item.published_at else 0
            totals[index] += item_reach(1.0, item.reposts, item.comments, item.likes, policy)
        curves[f"#{row.event_id} {row.title}"] = [(d.astimezone(tz), v) for d, v in zip(days, totals, strict=True)]
    return curves


def source_rows(session: Session, health: HealthSection) -> list[SourceRow]:
    return [SourceRow(s.name, s.kind, s.consecutive_failures < health.failing_after, s.last_success_at,
                      s.consecutive_failures, s.last_error, s.items_total)
            for s in session.scalars(select(Source).order_by(Source.consecutive_failures.desc(), Source.name))]


def _timeliness(session: Session, period: Period, now: dt.datetime) -> list[tuple[str, Rates]]:
    names = {d.key: d.full_name or d.key for d in session.scalars(select(Department))}
    table = rates(opened_in(session, period), now)
    return sorted(((names.get(k, k), r) for k, r in table.items()),
                  key=lambda pair: (-(pair[1].resp_rate or 0), pair[0]))


def build(session: Session, playbook: Playbook, period: Period, now: dt.datetime,
          health: HealthSection | None = None) -> WeeklyReport:
    """Gather the week's numbers and draw its charts."""
    policy = report_policy(playbook)
    tz = ZoneInfo(playbook.timezone)
    previous = previous_week(period, tz)
    cut = min(now, period.end)
    seen = _events_seen(session, period)
    top = [_row(e) for e in seen[: policy.top_events]]
    new = [_row(e) for e in seen if period.contains(e.first_seen_at) and e.item_count >= policy.new_topic_min_items]
    rumours = [RumourRow(e.id, e.title, event_spread(session, e, playbook, cut), e.status)
               for e in rumour_events(session, playbook, since=period.start) if e.first_seen_at < period.end]
    report = WeeklyReport(period, previous, now, top, category_rows(session, period, previous, playbook), rumours,
                          new, _timeliness(session, period, now), source_rows(session, health or HealthSection()),
                          rules=timeliness_rules(playbook))
    _draw(report, session, playbook, tz)
    return report


def _draw(report: WeeklyReport, session: Session, playbook: Playbook, tz: ZoneInfo) -> None:
    report.charts["heat"] = charts.lines(heat_curves(session, report.top_events, report.period, playbook, tz),
                                         "重点事件热度曲线（每日传播量）", "传播量")
    cats = report.categories
    report.charts["categories"] = charts.bars([c.category for c in cats], [c.current for c in cats],
                                              [c.previous for c in cats], "类别分布：本周与上周", ("本周", "上周"))
    for row in report.rumours[:MAX_RUMOUR_CHARTS]:
        grid = row.spread.buckets
        report.rumour_charts[row.event_id] = charts.lines(
            {"谣言传播（累计）": [(b.start.astimezone(tz), b.rumour_total) for b in grid],
             "澄清传播（累计）": [(b.start.astimezone(tz), b.clarification_total) for b in grid]},
            f"事件 {row.event_id} 谣言与澄清传播", "传播量")


# --------------------------------------------------------------------------- writing


def html(report: WeeklyReport) -> str:
    uris = {name: charts.data_uri(png) for name, png in report.charts.items()}
    rumour_uris = {eid: charts.data_uri(png) for eid, png in report.rumour_charts.items()}
    return render("weekly.html.j2", r=report, charts=uris, rumour_charts=rumour_uris)


def write(report: WeeklyReport, out_dir: Path) -> tuple[Path, Path]:
    """Write ``weekly-<label>.html`` and ``.pdf`` into *out_dir*; returns both paths."""
    from responders.reports.pdf import weekly_pdf

    out_dir.mkdir(parents=True, exist_ok=True)
    html_path = out_dir / f"weekly-{report.period.label}.html"
    pdf_path = out_dir / f"weekly-{report.period.label}.pdf"
    html_path.write_text(html(report), encoding="utf-8")
    weekly_pdf(report, pdf_path)
    return html_path, pdf_path


def summary_text(report: WeeklyReport) -> str:
    """The chat message posted with the PDF (escaped by the template)."""
    return render("weekly_chat.txt.j2", r=report).strip()
