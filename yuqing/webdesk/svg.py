"""Charts as small SVG drawn on the server: no script, no CDN, readable on an office network."""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

WORDS = {"max": "最大"}  # the one word a chart writes beside its title


def sparkline(values: Sequence[float], width: int = 120, height: int = 24, label: str = "") -> Markup:
    """A line of *values* scaled to the box; an all-zero series is a flat line at the bottom."""
    if not values:
        return Markup("")
    top = max(values) or 1
    step = width / max(len(values) - 1, 1)
    points = " ".join(f"{i * step:.1f},{height - 2 - (v / top) * (height - 4):.1f}" for i, v in enumerate(values))
    return Markup(
        f'<svg class="spark" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(label)}"><polyline fill="none" stroke="currentColor" stroke-width="1.5" '
        f'points="{points}"/></svg>')


def lines(series: dict[str, Sequence[float]], labels: Sequence[str], width: int = 640, height: int = 200,
          title: str = "") -> Markup:
    """Several named series over the same x labels, with a legend and the y maximum."""
    values = [v for s in series.values() for v in s]
    top = max(values, default=0) or 1
    n = max((len(s) for s in series.values()), default=0)
    pad, step = 40, (width - 50) / max(n - 1, 1)
    colours = ("#c0392b", "#1f6fb2", "#2e8b57", "#8e44ad")
    parts = [f'<svg class="chart" width="{width}" height="{height + 40}" viewBox="0 0 {width} {height + 40}" '
             f'role="img" aria-label="{escape(title)}">',
             f'<text x="{pad}" y="12" font-size="11">{escape(title)} （{WORDS["max"]} {top:g}）</text>',
             f'<line x1="{pad}" y1="{height}" x2="{width - 10}" y2="{height}" stroke="#999"/>']
    for k, (name, s) in enumerate(series.items()):
        colour = colours[k % len(colours)]
        pts = " ".join(f"{pad + i * step:.1f},{height - (v / top) * (height - 30):.1f}" for i, v in enumerate(s))
        parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{pts}"/>')
        parts.append(f'<text x="{pad + 120 * k}" y="{height + 34}" font-size="12" fill="{colour}">'
                     f'■ {escape(name)}</text>')
    for i, label in enumerate(labels):
        if n and (i % max(n // 6, 1) == 0):
            parts.append(f'<text x="{pad + i * step:.1f}" y="{height + 16}" font-size="10" '
                         f'text-anchor="middle">{escape(label)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
