"""PDF rendering with fpdf2 and the embedded CJK font (subset into the file, so any reader shows it).

fpdf2 is pure Python: no pango or cairo to install, only the Debian font
package. The PDF mirrors the HTML's sections and uses the same chart PNGs.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

from fpdf import FPDF, FontFace

from monitor.store.types import shown
from responders.reports import _num, _pct
from responders.reports.fonts import find_cjk_font, quiet_font_logs
from responders.reports.monthly import Group, MonthlyReport
from responders.reports.weekly import WeeklyReport

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
            self.para("（无）")
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
    pdf.heading(f"网上舆情周报 {r.period.label}", 16)
    pdf.para(
        f"统计时段：{shown(r.period.start)} 至 {shown(r.period.end)}；本周条目 {r.total_items} 条；"
        f"生成于 {shown(r.generated_at)}"
    )
    pdf.heading("一、重点事件")
    pdf.grid(
        ["事件", "标题", "类别", "热度", "条目", "状态"],
        [[e.event_id, e.title, e.category, _num(e.heat), e.items, e.status] for e in r.top_events],
        (10, 80, 15, 15, 12, 18),
    )
    if r.top_events:
        pdf.chart_or(r.charts.get("heat"), r.missing("heat"))
    pdf.heading("二、类别分布及与上周比较")
    pdf.grid(
        ["类别", "本周", "上周", "变化"], [[c.category, c.current, c.previous, f"{c.change:+d}"] for c in r.categories]
    )
    pdf.chart_or(r.charts.get("categories"), r.missing("categories"))
    pdf.heading("三、谣言与澄清覆盖")
    if not r.rumours:
        pdf.para("本周无疑似谣言事件。")
    for row in r.rumours:
        s = row.spread
        pdf.para(
            f"事件 {row.event_id}：{row.title} — 研判 {row.verdict or '未研判'}，谣言传播量 {_num(s.rumour_total)}，"
            f"澄清传播量 {_num(s.clarification_total)}，澄清覆盖率 {_pct(s.coverage)}，剩余风险 {_num(s.risk)}，"
            f"状态 {row.status}"
        )
        pdf.chart_or(r.rumour_charts.get(row.event_id), r.rumour_note(row))
    pdf.heading("四、新出现的热点话题")
    pdf.grid(
        ["事件", "标题", "类别", "条目", "热度"],
        [[e.event_id, e.title, e.category, e.items, _num(e.heat)] for e in r.new_topics],
        (12, 100, 20, 18, 20),
    )
    pdf.heading("五、部门回应时效")
    pdf.grid(
        ["部门", "按时签收", "签收及时率", "按时回应", "回应及时率"],
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
    pdf.heading("六、信息源运行状况")
    pdf.grid(
        ["信息源", "类型", "状态", "最近成功", "连续失败", "最近错误"],
        [
            [
                s.name,
                s.kind,
                "正常" if s.healthy else "故障",
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
    pdf.heading(f"{group.label}（{len(group.rows)} 个单位）", 11)
    if png is not None:
        pdf.picture(png)
    pdf.grid(
        ["名次", "单位", "积分", "报送", "采用", "转载", "签收及时率", "回应及时率", "逾期"],
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
    pdf.heading(f"全省政府系统网上宣传工作月度通报 {r.period.label}", 16)
    pdf.para(
        f"统计时段：{shown(r.period.start)} 至 {shown(r.period.end)}；生成于 {shown(r.generated_at)}；"
        f"每分奖励人民币 {_num(r.yuan_per_point)} 元，每季度兑现一次（2006 §四）"
    )
    pdf.heading("一、积分排名")
    for group in (g for g in r.groups if g.ranked):
        _ranked_group(pdf, group, r.charts.get(group.kind))
    pdf.heading("二、只计数不排名单位的信息报送")
    pdf.para("附件3信息直报单位及省政府办公厅信息报送处室不参与排名，列入信息报送数量统计。")
    for group in (g for g in r.groups if not g.ranked):
        pdf.heading(group.label, 11)
        pdf.grid(
            ["单位", "报送", "采用", "积分"],
            [[row.standing.full_name, row.submitted, row.adopted, _num(row.standing.points)] for row in group.rows],
            (90, 30, 30, 30),
        )
    pdf.heading("三、逾期未办结清单")
    pdf.para("逾期只通报，不扣分（2006 §四 约束机制只对虚假、失实信息扣分）。")
    pdf.grid(
        ["任务", "事件", "单位", "逾期环节", "时限", "状态"],
        [
            [f"#{o.assignment_id}", f"{o.event_id} {o.event_title}", o.department_key, o.what, shown(o.due), o.state]
            for o in r.overdue
        ],
        (14, 62, 30, 26, 30, 18),
    )
    if r.local_rows:
        pdf.heading("本办规则计分")
        pdf.grid(["单位", "规则", "积分"], [[unit, label, _num(value)] for unit, label, value in r.local_rows])
    if r.payout is not None:
        pdf.heading(f"季度奖励兑现（{r.payout.period.label}）")
        rows = [[s.full_name, _num(s.points), _num(s.points * r.yuan_per_point)] for s in r.payout.rows]
        pdf.grid(
            ["单位", "积分", "奖励(元)"],
            [*rows, ["合计", _num(r.payout.total), _num(r.payout.total * r.yuan_per_point)]],
            (90, 40, 50),
        )
    if r.annual is not None:
        pdf.heading(f"年度汇总（{r.annual.period.label} 年，供年度全省政府系统网站评议考核）")
        pdf.grid(
            ["名次", "单位", "年度积分"],
            [[s.rank or "不排名", s.full_name, _num(s.points)] for s in r.annual.rows],
            (25, 105, 50),
        )
    if r.rules:
        pdf.heading("口径")
        for note in r.rules:
            source = note.source if note.local else f"依据 {note.source}"
            pdf.para(f"{note.rule}：{note.value}（{source}）")
    pdf.output(str(path))
    return path
