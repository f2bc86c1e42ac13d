from __future__ import annotations

import datetime as dt

import pytest

from classifiers.burst import BurstKind, BurstPolicy, detect_burst

NOW = dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.UTC)


def hours_ago(*values: float) -> list[dt.datetime]:
    return [NOW - dt.timedelta(hours=h) for h in values]


def test_new_hot_topic() -> None:
    signal = detect_burst(hours_ago(*[i / 60 for i in range(12)]), NOW)
    assert signal.kind is BurstKind.new
    assert signal.window_count == 12 and signal.p_value < 0.01


def test_rising_against_own_baseline() -> None:
    baseline = hours_ago(*range(2, 26))  # one item an hour for a day
    recent = hours_ago(*[i / 20 for i in range(10)])
    signal = detect_burst(baseline + recent, NOW)
    assert signal.kind is BurstKind.rising
    assert signal.expected == pytest.approx(1.0, abs=0.1)
    assert signal.ratio >= 2


def test_steady_when_rate_is_usual() -> None:
    busy = hours_ago(*[i / 10 for i in range(240)])  # ten an hour, all day
    assert detect_burst(busy, NOW).kind is BurstKind.steady


def test_few_items_are_not_a_burst() -> None:
    assert detect_burst(hours_ago(0.1, 0.2), NOW).kind is BurstKind.steady
    assert detect_burst([], NOW).kind is BurstKind.steady


def test_future_items_are_ignored() -> None:
    future = [NOW + dt.timedelta(minutes=m) for m in range(1, 20)]
    assert detect_burst(future, NOW).window_count == 0


def test_policy_validates() -> None:
    with pytest.raises(ValueError, match="positive"):
        BurstPolicy(window=dt.timedelta(0))
    with pytest.raises(ValueError, match="alpha"):
        BurstPolicy(alpha=2)


def test_explain_mentions_numbers() -> None:
    text = detect_burst(hours_ago(*[i / 60 for i in range(12)]), NOW).explain()
    assert "12 items" in text and "Poisson" in text
