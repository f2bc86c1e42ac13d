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
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, NamedTuple

from classifiers.errors import SummaryError
from classifiers.instants import PER_SECOND, micros, span, stored_int
from playbooks.schema import Playbook

MAX_SCORE: Final = 100.0  # the scale of every score
ATTENTION: Final = ("volume", "velocity", "engagement", "reprints")  # the parts attention sums


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
    return _decay(micros(now) - micros(when), half_life.total_seconds())


def _decay(age: int, half_life_seconds: float) -> float:
    """:func:`decay` of an age in microseconds: the same float, for summaries that keep instants as integers."""
    return float(0.5 ** (max(age / PER_SECOND, 0.0) / half_life_seconds))


def saturate(x: float, cap: float, half: float) -> float:
    """cap · x / (x + half): grows fast at first, never exceeds cap."""
    return cap * x / (x + half) if x > 0 else 0.0


def _weight(playbook: Playbook, name: str) -> float:
    return float(playbook.heat.weights.get(name, 1.0))


def heat_score(inputs: HeatInputs, now: dt.datetime, playbook: Playbook) -> HeatScore:
    """Score an event; see the module docstring for the formula."""
    _check_rumour(inputs.rumour_probability)
    return score_sums(heat_sums(inputs.mentions, now, playbook), inputs.category, inputs.rumour_probability,
                      playbook, inputs.clarification_hosts)


def heat_sums(mentions: Iterable[Mention], now: dt.datetime, playbook: Playbook) -> dict[str, float]:
    """V, R, E and P of the module docstring: the attention sums before they saturate."""
    policy = playbook.heat
    half_life = policy.half_life.total_seconds()
    window = span(policy.velocity_window)
    at = micros(now)
    sums = dict.fromkeys(ATTENTION, 0.0)
    for m in mentions:
        w = playbook.source_weights.weight(m.host)
        age = at - micros(m.when)
        d = _decay(age, half_life)
        sums["volume"] += w * d
        if 0 <= age <= window:
            sums["velocity"] += w
        sums["engagement"] += d * math.log1p(max(m.engagement, 0))
        if m.is_reprint:
            sums["reprints"] += w * d
    return sums


def _check_rumour(p: float) -> None:
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"rumour probability must be within [0, 1], got {p!r}")


def score_sums(raw: Mapping[str, float], category_name: str, rumour_probability: float, playbook: Playbook,
               clarification_hosts: Sequence[str | None] = ()) -> HeatScore:
    """The score from the attention sums (:func:`heat_sums`, or a :class:`HeatState`'s) and the risk."""
    _check_rumour(rumour_probability)
    policy = playbook.heat
    sw = playbook.source_weights
    parts = []
    attention = 0.0
    for name in ATTENTION:
        value = raw[name]
        points = _weight(playbook, name) * saturate(value, policy.caps[name], policy.halves[name])
        attention += points
        parts.append(HeatPart(name, round(value, 3), round(points, 2), f"{value:.2f} weighted, decayed",
                              {"value": round(value, 2)}))
    category = playbook.categories.get(category_name) or playbook.categories[playbook.fallback_category]
    sensitivity = category.sensitivity
    parts.append(
        HeatPart(
            "sensitivity",
            sensitivity,
            round(attention * (sensitivity - 1.0), 2),
            f"{category_name} ×{sensitivity:g} on attention {attention:.1f}",
            {"category": category_name, "factor": sensitivity, "attention": round(attention, 1)},
        )
    )
    reach = sum(sw.weight(h) for h in clarification_hosts)
    remaining = 1.0 / (1.0 + _weight(playbook, "clarification") * reach / policy.reach_half)
    risk_before = _weight(playbook, "rumour") * policy.rumour_cap * rumour_probability
    risk = risk_before * remaining
    parts.append(
        HeatPart(
            "rumour", rumour_probability, round(risk_before, 2), f"p={rumour_probability:.2f}",
            {"p": round(rumour_probability, 2)},
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


class _Held(NamedTuple):
    """A mention as a :class:`HeatState` holds it one by one."""

    when: int  # microseconds since the epoch
    weight: float
    engagement: int
    is_reprint: bool


@dataclass
class HeatState:
    """An event's attention sums carried from batch to batch: each new mention is added once, and the
    state scores at any later time what :func:`heat_score` would over every mention added.

    Volume, engagement and reprints decay as 0.5 ** (Δt / half_life), so the mentions older than the
    velocity window are *folded* into three sums valued at ``ref`` and decayed when read. Newer ones
    are held one by one: velocity counts them, and one dated after *now* counts undecayed. Scoring at
    a *now* whose velocity window would reach a folded mention (a clock set back further than the
    window) is refused with :class:`SummaryError`: that needs the sums again from the items.
    """

    half_life: dt.timedelta
    velocity_window: dt.timedelta
    weight: Callable[[str | None], float]  # the playbook's source weight of a host
    ref: int = 0  # microseconds since the epoch at which the folded sums are valued
    folded: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.0])  # volume, engagement, reprints
    folded_latest: int | None = None  # the newest mention folded
    held: list[_Held] = field(default_factory=list)

    @classmethod
    def start(cls, playbook: Playbook) -> HeatState:
        """The state of an event with no mention yet."""
        return cls(playbook.heat.half_life, playbook.heat.velocity_window, playbook.source_weights.weight)

    def add(self, mention: Mention) -> None:
        self.held.append(self._hold(mention))

    def remove(self, mention: Mention) -> None:
        """Take back a mention added before (to add it again with new counts)."""
        gone = self._hold(mention)
        if gone in self.held:
            self.held.remove(gone)
        elif self.folded_latest is not None and gone.when <= self.folded_latest:
            for k, value in enumerate(self._folded_parts(gone, self.ref)):
                self.folded[k] = max(self.folded[k] - value, 0.0)  # no rounding residue below nothing
        else:
            raise SummaryError(f"no mention at {mention.when.isoformat()} was added to take back")

    def covers(self, now: dt.datetime) -> bool:
        """Whether the state can score at *now*: nothing folded lies inside its velocity window."""
        return self.folded_latest is None or self.folded_latest < micros(now) - span(self.velocity_window)

    def sums(self, now: dt.datetime) -> dict[str, float]:
        """V, R, E and P at *now*, as :func:`heat_sums` over every mention added gives them."""
        at = self._covered(now)
        half_life, window = self.half_life.total_seconds(), span(self.velocity_window)
        volume, engagement, reprints = (value * self._carry(at) for value in self.folded)
        velocity = 0.0
        for m in self.held:
            age = at - m.when
            d = _decay(age, half_life)
            volume += m.weight * d
            if 0 <= age <= window:
                velocity += m.weight
            engagement += d * math.log1p(max(m.engagement, 0))
            if m.is_reprint:
                reprints += m.weight * d
        return {"volume": volume, "velocity": velocity, "engagement": engagement, "reprints": reprints}

    def score(self, category: str, rumour_probability: float, now: dt.datetime, playbook: Playbook,
              clarification_hosts: Sequence[str | None] = ()) -> HeatScore:
        """:func:`heat_score` of the mentions added, without reading them again."""
        return score_sums(self.sums(now), category, rumour_probability, playbook, clarification_hosts)

    def settle(self, now: dt.datetime) -> None:
        """Fold the mentions that have left the velocity window at *now*, and value the sums at *now*."""
        at = self._covered(now)
        edge = at - span(self.velocity_window)
        self.folded = [value * self._carry(at) for value in self.folded]
        self.ref = at
        leaving = [m for m in self.held if m.when < edge]
        for m in leaving:
            for k, value in enumerate(self._folded_parts(m, at)):
                self.folded[k] += value
            self.folded_latest = m.when if self.folded_latest is None else max(self.folded_latest, m.when)
        self.held = [m for m in self.held if m.when >= edge]

    def to_data(self) -> dict[str, Any]:
        return {"ref": self.ref, "folded": list(self.folded), "folded_latest": self.folded_latest,
                "held": [[m.when, m.weight, m.engagement, int(m.is_reprint)] for m in self.held]}

    @classmethod
    def from_data(cls, data: Mapping[str, Any], playbook: Playbook) -> HeatState:
        """The state :meth:`to_data` wrote; the caller makes sure it was summed under *playbook*'s values."""
        try:
            state = cls.start(playbook)
            state.ref = stored_int(data["ref"])
            state.folded = [float(v) for v in data["folded"]]
            latest = data["folded_latest"]
            state.folded_latest = None if latest is None else stored_int(latest)
            state.held = [_Held(stored_int(when), float(w), stored_int(e), bool(r)) for when, w, e, r in data["held"]]
        except (KeyError, TypeError, ValueError) as exc:
            raise SummaryError(f"a stored heat state does not read: {exc}") from exc
        if len(state.folded) != 3 or not all(math.isfinite(v) for v in state.folded):
            raise SummaryError(f"a stored heat state holds {state.folded!r} for its three folded sums")
        return state

    def _hold(self, mention: Mention) -> _Held:
        return _Held(micros(mention.when), self.weight(mention.host), mention.engagement, mention.is_reprint)

    def _covered(self, now: dt.datetime) -> int:
        if not self.covers(now):
            raise SummaryError(f"a heat state folded up to {self.folded_latest} µs cannot score at {now.isoformat()}: "
                               "its velocity window reaches folded mentions")
        return micros(now)

    def _carry(self, at: int) -> float:
        """The factor that values the folded sums at *at* instead of at ``ref`` (above 1 going back)."""
        if self.folded_latest is None:
            return 0.0  # nothing folded: every sum is 0, whatever ``ref`` is
        try:
            return float(0.5 ** ((at - self.ref) / PER_SECOND / self.half_life.total_seconds()))
        except OverflowError as exc:
            raise SummaryError(f"a heat state valued at {self.ref} µs cannot be carried back to {at} µs") from exc

    def _folded_parts(self, m: _Held, at: int) -> tuple[float, float, float]:
        """What a mention older than *at* adds to the three folded sums valued at *at*."""
        d = _decay(at - m.when, self.half_life.total_seconds())
        return m.weight * d, d * math.log1p(max(m.engagement, 0)), m.weight * d if m.is_reprint else 0.0

