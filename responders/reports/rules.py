"""The rules a report's figures are judged by, each with its source, so local rules are labelled.

Leaders rank units by these figures; a reader must see which clocks come from a document
and which are the office's own rules (``provenance`` in the playbook, 本办规则 for local ones).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from playbooks.schema import Playbook


@dataclass(frozen=True)
class RuleNote:
    rule: str
    value: str
    source: str
    local: bool


def _hours(delta: dt.timedelta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{hours:g} 小时"


def timeliness_rules(book: Playbook) -> list[RuleNote]:
    """The clocks behind the on-time rates of the weekly report and the monthly 通报."""
    c = book.clocks
    counts = "工作时间" if c.acknowledge_counts.value == "office_hours" else "自然时间"
    rows = [
        ("签收时限", f"{_hours(c.acknowledge)}（{counts}）", "clocks.acknowledge"),
        (
            "回应时限",
            f"{c.respond_working_days} 个工作日（复杂的延长至 {c.respond_extended_working_days} 个）",
            "clocks.respond_working_days",
        ),
        ("突发事件首次发布", _hours(c.emergency.first_information), "clocks.emergency.first_information"),
        ("谣言首次澄清", _hours(c.rumour.first_information), "clocks.rumour.first_information"),
        (
            "重要政策转载",
            f"力争 {_hours(c.policy_reprint.target)}，最迟 {c.policy_reprint.latest_working_days} 个工作日",
            "clocks.policy_reprint.latest_working_days",
        ),
        ("预警热度", f"{book.heat.alert_threshold:g}", "heat.alert_threshold"),
    ]
    return [RuleNote(name, value, book.source_of(path), book.provenance.is_local(path)) for name, value, path in rows]
