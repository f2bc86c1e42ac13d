"""The weekly opinion report (舆情周报): what leaders read every Monday, in HTML and PDF.

Contents: the week's top events with their cumulative reach; the category
distribution against last week; suspected rumours with their clarification
coverage (a spread chart only for a 疑似谣言 that has an approved
clarification: anything else has no second curve to compare); new hot topics;
department timeliness; source health. :func:`build` gathers plain data from
the store, :func:`write` renders both files. A chart without data is not
drawn; :meth:`WeeklyReport.missing` gives the sentence said instead.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from classifiers.signals import kinds
from classifiers.verdicts import VERDICT_RUMOUR
from monitor.config import HealthSection
from playbooks.schema import Playbook, ReportPolicy
from responders.errors import ResponderError
from responders.periods import Period, previous_week
from responders.reports import charts, has_words, render, words
from responders.reports.rules import RuleNote, timeliness_rules
from responders.reports.timeliness import Rates, opened_in, rates
from responders.routing import rumour_verdict
from responders.spread import (
    Contribution,
    EventSpread,
    clarification_items,
    contributions,
    event_spread,
    item_reach,
    policy_of,
    rumour_events,
)
from store.models import Department, Event, Item, Source

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
    verdict: str | None = None
    clarified: bool = False  # an approved (审签) clarification exists

    @property
    def chartable(self) -> bool:
        """A spread chart means something only for a suspected rumour with a clarification to compare."""
        return self.verdict == VERDICT_RUMOUR and self.clarified

    @property
    def no_chart_reason(self) -> str:
        if self.verdict != VERDICT_RUMOUR:
            return words("weekly.not_a_rumour", verdict=self.verdict)
        return words("weekly.not_clarified")


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

    def missing(self, chart: str) -> str:
        """What the report says where *chart* was not drawn for want of data."""
        name = f"weekly.missing.{chart}"
        return words(name if has_words(name) else "weekly.missing.other")

    def rumour_note(self, row: RumourRow) -> str:
        """Why *row* has no spread chart ('' when it has one)."""
        if row.event_id in self.rumour_charts:
            return ""
        if row.chartable:
            return words("weekly.too_many_charts", most=MAX_RUMOUR_CHARTS)
        return row.no_chart_reason


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


def heat_curves(session: Session, events: list[EventRow], period: Period,
                playbook: Playbook) -> dict[str, list[tuple[dt.datetime, float]]]:
    """Each top event's items in the week as (published, reach): the chart adds them up over time."""
    policy = policy_of(playbook)
    curves: dict[str, list[tuple[dt.datetime, float]]] = {}
    for row in events[:MAX_HEAT_LINES]:
        points = [(item.published_at, item_reach(1.0, item.reposts, item.comments, item.likes, policy))
                  for item in session.scalars(select(Item).where(Item.event_id == row.event_id,
                                                                 Item.published_at >= period.start,
                                                                 Item.published_at < period.end))
                  if item.published_at is not None]
        if points:
            curves[f"#{row.event_id} {row.title}"] = points
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
    rumours = [_rumour_row(session, e, playbook, cut)
               for e in rumour_events(session, playbook, since=period.start) if e.first_seen_at < period.end]
    report = WeeklyReport(period, previous, now, top, category_rows(session, period, previous, playbook), rumours,
                          new, _timeliness(session, period, now), source_rows(session, health or HealthSection()),
                          rules=timeliness_rules(playbook))
    _draw(report, session, playbook, tz)
    return report


def _rumour_row(session: Session, event: Event, playbook: Playbook, cut: dt.datetime) -> RumourRow:
    verdict = rumour_verdict(event.rumour_probability, playbook, kinds(event.signals or []))
    approved, _ = clarification_items(session, event.id)
    spread = event_spread(session, event, playbook, cut)
    return RumourRow(event.id, event.title, spread, event.status, verdict, bool(approved))


def _points(series: list[Contribution]) -> list[tuple[dt.datetime, float]]:
    return [(c.at, c.reach) for c in series]


def _draw(report: WeeklyReport, session: Session, playbook: Playbook, tz: ZoneInfo) -> None:
    """Draw each chart that has data; the template and PDF say so in words where one is missing."""
    end = min(report.generated_at, report.period.end)
    heat = heat_curves(session, report.top_events, report.period, playbook)
    if heat:
        report.charts["heat"] = charts.cumulative(heat, words("weekly.heat_chart.title"),
                                                  words("weekly.heat_chart.ylabel"), tz, end)
    cats = report.categories
    if cats:
        report.charts["categories"] = charts.bars(
            [c.category for c in cats], [c.current for c in cats], [c.previous for c in cats],
            words("weekly.categories_chart.title"),
            (words("weekly.categories_chart.current"), words("weekly.categories_chart.previous")))
    for row in [r for r in report.rumours if r.chartable][:MAX_RUMOUR_CHARTS]:
        event = session.get(Event, row.event_id)
        assert event is not None  # the row was read from the store in this session
        rumour, clarification = contributions(session, event, playbook)
        report.rumour_charts[row.event_id] = charts.cumulative(
            {words("weekly.rumour_chart.rumour"): _points(rumour),
             words("weekly.rumour_chart.clarification"): _points(clarification)},
            words("weekly.rumour_chart.title", event_id=row.event_id), words("weekly.rumour_chart.ylabel"), tz, end)


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
