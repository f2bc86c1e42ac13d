from __future__ import annotations

import datetime as dt
import json
import random

import pytest

from classifiers.burst import BurstKind, BurstPolicy, BurstTimes, detect_burst
from classifiers.errors import SummaryError
from classifiers.instants import micros

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


# -- the running times: the same verdict as detect_burst over every time ---------------------------

def roundtrip(times: BurstTimes) -> BurstTimes:
    return BurstTimes.from_data(json.loads(json.dumps(times.to_data())))


@pytest.mark.parametrize("seed", range(6))
def test_times_carried_across_batches_judge_as_detect_burst_over_every_time(seed: int) -> None:
    rng = random.Random(seed)
    policy = BurstPolicy()
    held, every = BurstTimes(), []
    now = NOW
    for _ in range(60):
        now += dt.timedelta(minutes=rng.choice((1, 10, 45, 180, 600)), microseconds=rng.randint(0, 999_999))
        for _ in range(rng.choice((0, 1, 2, 8, 30))):  # quiet spells and bursts, some a little ahead of now
            when = now + dt.timedelta(microseconds=rng.randint(-3 * 3600 * 10**6, 120 * 10**6))
            held.add(when)
            every.append(when)
            assert held.detect(now, policy) == detect_burst(every, now, policy)
        held.let_go(now, policy)
        held = roundtrip(held)
    assert held.floor == micros(min(every)) and len(held.kept) < len(every)


def test_times_let_go_refuse_a_time_whose_spans_reach_them() -> None:
    policy = BurstPolicy()
    every = hours_ago(0.2, 0.5, 3, 30, 40)
    held = BurstTimes()
    for when in every:
        held.add(when)
    held.let_go(NOW, policy)
    assert held.floor == micros(every[-1]) and len(held.kept) == 3
    earlier = NOW - dt.timedelta(hours=4)  # 30 hours ago is still before its window and baseline
    assert held.detect(earlier, policy) == detect_burst(every, earlier, policy)
    with pytest.raises(SummaryError, match="cannot judge"):
        held.detect(NOW - dt.timedelta(hours=6), policy)


@pytest.mark.parametrize("data", [{}, {"kept": [3, -1], "floor": None, "let_go_latest": None},
                                  {"kept": [1.5], "floor": None, "let_go_latest": None},
                                  {"kept": [], "floor": True, "let_go_latest": None}])
def test_stored_times_that_do_not_read_are_refused(data: dict[str, object]) -> None:
    with pytest.raises(SummaryError):
        BurstTimes.from_data(data)


def test_times_on_the_edges_of_the_spans_count_where_detect_burst_counts_them() -> None:
    policy = BurstPolicy()
    every = [*hours_ago(0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 25, 25, 25)]  # now, the window's start, the baseline's
    held = BurstTimes()
    for when in every:
        held.add(when)
    for now in (NOW, NOW + dt.timedelta(hours=1), NOW - dt.timedelta(microseconds=1)):
        assert held.detect(now, policy) == detect_burst(every, now, policy)
