"""Reports for leaders: the daily digest, the monthly ranking (通报) and the weekly opinion report.

Templates ship in ``templates/`` and render with autoescape on, so text from
the web can never inject markup into a report. What the code draws itself (the PDF's headings and
table headers, chart titles, notes) is the wording file ``templates/wording.yaml``: each entry a
Jinja template of the same environment, rendered as plain text by :func:`words` and :func:`columns`,
so an office changes a report's wording without touching Python.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import Any

import jinja2
import yaml

from store.types import shown

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


def _hours(delta: dt.timedelta) -> str:
    return f"{delta.total_seconds() / 3600:g}"


_ENV.filters.update(shown=shown, pct=_pct, num=_num, hours=_hours)
_PLAIN = _ENV.overlay(autoescape=False)  # the wording file: plain text for the PDF and the charts


def render(name: str, **context: Any) -> str:
    """Render a shipped template (autoescaped)."""
    return _ENV.get_template(name).render(**context)


def _flatten(node: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in node.items():
        if isinstance(value, Mapping):
            out.update(_flatten(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


@cache
def _wording() -> dict[str, Any]:
    """``templates/wording.yaml`` as dotted names (``pdf.weekly.title``) to a template or a list of them."""
    source = resources.files(__name__).joinpath("templates", "wording.yaml").read_text(encoding="utf-8")
    return _flatten(yaml.safe_load(source))


@cache
def _compiled(source: str) -> jinja2.Template:
    return _PLAIN.from_string(source)


def _entry(name: str) -> Any:
    try:
        return _wording()[name]
    except KeyError:
        raise KeyError(f"responders/reports/templates/wording.yaml has no {name!r}") from None


def words(name: str, **context: Any) -> str:
    """The wording file's entry *name* rendered as plain text with *context*."""
    return _compiled(str(_entry(name))).render(**context)


def has_words(name: str) -> bool:
    return name in _wording()


def columns(name: str, **context: Any) -> list[str]:
    """A list entry of the wording file (table headers, date formats), each item rendered."""
    return [_compiled(str(item)).render(**context) for item in _entry(name)]


def local_day(moment: dt.datetime, tz: Any) -> dt.date:
    return moment.astimezone(tz).date()
