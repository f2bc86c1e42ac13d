"""Reports for leaders: the daily digest, the monthly ranking (通报) and the weekly opinion report.

Templates ship in ``templates/`` and render with autoescape on, so text from
the web can never inject markup into a report.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import jinja2

from monitor.store.types import shown

_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("responders.reports", "templates"),
    autoescape=jinja2.select_autoescape(["html", "j2"], default=True),
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.0f}%"


def _num(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.1f}".rstrip("0").rstrip(".") if value != int(value) else f"{int(value)}"


_ENV.filters.update(shown=shown, pct=_pct, num=_num)


def render(name: str, **context: Any) -> str:
    """Render a shipped template (autoescaped)."""
    return _ENV.get_template(name).render(**context)


def local_day(moment: dt.datetime, tz: Any) -> dt.date:
    return moment.astimezone(tz).date()
