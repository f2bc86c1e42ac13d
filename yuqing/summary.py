"""Human-readable summaries of policy, for `yuqing playbook show` and the demo."""

from __future__ import annotations

import datetime as dt
from collections import Counter

from playbooks.schema import Playbook, UnitKind

_KIND_NAMES = {
    UnitKind.city: "市（州）政府",
    UnitKind.county: "县（市）政府",
    UnitKind.provincial: "省政府工作部门",
    UnitKind.direct: "信息直报单位（不参与排名）",
    UnitKind.office_division: "办公厅处室（不参与排名）",
}


def _hours(delta: dt.timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    return f"{minutes // 60}h{minutes % 60:02d}m" if minutes % 60 else f"{minutes // 60}h"


def playbook_summary(book: Playbook) -> str:
    """Departments, categories with lead/co, clocks, points and escalation in a few lines."""
    kinds = Counter(d.kind for d in book.departments.values())
    ranked = sum(1 for d in book.departments.values() if d.is_ranked)
    lines = [f"playbook: {book.name}", f"departments: {len(book.departments)} ({ranked} ranked)"]
    lines += [f"  {_KIND_NAMES[k]}: {kinds[k]}" for k in UnitKind if kinds[k]]
    lines.append("categories (lead + co-responsible):")
    for name, cat in book.categories.items():
        co = "、".join(cat.co) or "—"
        lines.append(f"  {name}: {cat.lead} + {co}  (sensitivity {cat.sensitivity:g}, {len(cat.keywords)} keywords)")
    c = book.clocks
    lines += [
        "clocks:",
        f"  acknowledge within {_hours(c.acknowledge)}; respond within {c.respond_working_days} working days "
        f"({c.respond_extended_working_days} when extended)",
        f"  rumours: acknowledge {_hours(c.rumour.acknowledge)}, "
        f"first information {_hours(c.rumour.first_information)}",
        f"  emergencies: acknowledge {_hours(c.emergency.acknowledge)}, "
        f"first information {_hours(c.emergency.first_information)}",
        f"  important policy reprints: within {_hours(c.policy_reprint.target)}, "
        f"at the latest {c.policy_reprint.latest_working_days} working day(s)",
        f"  office hours {book.office_hours.start:%H:%M}–{book.office_hours.end:%H:%M}, "
        f"quiet hours {book.quiet_hours.start:%H:%M}–{book.quiet_hours.end:%H:%M}",
    ]
    p = book.points
    b = p.bonus
    lines += [
        f"points (1 point = {p.yuan_per_point:g} yuan, paid {p.payout}):",
        f"  adopted {p.adopted:g}; special/interview +{b.special_or_interview:g}, "
        f"special commentary +{b.special_commentary:g}, video +{b.video:g}, "
        f"headline/picture +{b.headline_or_picture:g}",
        f"  reprint by a major site +{p.reprint_major:g}, by another site +{p.reprint_other:g}",
        f"  digest adoption +{p.digest_adopted:g}, with a leader's instruction +{p.digest_leader_instruction:g}",
        "  deductions: " + ", ".join(f"{k} {v:g}" for k, v in p.deductions.model_dump().items()),
        f"source weights: major {book.source_weights.major:g}, other {book.source_weights.other:g} "
        f"({len(book.source_weights.major_sites)} major sites)",
        "escalation:",
    ]
    for step in book.escalation:
        repeat = f", every {_hours(step.repeat_every)}" if step.repeat_every else ""
        targets = ", ".join(t.value for t in step.notify)
        lines.append(f"  {step.name}: {step.when.value} {_hours(step.offset)} → {targets}{repeat}")
    h = book.heat
    lines.append(f"heat: alert at {h.alert_threshold:g}, major (会商) at {h.major_threshold:g}")
    lines += provenance_lines(book)
    return "\n".join(lines)


def provenance_lines(book: Playbook) -> list[str]:
    """Each cited or local value with its source, so a reader sees which rules are the office's own."""
    lines = ["where each rule comes from:"]
    width = max((len(path) for path in book.provenance.values), default=0)
    lines += [f"  {path:<{width}}  {book.source_of(path)}" for path in sorted(book.provenance.values)]
    return lines
