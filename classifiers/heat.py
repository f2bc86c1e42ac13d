"""Heat score of an event: how much attention it has and how risky it is.

Formula (every constant is the playbook's ``heat`` section; time sums decay with ``half_life``:
d(t) = 0.5 ** ((now − t) / half_life); w(host) is ``source_weights.major``
for a major site, ``source_weights.other`` otherwise)::

    V = Σ w·d                      over mentions              volume
    R = Σ w  over mentions in the last ``velocity_window``    velocity
    E = Σ d·ln(1 + likes+comments+reposts)                    engagement
    P = Σ w·d                      over reprints              reprints
    part(x, cap, half) = cap · x / (x + half)                 saturating: half → cap/2

    attention = Σ weight_f · part_f            (f = volume, velocity, engagement, reprints)
    risk      = weight_rumour · rumour_cap · p_rumour / (1 + weight_clarification · reach / reach_half)
    score     = min(100, sensitivity(category) · attention + risk)

``reach`` is the weighted number of places that carried the published
clarification (major 1.0, other 0.5): a clarification reprinted ``reach_half``
times halves the rumour risk. Weights are ``heat.weights`` (default 1.0).
Every part is kept in :class:`HeatScore` so an alert can print its "why".
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final

from playbooks.schema import Playbook

MAX_SCORE: Final = 100.0  # the scale of every score


@dataclass(frozen=True)
class Mention:
    """One item of an event as heat sees it."""

    when: dt.datetime
    host: str | None = None
    engagement: int = 0  # likes + comments + reposts, when the source reports them
    is_reprint: bool = False


@dataclass(frozen=True)
class HeatInputs:
    """Everything the score needs about one event."""

    mentions: Sequence[Mention]
    category: str
    rumour_probability: float = 0.0
    clarification_hosts: Sequence[str | None] = ()  # where the published clarification was carried


@dataclass(frozen=True)
class HeatPart:
    name: str
    raw: float
    points: float
    note: str
    facts: Mapping[str, float | str] = field(default_factory=dict)  # the numbers behind the note, for wording


@dataclass(frozen=True)
class HeatScore:
    """The score and the parts it is made of."""

    score: float
    parts: list[HeatPart] = field(default_factory=list)

    def part(self, name: str) -> HeatPart:
        return next(p for p in self.parts if p.name == name)

    def explain(self) -> str:
        """One line per part, for the alert's "why"."""
        lines = [f"heat {self.score:.1f}"]
        lines += [f"  {p.name}: {p.points:+.1f} ({p.note})" for p in self.parts]
        return "\n".join(lines)


def decay(when: dt.datetime, now: dt.datetime, half_life: dt.timedelta) -> float:
    """0.5 ** (age / half_life); items from the future count as new."""
    age = max((now - when).total_seconds(), 0.0)
    return float(0.5 ** (age / half_life.total_seconds()))


def saturate(x: float, cap: float, half: float) -> float:
    """cap · x / (x + half): grows fast at first, never exceeds cap."""
    return cap * x / (x + half) if x > 0 else 0.0


def _weight(playbook: Playbook, name: str) -> float:
    return float(playbook.heat.weights.get(name, 1.0))


def heat_score(inputs: HeatInputs, now: dt.datetime, playbook: Playbook) -> HeatScore:
    """Score an event; see the module docstring for the formula."""
    if not 0.0 <= inputs.rumour_probability <= 1.0:
        raise ValueError(f"rumour probability must be within [0, 1], got {inputs.rumour_probability!r}")
    policy = playbook.heat
    half_life = policy.half_life
    sw = playbook.source_weights
    raw = {"volume": 0.0, "velocity": 0.0, "engagement": 0.0, "reprints": 0.0}
    for m in inputs.mentions:
        w = sw.weight(m.host)
        d = decay(m.when, now, half_life)
        raw["volume"] += w * d
        if dt.timedelta(0) <= now - m.when <= policy.velocity_window:
            raw["velocity"] += w
        raw["engagement"] += d * math.log1p(max(m.engagement, 0))
        if m.is_reprint:
            raw["reprints"] += w * d
    parts = []
    attention = 0.0
    for name, value in raw.items():
        points = _weight(playbook, name) * saturate(value, policy.caps[name], policy.halves[name])
        attention += points
        parts.append(HeatPart(name, round(value, 3), round(points, 2), f"{value:.2f} weighted, decayed",
                              {"value": round(value, 2)}))
    category = playbook.categories.get(inputs.category) or playbook.categories[playbook.fallback_category]
    sensitivity = category.sensitivity
    parts.append(
        HeatPart(
            "sensitivity",
            sensitivity,
            round(attention * (sensitivity - 1.0), 2),
            f"{inputs.category} ×{sensitivity:g} on attention {attention:.1f}",
            {"category": inputs.category, "factor": sensitivity, "attention": round(attention, 1)},
        )
    )
    reach = sum(sw.weight(h) for h in inputs.clarification_hosts)
    remaining = 1.0 / (1.0 + _weight(playbook, "clarification") * reach / policy.reach_half)
    risk_before = _weight(playbook, "rumour") * policy.rumour_cap * inputs.rumour_probability
    risk = risk_before * remaining
    parts.append(
        HeatPart(
            "rumour", inputs.rumour_probability, round(risk_before, 2), f"p={inputs.rumour_probability:.2f}",
            {"p": round(inputs.rumour_probability, 2)},
        )
    )
    parts.append(
        HeatPart(
            "clarification",
            round(reach, 3),
            round(risk - risk_before, 2),
            f"reach {reach:.1f} keeps {remaining:.0%} of risk",
            {"reach": round(reach, 1), "remaining": round(remaining, 2)},
        )
    )
    score = min(MAX_SCORE, attention * sensitivity + risk)
    return HeatScore(round(score, 2), parts)
