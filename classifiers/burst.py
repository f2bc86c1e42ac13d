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

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum


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
    stamps = sorted(t for t in times if t <= now)
    window_start = now - policy.window
    baseline_start = window_start - policy.baseline
    k = sum(1 for t in stamps if t > window_start)
    history = [t for t in stamps if baseline_start < t <= window_start]
    is_new = bool(stamps) and stamps[0] > window_start - policy.window
    windows = policy.baseline / policy.window
    if is_new or not stamps:
        expected = policy.prior_rate
    else:
        observed_span = min(window_start - max(stamps[0], baseline_start), policy.baseline)
        span_windows = max(observed_span / policy.window, 1.0) if observed_span > dt.timedelta(0) else windows
        expected = max(len(history) / span_windows, policy.prior_rate / windows)
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
