"""An event's running summary: what its heat, category, rumour probability, size and burst test read
from its items, carried from batch to batch so that a batch adds its own items instead of reading
every member again.

Each figure equals the one read from all the items: :func:`classifiers.heat.heat_score` (within float
rounding), the most common category (the first seen wins a tie), the highest rumour probability, the
count, and :func:`classifiers.burst.detect_burst` at each arrival. The monitor stores the summary on
the event and sums it again from the items when it is missing (an event stored before summaries were
kept), does not read, was summed under other playbook values (:class:`TallyBasis`), or is asked about
an earlier time than it covers; every such case is a :class:`~classifiers.errors.SummaryError`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from classifiers.burst import BurstPolicy, BurstTimes
from classifiers.errors import SummaryError
from classifiers.heat import HeatScore, HeatState, Mention
from classifiers.instants import stored_int
from classifiers.signals import Signal, burst_policy, held_burst_signal
from playbooks.schema import BurstSignals, Playbook

STATE_VERSION: Final = 1  # a summary of another version is summed again


@dataclass(frozen=True)
class Member:
    """One item of an event as its summary reads it."""

    mention: Mention
    category: str | None = None
    rumour_probability: float | None = None


@dataclass(frozen=True)
class TallyBasis:
    """The playbook a summary is summed under, and the key of the values the sums depend on.

    Half-life, velocity window and source weights are inside the folded sums; the burst spans decide
    which times were let go. A summary stored under another key is summed again, so editing the
    playbook never leaves an event scored with the old values.
    """

    playbook: Playbook
    burst: BurstPolicy
    key: str

    @classmethod
    def of(cls, playbook: Playbook) -> TallyBasis:
        rules = playbook.signals.burst if playbook.signals is not None else BurstSignals()
        values = {
            "version": STATE_VERSION,
            "half_life": playbook.heat.half_life.total_seconds(),
            "velocity_window": playbook.heat.velocity_window.total_seconds(),
            "source_weights": playbook.source_weights.model_dump(mode="json"),
            "burst": [rules.window.total_seconds(), rules.baseline.total_seconds()],
        }
        key = hashlib.sha256(json.dumps(values, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:16]
        return cls(playbook, burst_policy(rules), key)


@dataclass
class EventTally:
    """The running summary of one event's items."""

    basis: TallyBasis
    heat: HeatState
    times: BurstTimes = field(default_factory=BurstTimes)
    count: int = 0
    categories: dict[str, int] = field(default_factory=dict)  # members per category, in the order first seen
    rumour: float = 0.0  # the highest member rumour probability

    @classmethod
    def start(cls, basis: TallyBasis) -> EventTally:
        """The summary of an event with no item yet."""
        return cls(basis, HeatState.start(basis.playbook))

    def add(self, member: Member) -> None:
        self.count += 1
        self.heat.add(member.mention)
        self.times.add(member.mention.when)
        if member.category:
            self.categories[member.category] = self.categories.get(member.category, 0) + 1
        self.rumour = max(self.rumour, member.rumour_probability or 0.0)

    def revise(self, before: Member, after: Member) -> None:
        """A member added before has changed (new counts, another address, a rejudged rumour probability).

        Raises :class:`SummaryError` for a change the summary cannot follow: another time or category,
        or the highest rumour probability going down (the next highest is not kept).
        """
        if before.mention.when != after.mention.when or before.category != after.category:
            raise SummaryError("a member's time or category changed: the summary cannot move it")
        if before.mention != after.mention:
            self.heat.remove(before.mention)
            self.heat.add(after.mention)
        was, now = before.rumour_probability or 0.0, after.rumour_probability or 0.0
        if now >= self.rumour:
            self.rumour = now
        elif was >= self.rumour:
            raise SummaryError("the event's highest rumour probability went down: the next highest is not kept")

    def category(self) -> str | None:
        """The most common member category; of equally common ones, the first seen (as Counter.most_common)."""
        return max(self.categories, key=self.categories.__getitem__) if self.categories else None

    def covers(self, now: dt.datetime) -> bool:
        """Whether the summary can score and judge a burst at *now* (a clock set far back cannot)."""
        return self.heat.covers(now) and self.times.covers(now, self.basis.burst)

    def burst_signal(self, now: dt.datetime) -> Signal | None:
        return held_burst_signal(self.times, now, self.basis.playbook)

    def score(self, category: str, now: dt.datetime) -> HeatScore:
        return self.heat.score(category, self.rumour, now, self.basis.playbook)

    def settle(self, now: dt.datetime) -> None:
        """Let go of what no reading at *now* or later needs one by one (before storing the summary)."""
        self.heat.settle(now)
        self.times.let_go(now, self.basis.burst)

    def to_data(self) -> dict[str, Any]:
        return {"version": STATE_VERSION, "basis": self.basis.key, "count": self.count,
                "categories": [[name, n] for name, n in self.categories.items()], "rumour": self.rumour,
                "heat": self.heat.to_data(), "times": self.times.to_data()}

    @classmethod
    def from_data(cls, data: Any, basis: TallyBasis) -> EventTally:
        """The summary :meth:`to_data` wrote, if it was summed under *basis*."""
        if not isinstance(data, Mapping) or data.get("version") != STATE_VERSION:
            raise SummaryError("a stored event summary is of another version")
        if data.get("basis") != basis.key:
            raise SummaryError("a stored event summary was summed under other playbook values")
        try:
            tally = cls(basis, HeatState.from_data(data["heat"], basis.playbook), BurstTimes.from_data(data["times"]),
                        stored_int(data["count"]), {str(name): stored_int(n) for name, n in data["categories"]},
                        float(data["rumour"]))
        except SummaryError:
            raise
        except (KeyError, TypeError, ValueError) as exc:
            raise SummaryError(f"a stored event summary does not read: {exc}") from exc
        if not 0.0 <= tally.rumour <= 1.0:  # NaN too
            raise SummaryError(f"a stored event summary holds the rumour probability {tally.rumour!r}")
        return tally
