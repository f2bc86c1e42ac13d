"""PDF rendering with fpdf2 and the embedded CJK font (subset into the file, so any reader shows it).

fpdf2 is pure Python: no pango or cairo to install, only the Debian font
package. The PDF mirrors the HTML's sections and uses the same chart PNGs; its headings, table
headers and sentences are the wording file's (``templates/wording.yaml``, under ``pdf.``).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

from fpdf import FPDF, FontFace

from responders.reports import _num, _pct, columns, words
from responders.reports.fonts import find_cjk_font, quiet_font_logs
from responders.reports.monthly import Group, MonthlyReport
from responders.reports.weekly import WeeklyReport
from store.types import shown

FAMILY = "cjk"


class ReportPDF(FPDF):
    """An A4 page set-up with the CJK font and a few block helpers."""

    def __init__(self) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        quiet_font_logs()
        font = find_cjk_font()
        self.add_font(FAMILY, fname=str(font.path), collection_font_number=font.index)
        self.set_auto_page_break(auto=True, margin=15)
        self.add_page()
        self.set_font(FAMILY, size=10)

    def heading(self, text: str, size: int = 13) -> None:
        self.set_font(FAMILY, size=size)
        self.ln(2)
        self.multi_cell(0, size * 0.6, text, new_x="LMARGIN", new_y="NEXT")
        self.set_font(FAMILY, size=10)

    def para(self, text: str) -> None:
        self.multi_cell(0, 6, text, new_x="LMARGIN", new_y="NEXT")

    def grid(
        self, header: Sequence[str], rows: Sequence[Sequence[object]], widths: Sequence[int] | None = None
    ) -> None:
        if not rows:
            self.para(words("pdf.none"))
            return
        self.set_font(FAMILY, size=8)
        with self.table(
            col_widths=tuple(widths) if widths else None,
            text_align="LEFT",
            line_height=5,
            headings_style=FontFace(emphasis=None, fill_color=(235, 235, 235)),
        ) as table:
            table.row([str(h) for h in header])
            for values in rows:
                table.row([str(v) for v in values])
        self.set_font(FAMILY, size=10)

    def picture(self, png: bytes) -> None:
        self.image(io.BytesIO(png), w=self.epw)

    def chart_or(self, png: bytes | None, words: str) -> None:
        """The chart, or the sentence that stands in for it when there was nothing to draw."""
        if png is None:
            self.para(words)
        else:
            self.picture(png)


def weekly_pdf(r: WeeklyReport, path: Path) -> Path:
    """Write the weekly report to *path*."""
    pdf = ReportPDF()
    pdf.heading(words("pdf.weekly.title", r=r), 16)
    pdf.para(words("pdf.weekly.period", r=r))
    pdf.heading(words("pdf.weekly.top_events"))
    pdf.grid(
        columns("pdf.weekly.top_events_columns"),
        [[e.event_id, e.title, e.category, _num(e.heat), e.items, e.status] for e in r.top_events],
        (10, 80, 15, 15, 12, 18),
    )
    if r.top_events:
        pdf.chart_or(r.charts.get("heat"), r.missing("heat"))
    pdf.heading(words("pdf.weekly.categories"))
    pdf.grid(
        columns("pdf.weekly.categories_columns"),
        [[c.category, c.current, c.previous, f"{c.change:+d}"] for c in r.categories],
    )
    pdf.chart_or(r.charts.get("categories"), r.missing("categories"))
    pdf.heading(words("pdf.weekly.rumours"))
    if not r.rumours:
        pdf.para(words("pdf.weekly.no_rumours"))
    for row in r.rumours:
        pdf.para(words("pdf.weekly.rumour", row=row))
        pdf.chart_or(r.rumour_charts.get(row.event_id), r.rumour_note(row))
    pdf.heading(words("pdf.weekly.new_topics"))
    pdf.grid(
        columns("pdf.weekly.new_topics_columns"),
        [[e.event_id, e.title, e.category, e.items, _num(e.heat)] for e in r.new_topics],
        (12, 100, 20, 18, 20),
    )
    pdf.heading(words("pdf.weekly.timeliness"))
    pdf.grid(
        columns("pdf.weekly.timeliness_columns"),
        [
            [
                name,
                f"{t.ack_on_time}/{t.ack_judged}",
                _pct(t.ack_rate),
                f"{t.resp_on_time}/{t.resp_judged}",
                _pct(t.resp_rate),
            ]
            for name, t in r.timeliness
        ],
    )
    pdf.heading(words("pdf.weekly.sources"))
    pdf.grid(
        columns("pdf.weekly.sources_columns"),
        [
            [
                s.name,
                s.kind,
                words("pdf.weekly.source_state", healthy=s.healthy),
                shown(s.last_success_at),
                s.failures,
                (s.last_error or "")[:60],
            ]
            for s in r.sources
        ],
        (35, 15, 12, 30, 15, 63),
    )
    pdf.output(str(path))
    return path


def _ranked_group(pdf: ReportPDF, group: Group, png: bytes | None) -> None:
    pdf.heading(words("pdf.monthly.group", group=group), 11)
    if png is not None:
        pdf.picture(png)
    pdf.grid(
        columns("pdf.monthly.group_columns"),
        [
            [
                row.standing.rank or "",
                row.standing.full_name,
                _num(row.standing.points),
                row.submitted,
                row.adopted,
                row.reprints,
                _pct(row.rates.ack_rate),
                _pct(row.rates.resp_rate),
                row.overdue,
            ]
            for row in group.rows
        ],
        (12, 52, 16, 14, 14, 14, 20, 20, 14),
    )


def monthly_pdf(r: MonthlyReport, path: Path) -> Path:
    """Write the monthly 通报 to *path*: the same sections and charts as the HTML."""
    pdf = ReportPDF()
    pdf.heading(words("pdf.monthly.title", r=r), 16)
    pdf.para(words("pdf.monthly.period", r=r))
    pdf.heading(words("pdf.monthly.ranking"))
    for group in (g for g in r.groups if g.ranked):
        _ranked_group(pdf, group, r.charts.get(group.kind))
    pdf.heading(words("pdf.monthly.counted"))
    pdf.para(words("pdf.monthly.counted_note"))
    for group in (g for g in r.groups if not g.ranked):
        pdf.heading(group.label, 11)
        pdf.grid(
            columns("pdf.monthly.counted_columns"),
            [[row.standing.full_name, row.submitted, row.adopted, _num(row.standing.points)] for row in group.rows],
            (90, 30, 30, 30),
        )
    pdf.heading(words("pdf.monthly.overdue"))
    pdf.para(words("pdf.monthly.overdue_note"))
    pdf.grid(
        columns("pdf.monthly.overdue_columns"),
        [
            [f"#{o.case_id}", f"{o.event_id} {o.event_title}", o.department_key, o.what, shown(o.due), o.state]
            for o in r.overdue
        ],
        (14, 62, 30, 26, 30, 18),
    )
    if r.local_rows:
        pdf.heading(words("pdf.monthly.local"))
        pdf.grid(columns("pdf.monthly.local_columns"),
                 [[unit, label, _num(value)] for unit, label, value in r.local_rows])
    if r.payout is not None:
        pdf.heading(words("pdf.monthly.payout", r=r))
        rows = [[s.full_name, _num(s.points), _num(s.points * r.yuan_per_point)] for s in r.payout.rows]
        total = [words("pdf.monthly.payout_total"), _num(r.payout.total), _num(r.payout.total * r.yuan_per_point)]
        pdf.grid(columns("pdf.monthly.payout_columns"), [*rows, total], (90, 40, 50))
    if r.annual is not None:
        pdf.heading(words("pdf.monthly.annual", r=r))
        pdf.grid(
            columns("pdf.monthly.annual_columns"),
            [[s.rank or words("pdf.monthly.not_ranked"), s.full_name, _num(s.points)] for s in r.annual.rows],
            (25, 105, 50),
        )
    if r.rules:
        pdf.heading(words("pdf.monthly.rules"))
        for note in r.rules:
            pdf.para(words("pdf.monthly.rule", n=note))
    pdf.output(str(path))
    return path
