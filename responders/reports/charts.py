"""Report charts as PNG bytes (matplotlib, Agg backend, the CJK font registered once).

One chart module for every reader: the weekly report, the monthly 通报 and the
web desk pass plain series (no store rows) and get PNG bytes back; the HTML
embeds them as data URIs and the PDF places the same bytes, so both show the
same picture. Each ``*_figure`` function builds the :class:`Figure` (tests
inspect its axes), and the function without the suffix returns its PNG.

Rules every chart keeps, so a leader can read it at a glance: an axis fits its
data (a day of data gets hour ticks, never a span of years), quantities start
from zero (a zero is drawn, not left out), cumulative curves are steps that
run to the end of the period (a single clarification is a visible step, not a
dot), and there is no chart without data (:class:`ChartError`; the report
says so in words instead).
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import logging
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from responders.errors import ResponderError
from responders.reports import columns
from responders.reports.fonts import find_cjk_font

if TYPE_CHECKING:
    # matplotlib is imported when the first chart is drawn, not with this module: the service and the
    # web desk import the reports (about 30 MB of matplotlib) whether or not a chart is drawn that day.
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

DPI = 110
WIDTH = 7.0  # inches: the PDF places charts across A4's text width (180 mm)
MIN_SPAN = dt.timedelta(minutes=10)  # a shorter time axis would tick in seconds
LEAD = 0.02  # of the span, before the first point
LEGEND_CHARS = 28
MAX_MARKERS = 60  # more points than this and the dots would hide the curve
RANK_ROW = 0.19  # inches per ranked label: 45 labels still fit one A4 page
RANK_EXTRA = 0.9  # inches for the title and the value axis

Points = Sequence[tuple[dt.datetime, float]]


class ChartError(ResponderError, ValueError):
    """A chart was asked for without anything to draw; the caller writes a sentence instead."""


@lru_cache(maxsize=1)
def _family() -> str:
    """Select the Agg backend and register the CJK font, once, before the first figure."""
    import matplotlib
    from matplotlib import font_manager

    matplotlib.use("Agg")
    font = find_cjk_font()
    logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)  # "weight 500" notices
    font_manager.fontManager.addfont(str(font.path))
    return font.family


def _figure(width: float = WIDTH, height: float = 3.0) -> Figure:
    family = _family()
    import matplotlib
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=DPI)
    fig.set_layout_engine("constrained")
    matplotlib.rcParams["font.family"] = [family]
    matplotlib.rcParams["axes.unicode_minus"] = False
    return fig


def png(fig: Figure) -> bytes:
    """The figure as PNG bytes."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


def data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


# --------------------------------------------------------------------------- time


def time_axis(ax: Axes, start: dt.datetime, end: dt.datetime, tz: ZoneInfo) -> None:
    """Limit the x axis to [start, end] with ticks fit for the span, labelled in the office's timezone."""
    from matplotlib import dates as mdates

    locator = mdates.AutoDateLocator(tz=tz, minticks=3, maxticks=8)
    locator.intervald[mdates.MINUTELY] = [1, 2, 5, 10, 15, 30]  # ten minutes get 2-minute ticks, not two ticks
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(  # tick labels in the wording file's formats
        locator, tz=tz, formats=columns("charts.date_formats"), zero_formats=columns("charts.date_zero_formats"),
        offset_formats=columns("charts.date_offset_formats")))
    ax.set_xlim(mdates.date2num(start), mdates.date2num(end))


def span(series: Mapping[str, Points], end: dt.datetime | None) -> tuple[dt.datetime, dt.datetime]:
    """From just before the first point to *end* (or the last point, if later), at least :data:`MIN_SPAN` wide.

    The small lead (:data:`LEAD` of the span) lets a curve that starts with a
    big amount be seen rising from zero instead of starting on the axis.
    """
    moments = [t for points in series.values() for t, _ in points]
    if not moments:
        raise ChartError("no points to draw")
    first, last = min(moments), max(moments)
    stop = max(last, end) if end is not None else last
    stop = max(stop, first + MIN_SPAN)
    return first - (stop - first) * LEAD, stop


def running_total(points: Points, start: dt.datetime,
                  end: dt.datetime) -> tuple[list[dt.datetime], list[float]]:
    """A step curve of the cumulative sum: zero at *start*, a riser at every point, flat to *end*."""
    xs, ys, total = [start], [0.0], 0.0
    for moment, amount in sorted(points, key=lambda p: p[0]):
        total += amount
        xs.append(moment)
        ys.append(total)
    xs.append(max(end, xs[-1]))
    ys.append(total)
    return xs, ys


def _legend_below(fig: Figure, count: int) -> None:
    """Below the plot, so it never hides a curve."""
    fig.legend(fontsize=7, loc="outside lower center", ncols=min(count, 2), frameon=False)


def cumulative_figure(series: Mapping[str, Points], title: str, ylabel: str, tz: ZoneInfo,
                      end: dt.datetime | None = None) -> Figure:
    """Cumulative step curves of what each named series added when (reach, reprints, items).

    *series* maps a name to its increments ``(moment, amount)``; every curve
    runs from the first moment of any series to *end* (the period's end, or
    the last moment if later), and the legend gives each curve's total, so a
    curve dwarfed by another is still read. Raises :class:`ChartError` when no
    series has a point.
    """
    start, stop = span(series, end)
    named = [(name, points) for name, points in series.items()]
    fig = _figure(height=2.6 + 0.18 * ((len(named) + 1) // 2))
    from matplotlib import dates as mdates

    ax = fig.add_subplot()
    for name, points in named:
        xs, ys = running_total(points, start, stop)
        line, = ax.step(mdates.date2num(xs), ys, where="post", linewidth=1.6,
                        label=f"{_short(name)}：{_value(ys[-1])}")
        if len(points) <= MAX_MARKERS:  # a dot where each amount arrived: a small step stays visible
            ax.plot(mdates.date2num(xs[1:-1]), ys[1:-1], linestyle="none", marker="o", markersize=3,
                    color=line.get_color())
    time_axis(ax, start, stop, tz)
    ax.set_ylim(bottom=0, top=_top(max(_total(p) for _, p in named)))
    ax.set_title(title)
    ax.set_ylabel(ylabel)
    ax.grid(axis="y", alpha=0.3)
    _legend_below(fig, len(named))
    return fig


def cumulative(series: Mapping[str, Points], title: str, ylabel: str, tz: ZoneInfo,
               end: dt.datetime | None = None) -> bytes:
    """:func:`cumulative_figure` as PNG bytes."""
    return png(cumulative_figure(series, title, ylabel, tz, end))


# --------------------------------------------------------------------------- bars


def bars_figure(labels: Sequence[str], current: Sequence[float], previous: Sequence[float], title: str,
                names: tuple[str, str]) -> Figure:
    """Grouped bars: this period against the last (category distribution)."""
    if not labels:
        raise ChartError("no categories to draw")
    fig = _figure()
    from matplotlib.ticker import MaxNLocator

    ax = fig.add_subplot()
    xs = range(len(labels))
    ax.bar([x - 0.2 for x in xs], previous, width=0.4, label=names[1], color="#bbbbbb")
    ax.bar([x + 0.2 for x in xs], current, width=0.4, label=names[0], color="#c0392b")
    ax.set_xticks(list(xs), list(labels), rotation=0 if len(labels) <= 10 else 45)
    ax.set_ylim(bottom=0, top=_top(max([*current, *previous])))
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_title(title)
    ax.legend(fontsize=8)
    return fig


def bars(labels: Sequence[str], current: Sequence[float], previous: Sequence[float], title: str,
         names: tuple[str, str]) -> bytes:
    """:func:`bars_figure` as PNG bytes."""
    return png(bars_figure(labels, current, previous, title, names))


def ranking_figure(labels: Sequence[str], values: Sequence[float], title: str, xlabel: str) -> Figure:
    """Horizontal bars in the given order, first at the top, each with its value (zeros shown).

    The height grows with the number of labels so that about 45 stay readable
    on one A4 page; the value axis starts at zero (or below, for a negative value).
    """
    if not labels:
        raise ChartError("no units to rank")
    if len(labels) != len(values):
        raise ChartError(f"{len(labels)} labels but {len(values)} values")
    fig = _figure(height=RANK_EXTRA + RANK_ROW * max(len(labels), 4))
    from matplotlib.ticker import MaxNLocator

    ax = fig.add_subplot()
    ys = range(len(labels))
    drawn = ax.barh(list(ys), list(values), height=0.7, color="#c0392b")
    ax.bar_label(drawn, labels=[_value(v) for v in values], padding=3, fontsize=7)
    ax.set_yticks(list(ys), [str(label) for label in labels], fontsize=8)
    ax.set_ylim(len(labels) - 0.5, -0.5)  # first label on top, no empty band
    low, high = min(0.0, *values), max(0.0, *values)
    ax.set_xlim(low * 1.15, _top(high) if high > 0 else (1.0 if low == 0 else 0.0))
    ax.axvline(0, color="#555555", linewidth=0.8)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # points come in whole and half units
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.grid(axis="x", alpha=0.3)
    return fig


def ranking(labels: Sequence[str], values: Sequence[float], title: str, xlabel: str) -> bytes:
    """:func:`ranking_figure` as PNG bytes (e.g. one ranked group of the monthly 通报)."""
    return png(ranking_figure(labels, values, title, xlabel))


# --------------------------------------------------------------------------- small helpers


def _total(points: Points) -> float:
    return sum(amount for _, amount in points)


def _top(highest: float) -> float:
    """Head room above the tallest value; a unit axis when everything is zero."""
    return highest * 1.15 if highest > 0 else 1.0


def _short(name: str) -> str:
    return name if len(name) <= LEGEND_CHARS else name[: LEGEND_CHARS - 1] + "…"


def _value(v: float) -> str:
    return f"{v:.1f}".rstrip("0").rstrip(".") if v != int(v) else str(int(v))
