"""Report charts as PNG bytes (matplotlib, Agg backend, the CJK font registered once).

Each function takes plain series and returns PNG bytes; the HTML embeds them
as data URIs and the PDF places the same bytes, so both show the same picture.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import logging
from collections.abc import Mapping, Sequence
from functools import lru_cache

import matplotlib

matplotlib.use("Agg")

from matplotlib import font_manager  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from responders.reports.fonts import find_cjk_font  # noqa: E402

DPI = 110


@lru_cache(maxsize=1)
def _family() -> str:
    font = find_cjk_font()
    logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)  # "weight 500" notices
    font_manager.fontManager.addfont(str(font.path))
    return font.family


def _figure(width: float = 7.0, height: float = 3.0) -> Figure:
    family = _family()
    fig = Figure(figsize=(width, height), dpi=DPI)
    fig.set_layout_engine("constrained")
    matplotlib.rcParams["font.family"] = [family]
    matplotlib.rcParams["axes.unicode_minus"] = False
    return fig


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


def data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def lines(series: Mapping[str, Sequence[tuple[dt.datetime, float]]], title: str, ylabel: str) -> bytes:
    """One line per named series over time (heat curves, spread curves)."""
    fig = _figure()
    ax = fig.add_subplot()
    for name, points in series.items():
        if points:
            xs, ys = zip(*points, strict=True)
            ax.plot(xs, ys, marker="o", markersize=2.5, label=name[:24])
    ax.set_title(title)
    ax.set_ylabel(ylabel)
    if any(series.values()):
        ax.legend(fontsize=7, loc="upper left")
    fig.autofmt_xdate()
    return _png(fig)


def bars(labels: Sequence[str], current: Sequence[float], previous: Sequence[float], title: str,
         names: tuple[str, str]) -> bytes:
    """Grouped bars: this period against the last (category distribution)."""
    fig = _figure()
    ax = fig.add_subplot()
    xs = range(len(labels))
    ax.bar([x - 0.2 for x in xs], previous, width=0.4, label=names[1], color="#bbbbbb")
    ax.bar([x + 0.2 for x in xs], current, width=0.4, label=names[0], color="#c0392b")
    ax.set_xticks(list(xs), list(labels))
    ax.set_title(title)
    ax.legend(fontsize=8)
    return _png(fig)
