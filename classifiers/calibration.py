"""Choosing the alert threshold from data: replay events with their own times and engagement.

Pure: replay events in, alerts per day and the chosen threshold out. An event alerts the
first time its heat (:func:`classifiers.heat.heat_score`, the formula the service uses)
reaches the threshold, judged at each of its mentions and reactions as they arrive.
Events that always alert (an emergency, a 疑似谣言 with reach) are counted beside the
budget, not against the threshold: they alert whatever it is, so no threshold can trade
them away.

:func:`choose_threshold` returns the smallest threshold whose busiest day of threshold
alerts stays within a budget (``heat.alert_budget_per_day`` for the alert threshold,
``heat.major_budget_per_day`` for the major one) on every replayed dataset.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from classifiers.heat import MAX_SCORE, HeatInputs, Mention, heat_score
from playbooks.schema import Playbook


@dataclass(frozen=True)
class Reaction:
    """A repost or comment arriving at *when* (engagement grows as they come)."""

    when: dt.datetime


@dataclass(frozen=True)
class ReplayEvent:
    key: str
    category: str
    mentions: tuple[Mention, ...]
    reactions: tuple[Reaction, ...] = ()
    always_alerts: bool = False  # emergency or 疑似谣言 with reach: alerts whatever the threshold


@dataclass(frozen=True)
class Checkpoint:
    """One moment of an event's life and its heat then."""

    when: dt.datetime
    heat: float


def checkpoints(event: ReplayEvent, playbook: Playbook) -> list[Checkpoint]:
    """The event's heat at each arrival of a mention or reaction, in time order."""
    arrivals = sorted({m.when for m in event.mentions} | {r.when for r in event.reactions})
    out = []
    for now in arrivals:
        engagement = sum(1 for r in event.reactions if r.when <= now)
        seen = [m for m in event.mentions if m.when <= now]
        if not seen:
            continue
        # the reactions seen so far are the first mention's engagement (reposts of that post)
        first = seen[0]
        mentions = [Mention(first.when, first.host, first.engagement + engagement, first.is_reprint), *seen[1:]]
        score = heat_score(HeatInputs(mentions, event.category), now, playbook)
        out.append(Checkpoint(now, score.score))
    return out


@dataclass(frozen=True)
class Replay:
    """The checkpoints of every event of one dataset, computed once, judged for many thresholds."""

    name: str
    events: Mapping[str, list[Checkpoint]]
    always: frozenset[str] = field(default_factory=frozenset)

    def alerts_per_day(self, threshold: float, tz: dt.tzinfo, *, with_always: bool = False) -> Counter[dt.date]:
        """Alerts by local day: the threshold's own, plus the always-alerting events if asked."""
        days: Counter[dt.date] = Counter()
        for key, points in self.events.items():
            if key in self.always:
                when = points[0].when if with_always and points else None
            else:
                when = next((p.when for p in points if p.heat >= threshold), None)
            if when is not None:
                days[when.astimezone(tz).date()] += 1
        return days

    def busiest(self, threshold: float, tz: dt.tzinfo, *, with_always: bool = False) -> tuple[dt.date | None, int]:
        """The day with most alerts and their number ((None, 0) when nothing alerts)."""
        days = self.alerts_per_day(threshold, tz, with_always=with_always)
        if not days:
            return None, 0
        day, count = days.most_common(1)[0]
        return day, count

    def max_heat(self) -> float:
        return max((p.heat for points in self.events.values() for p in points), default=0.0)


def replay(name: str, events: Iterable[ReplayEvent], playbook: Playbook) -> Replay:
    evs = list(events)
    return Replay(name, {e.key: checkpoints(e, playbook) for e in evs},
                  frozenset(e.key for e in evs if e.always_alerts))


def choose_threshold(replays: Sequence[Replay], budget: int, tz: dt.tzinfo, *,
                     step: float = 0.5, floor: float = 0.0) -> float:
    """The smallest threshold ≥ *floor* (a multiple of *step*) whose busiest day of threshold alerts
    stays within *budget* on every replay. 100 (the top of the scale) always meets it."""
    value = floor
    while value < MAX_SCORE:
        if all(r.busiest(value, tz)[1] <= budget for r in replays):
            return value
        value = round(value + step, 6)
    return MAX_SCORE
