"""Burst detection: is an event suddenly getting more items than it usually does?

For an event with item times ``t_i``, count the items in the last ``window``
(k) and estimate the event's own baseline rate from the ``baseline`` span
before it (λ per window; an event younger than its baseline uses
``prior_rate``, the typical rate of a quiet topic). Under "nothing changed"
k ~ Poisson(λ), so the one-sided p-value is P(X ≥ k) = poisson.sf(k − 1, λ).

Signals:
- ``new``: the event started within the window + baseline span has no history
  and it already reaches ``min_count`` items with p < ``alpha`` (new hot topic);
- ``rising``: p < ``alpha``, k ≥ ``min_count`` and k/λ ≥ ``min_ratio``;
- ``steady`` otherwise.
"""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from classifiers.errors import SummaryError
from classifiers.instants import micros, span, stored_int


class BurstKind(str, Enum):
    new = "new"
    rising = "rising"
    steady = "steady"


@dataclass(frozen=True)
class BurstPolicy:
    """Windows and thresholds; validated on construction."""

    window: dt.timedelta = dt.timedelta(hours=1)
    baseline: dt.timedelta = dt.timedelta(hours=24)
    alpha: float = 0.01
    min_count: int = 5
    min_ratio: float = 2.0
    prior_rate: float = 0.5  # items per window of a quiet topic

    def __post_init__(self) -> None:
        if self.window <= dt.timedelta(0) or self.baseline <= dt.timedelta(0):
            raise ValueError("burst window and baseline must be positive")
        if not 0.0 < self.alpha < 1.0:
            raise ValueError(f"alpha must be in (0, 1), got {self.alpha!r}")
        if self.min_count < 1 or self.min_ratio < 1.0 or self.prior_rate <= 0:
            raise ValueError("min_count ≥ 1, min_ratio ≥ 1 and prior_rate > 0 are required")


@dataclass(frozen=True)
class BurstSignal:
    """The verdict and the numbers behind it (shown in the alert's why)."""

    kind: BurstKind
    window_count: int
    expected: float
    p_value: float
    ratio: float

    def explain(self) -> str:
        return (
            f"{self.kind.value}: {self.window_count} items in the last window vs {self.expected:.2f} expected "
            f"(×{self.ratio:.1f}, Poisson p={self.p_value:.2g})"
        )


def detect_burst(
    times: Iterable[dt.datetime], now: dt.datetime, policy: BurstPolicy | None = None
) -> BurstSignal:
    """Classify an event's recent activity as new, rising or steady."""
    policy = policy or BurstPolicy()
    at = micros(now)
    stamps = sorted(t for t in map(micros, times) if t <= at)
    window_start = at - span(policy.window)
    baseline_start = window_start - span(policy.baseline)
    k = sum(1 for t in stamps if t > window_start)
    history = sum(1 for t in stamps if baseline_start < t <= window_start)
    return _verdict(k, history, stamps[0] if stamps else None, at, policy)


def _verdict(k: int, history: int, first: int | None, at: int, policy: BurstPolicy) -> BurstSignal:
    """The test on the counts: *k* items in the last window, *history* in the baseline span before it,
    the earliest item at *first* (all instants in microseconds; *first* None when there is none by *at*)."""
    window = span(policy.window)
    window_start = at - window
    baseline_start = window_start - span(policy.baseline)
    is_new = first is not None and first > window_start - window
    windows = policy.baseline / policy.window
    if is_new or first is None:
        expected = policy.prior_rate
    else:
        observed_span = min(window_start - max(first, baseline_start), span(policy.baseline))
        span_windows = max(observed_span / window, 1.0) if observed_span > 0 else windows
        expected = max(history / span_windows, policy.prior_rate / windows)
    from scipy.stats import poisson  # here, not at import: scipy.stats takes a second to load

    p_value = float(poisson.sf(k - 1, expected)) if k > 0 else 1.0
    ratio = k / expected
    significant = p_value < policy.alpha and k >= policy.min_count
    if significant and is_new:
        kind = BurstKind.new
    elif significant and ratio >= policy.min_ratio:
        kind = BurstKind.rising
    else:
        kind = BurstKind.steady
    return BurstSignal(kind, k, round(expected, 4), p_value, round(ratio, 2))


@dataclass
class BurstTimes:
    """An event's item times as the burst test reads them, kept from batch to batch.

    The test at *now* counts the items of the last window and of the baseline span before it, and
    reads the earliest item; so a time older than both spans is let go, and only the earliest one
    let go is kept. :meth:`detect` equals :func:`detect_burst` over every time added while nothing let
    go lies inside the spans of its *now*; a clock set back further refuses with :class:`SummaryError`.
    """

    kept: list[int] = field(default_factory=list)  # sorted, microseconds since the epoch
    floor: int | None = None  # the earliest time let go
    let_go_latest: int | None = None  # the newest time let go

    @property
    def empty(self) -> bool:
        return not self.kept and self.floor is None

    def add(self, when: dt.datetime) -> None:
        bisect.insort(self.kept, micros(when))

    def covers(self, now: dt.datetime, policy: BurstPolicy) -> bool:
        """Whether :meth:`detect` can judge at *now*: every time let go is before both spans."""
        return self.let_go_latest is None or self.let_go_latest <= micros(now) - span(policy.window + policy.baseline)

    def detect(self, now: dt.datetime, policy: BurstPolicy) -> BurstSignal:
        """:func:`detect_burst` over every time added, counting by bisection instead of reading them all."""
        if not self.covers(now, policy):
            raise SummaryError(f"burst times let go up to {self.let_go_latest} µs cannot judge at {now.isoformat()}")
        at = micros(now)
        window_start = at - span(policy.window)
        baseline_start = window_start - span(policy.baseline)
        by_now = bisect.bisect_right(self.kept, at)
        in_window = bisect.bisect_right(self.kept, window_start)
        in_baseline = bisect.bisect_right(self.kept, baseline_start)
        firsts = [t for t in (self.floor, self.kept[0] if by_now else None) if t is not None]
        return _verdict(by_now - in_window, in_window - in_baseline, min(firsts, default=None), at, policy)

    def let_go(self, now: dt.datetime, policy: BurstPolicy) -> None:
        """Drop the times no test at *now* or later reads (the earliest one stays as ``floor``)."""
        cut = bisect.bisect_right(self.kept, micros(now) - span(policy.window + policy.baseline))
        if cut:
            gone, self.kept = self.kept[:cut], self.kept[cut:]
            self.floor = gone[0] if self.floor is None else min(self.floor, gone[0])
            self.let_go_latest = gone[-1] if self.let_go_latest is None else max(self.let_go_latest, gone[-1])

    def to_data(self) -> dict[str, Any]:
        """The kept times as the first and then each one's step from the one before: a hot event keeps
        thousands, and steps of seconds are half as long in JSON as instants are."""
        steps = [b - a for a, b in itertools.pairwise(self.kept)]
        return {"kept": self.kept[:1] + steps, "floor": self.floor, "let_go_latest": self.let_go_latest}

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> BurstTimes:
        try:
            steps = list(data["kept"])
            if not all(type(t) is int for t in steps):  # what stored_int checks, without a call per time
                raise ValueError("a kept time is not an integer")
            floor, latest = (None if data[k] is None else stored_int(data[k]) for k in ("floor", "let_go_latest"))
        except (KeyError, TypeError, ValueError) as exc:
            raise SummaryError(f"stored burst times do not read: {exc}") from exc
        if any(step < 0 for step in steps[1:]):
            raise SummaryError("stored burst times are out of order")
        return cls(list(itertools.accumulate(steps)), floor, latest)

