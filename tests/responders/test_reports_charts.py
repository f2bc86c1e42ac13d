"""Report charts: axes that fit their data, cumulative steps, zeros drawn, no chart without data."""

from __future__ import annotations

import datetime as dt
import struct
from zoneinfo import ZoneInfo

import pytest
from matplotlib import dates as mdates
from matplotlib.axes import Axes

from responders.reports import charts

CST = ZoneInfo("Asia/Shanghai")
DAY = dt.datetime(2026, 12, 7, tzinfo=CST)


def _at(hour: int, minute: int = 0) -> dt.datetime:
    return DAY + dt.timedelta(hours=hour, minutes=minute)


def _axes(fig) -> Axes:
    return fig.axes[0]


def _xlim(ax: Axes) -> tuple[dt.datetime, dt.datetime]:
    low, high = ax.get_xlim()
    return mdates.num2date(low, tz=CST), mdates.num2date(high, tz=CST)


def _tick_labels(ax: Axes) -> list[str]:
    locs = ax.xaxis.get_major_locator()()
    return [label for label in ax.xaxis.get_major_formatter().format_ticks(locs) if label]


def test_one_day_of_data_gets_an_axis_within_that_day_and_hour_ticks_in_office_time():
    rumour = [(_at(9), 5.0), (_at(11, 30), 2.0), (_at(16), 1.0)]
    fig = charts.cumulative_figure({"谣言": rumour}, "t", "传播量", CST, end=_at(18))
    low, high = _xlim(_axes(fig))
    assert _at(8, 45) < low < _at(9) and high == _at(18)  # a short lead, then the day's data to the end
    labels = _tick_labels(_axes(fig))
    assert len(labels) >= 3 and all(":" in label for label in labels), labels  # hours, not years
    hours = [int(label.split(":")[0]) for label in labels]
    assert all(9 <= h <= 18 for h in hours), hours  # Asia/Shanghai, not UTC (01:00-10:00)


def test_a_single_clarification_is_a_step_running_to_the_end():
    fig = charts.cumulative_figure({"谣言": [(_at(9), 4.0), (_at(10), 4.0)], "澄清": [(_at(12), 3.0)]},
                                   "t", "传播量", CST, end=_at(20))
    rumour_line, clar_line = [line for line in _axes(fig).get_lines() if line.get_drawstyle() == "steps-post"]
    xs, ys = clar_line.get_data()
    assert list(ys) == [0.0, 3.0, 3.0]
    assert [mdates.num2date(x, tz=CST) for x in xs][1:] == [_at(12), _at(20)] and xs[0] == _axes(fig).get_xlim()[0]
    assert list(rumour_line.get_data()[1]) == [0.0, 4.0, 8.0, 8.0]
    assert _axes(fig).get_ylim()[0] == 0
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["谣言：8", "澄清：3"]  # totals, read at a glance


def test_data_after_the_end_stretches_the_axis_and_a_moment_still_has_width():
    fig = charts.cumulative_figure({"a": [(_at(9), 1.0), (_at(9, 8), 1.0)]}, "t", "y", CST, end=_at(9, 1))
    low, high = _xlim(_axes(fig))
    assert low < _at(9) and high == _at(9) + charts.MIN_SPAN  # 8 minutes of data, a 10-minute axis
    fig = charts.cumulative_figure({"a": [(_at(9), 1.0)]}, "t", "y", CST)
    assert _xlim(_axes(fig))[1] == _at(9) + charts.MIN_SPAN


def test_a_week_gets_day_ticks():
    points = [(DAY + dt.timedelta(days=d), 1.0) for d in range(7)]
    fig = charts.cumulative_figure({"a": points}, "t", "y", CST)
    labels = _tick_labels(_axes(fig))
    assert labels and all(":" not in label for label in labels), labels


def test_no_data_no_chart():
    with pytest.raises(charts.ChartError):
        charts.cumulative({"a": [], "b": []}, "t", "y", CST)
    with pytest.raises(charts.ChartError):
        charts.bars([], [], [], "t", ("本周", "上周"))
    with pytest.raises(charts.ChartError):
        charts.ranking([], [], "t", "积分")
    with pytest.raises(charts.ChartError):
        charts.ranking(["甲", "乙"], [1.0], "t", "积分")


def test_ranking_shows_every_unit_first_on_top_zeros_included():
    labels = [f"第{i}县（市）政府" for i in range(1, 43)]
    values = [float(42 - i) for i in range(42)]
    values[-3:] = [0.0, 0.0, 0.0]
    ax = _axes(charts.ranking_figure(labels, values, "县（市）政府积分", "积分"))
    assert [t.get_text() for t in ax.get_yticklabels()] == labels
    bottom, top = ax.get_ylim()
    assert top < bottom  # inverted: the first label is drawn at the top
    assert ax.get_xlim()[0] == 0 and ax.get_xlim()[1] > max(values)
    shown = [t.get_text() for t in ax.texts]
    assert shown.count("0") == 3 and shown[0] == "42"


def test_ranking_all_zero_still_has_an_axis_from_zero():
    ax = _axes(charts.ranking_figure(["甲市", "乙市"], [0.0, 0.0], "t", "积分"))
    assert ax.get_xlim() == (0.0, 1.0)
    assert [t.get_text() for t in ax.texts] == ["0", "0"]


def test_ranking_grows_with_its_labels_and_45_fit_an_a4_page():
    def size(n: int) -> tuple[int, int]:
        png = charts.ranking([f"单位{i}" for i in range(n)], [float(i) for i in range(n)], "t", "积分")
        assert png[:8] == b"\x89PNG\r\n\x1a\n"
        width, height = struct.unpack(">II", png[16:24])  # the IHDR chunk
        return width, height

    (w10, h10), (w45, h45) = size(10), size(45)
    assert w10 == w45 and h45 > 2.5 * h10
    a4_text_height_over_width = (297 - 25) / 180  # mm: page less margins, over the text width
    assert h45 / w45 < a4_text_height_over_width
