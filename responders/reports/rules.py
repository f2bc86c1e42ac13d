"""The rules a report's figures are judged by, each with its source, so local rules are labelled.

Leaders rank units by these figures; a reader must see which clocks come from a document
and which are the office's own rules (``provenance`` in the playbook, 本办规则 for local ones).
"""

from __future__ import annotations

from dataclasses import dataclass

from playbooks.schema import Playbook
from responders.reports import words


@dataclass(frozen=True)
class RuleNote:
    rule: str
    value: str
    source: str
    local: bool


# (wording entry under ``rules.`` in templates/wording.yaml, the playbook value it states)
RULES = (
    ("acknowledge", "clocks.acknowledge"),
    ("respond", "clocks.respond_working_days"),
    ("emergency", "clocks.emergency.first_information"),
    ("rumour", "clocks.rumour.first_information"),
    ("policy_reprint", "clocks.policy_reprint.latest_working_days"),
    ("alert_threshold", "heat.alert_threshold"),
)


def timeliness_rules(book: Playbook) -> list[RuleNote]:
    """The clocks behind the on-time rates of the weekly report and the monthly 通报, worded by the wording file."""
    values = {"c": book.clocks, "heat": book.heat}
    return [RuleNote(words(f"rules.{key}.rule", **values), words(f"rules.{key}.value", **values), book.source_of(path),
                     book.provenance.is_local(path)) for key, path in RULES]
