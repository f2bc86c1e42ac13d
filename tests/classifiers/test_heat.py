"""One test per heat factor: each moves the score the documented way."""

from __future__ import annotations

import datetime as dt
import json
import math
import random
from dataclasses import replace

import pytest

from classifiers.errors import SummaryError
from classifiers.heat import (
    ATTENTION,
    HeatInputs,
    HeatState,
    Mention,
    decay,
    heat_score,
    heat_sums,
    saturate,
)
from playbooks.schema import Playbook

NOW = dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.UTC)


def mentions(
    n: int, *, hours_ago: float = 3.0, host: str | None = "bbs.example.cn", **kw: object
) -> list[Mention]:
    return [Mention(NOW - dt.timedelta(hours=hours_ago), host, **kw) for _ in range(n)]  # type: ignore[arg-type]


def score(playbook: Playbook, items: list[Mention], category: str = "交通", **kw: object) -> float:
    return heat_score(HeatInputs(items, category, **kw), NOW, playbook).score  # type: ignore[arg-type]


def test_volume(playbook: Playbook) -> None:
    assert score(playbook, mentions(10)) > score(playbook, mentions(2)) > score(playbook, []) == 0.0


def test_velocity(playbook: Playbook) -> None:
    fresh = heat_score(HeatInputs(mentions(5, hours_ago=0.5), "交通"), NOW, playbook)
    stale = heat_score(HeatInputs(mentions(5, hours_ago=2), "交通"), NOW, playbook)
    assert fresh.part("velocity").points > 0 == stale.part("velocity").points


def test_source_weights(playbook: Playbook) -> None:
    assert playbook.source_weights.weight("www.people.com.cn") == 1.0
    assert playbook.source_weights.weight("sub.news.cn") == 1.0
    assert playbook.source_weights.weight("evilnews.cn") == 0.5
    assert playbook.source_weights.weight(None) == 0.5
    major = score(playbook, mentions(4, host="news.cn"))
    other = score(playbook, mentions(4, host="bbs.example.cn"))
    assert major > other


def test_engagement(playbook: Playbook) -> None:
    assert score(playbook, mentions(3, engagement=500)) > score(playbook, mentions(3, engagement=0))


def test_reprints(playbook: Playbook) -> None:
    reprinted = heat_score(HeatInputs(mentions(3, is_reprint=True, host="news.cn"), "交通"), NOW, playbook)
    assert reprinted.part("reprints").raw == pytest.approx(
        3 * decay(NOW - dt.timedelta(hours=3), NOW, playbook.heat.half_life), abs=1e-3
    )
    assert reprinted.score > score(playbook, mentions(3, host="news.cn"))


def test_category_sensitivity(playbook: Playbook) -> None:
    items = mentions(6)
    assert score(playbook, items, "拆迁") > score(playbook, items, "交通") > score(playbook, items, "其他")
    assert score(playbook, items, "不存在的类别") == score(playbook, items, playbook.fallback_category)


def test_rumour_probability(playbook: Playbook) -> None:
    items = mentions(2)
    base = score(playbook, items)
    assert score(playbook, items, rumour_probability=0.9) == pytest.approx(
        base + 0.9 * playbook.heat.rumour_cap, abs=0.02
    )
    with pytest.raises(ValueError, match="within"):
        score(playbook, items, rumour_probability=1.2)


def test_clarification_lowers_only_the_risk(playbook: Playbook) -> None:
    items = mentions(2)
    risky = score(playbook, items, rumour_probability=0.9)
    clarified = heat_score(
        HeatInputs(items, "交通", rumour_probability=0.9, clarification_hosts=["www.gov.cn"] * 10),
        NOW,
        playbook,
    )
    assert clarified.score == pytest.approx(risky - 0.9 * playbook.heat.rumour_cap / 2, abs=0.02)
    assert score(playbook, items, clarification_hosts=["www.gov.cn"]) == score(playbook, items)


def test_time_decay(playbook: Playbook) -> None:
    half = playbook.heat.half_life
    assert decay(NOW - half, NOW, half) == pytest.approx(0.5)
    assert decay(NOW + half, NOW, half) == 1.0
    assert score(playbook, mentions(5, hours_ago=1)) > score(playbook, mentions(5, hours_ago=48))


def test_score_is_capped_and_explained(playbook: Playbook) -> None:
    huge = heat_score(
        HeatInputs(
            mentions(5000, hours_ago=0.1, engagement=10**6, is_reprint=True, host="news.cn"),
            "拆迁",
            rumour_probability=1.0,
        ),
        NOW,
        playbook,
    )
    assert huge.score == 100.0
    text = huge.explain()
    for name in ("volume", "velocity", "engagement", "reprints", "sensitivity", "rumour", "clarification"):
        assert name in text


def test_saturate() -> None:
    assert saturate(10, 25.0, 10) == pytest.approx(12.5)
    assert saturate(0, 25, 10) == 0.0


# -- the running state: the same sums as heat_sums over every mention -------------------------------

HOSTS = ("news.cn", "www.people.com.cn", "bbs.example.cn", None)


def random_mention(rng: random.Random, around: dt.datetime) -> Mention:
    """A mention up to two days before *around* or an hour after it (a clock ahead of ours), to the
    microsecond, with any host, engagement and reprint flag."""
    when = around + dt.timedelta(microseconds=rng.randint(-2 * 86400 * 10**6, 3600 * 10**6))
    return Mention(when, rng.choice(HOSTS), rng.choice((0, 0, 3, 250, 10**5)), rng.random() < 0.3)


def roundtrip(state: HeatState, playbook: Playbook) -> HeatState:
    """The state as the store gives it back: through JSON text."""
    return HeatState.from_data(json.loads(json.dumps(state.to_data())), playbook)


def assert_same_sums(got: dict[str, float], want: dict[str, float]) -> None:
    for name in ATTENTION:
        assert math.isclose(got[name], want[name], rel_tol=1e-9, abs_tol=1e-12), (name, got[name], want[name])


@pytest.mark.parametrize("seed", range(8))
def test_a_state_carried_across_batches_sums_what_heat_sums_over_every_mention(playbook: Playbook, seed: int) -> None:
    rng = random.Random(seed)
    state, every = HeatState.start(playbook), []
    now = NOW
    for _ in range(40):  # batches at increasing times, stored and read back between them
        now += dt.timedelta(seconds=rng.choice((1, 90, 600, 3600, 6 * 3600)), microseconds=rng.randint(0, 999_999))
        for _ in range(rng.randint(0, 12)):
            mention = random_mention(rng, now)
            state.add(mention)
            every.append(mention)
        assert_same_sums(state.sums(now), heat_sums(every, now, playbook))
        score = state.score("拆迁", 0.4, now, playbook)
        assert math.isclose(score.score, heat_score(HeatInputs(every, "拆迁", 0.4), now, playbook).score, abs_tol=0.01)
        state.settle(now)
        state = roundtrip(state, playbook)
    assert state.folded_latest is not None and len(state.held) < len(every)  # most were folded
    later = now + dt.timedelta(days=2)
    assert_same_sums(state.sums(later), heat_sums(every, later, playbook))


@pytest.mark.parametrize("seed", range(4))
def test_a_mention_taken_back_and_added_with_new_counts_is_summed_as_if_it_had_those_counts(
        playbook: Playbook, seed: int) -> None:
    rng = random.Random(seed)
    state, every = HeatState.start(playbook), []
    for k in range(60):
        mention = random_mention(rng, NOW + dt.timedelta(minutes=10 * k))
        state.add(mention)
        every.append(mention)
    now = NOW + dt.timedelta(hours=10)
    state.settle(now)
    for k in rng.sample(range(len(every)), 20):  # folded ones and held ones
        changed = replace(every[k], engagement=every[k].engagement + rng.randint(1, 5000),
                          host=rng.choice(HOSTS))
        state.remove(every[k])
        state.add(changed)
        every[k] = changed
    assert_same_sums(state.sums(now), heat_sums(every, now, playbook))
    with pytest.raises(SummaryError, match="take back"):
        state.remove(Mention(now + dt.timedelta(minutes=5), "news.cn", 7))


def test_a_state_refuses_a_time_whose_velocity_window_reaches_what_it_folded(playbook: Playbook) -> None:
    window = playbook.heat.velocity_window
    every = [Mention(NOW - dt.timedelta(minutes=m), "news.cn", 10) for m in (0, 30, 90, 300, 600)]
    state = HeatState.start(playbook)
    for mention in every:
        state.add(mention)
    state.settle(NOW)
    earlier = NOW - dt.timedelta(minutes=20)  # the newest folded mention (90 minutes ago) is still outside
    assert state.covers(earlier)
    assert_same_sums(state.sums(earlier), heat_sums(every, earlier, playbook))
    too_early = NOW - (dt.timedelta(minutes=90) - window)
    assert not state.covers(too_early)
    with pytest.raises(SummaryError, match="cannot score"):
        state.sums(too_early)


@pytest.mark.parametrize("data", [
    {}, {"ref": 1.5, "folded": [0, 0, 0], "folded_latest": None, "held": []},
    {"ref": 0, "folded": [0, 0], "folded_latest": None, "held": []},
    {"ref": 0, "folded": [0, 0, float("nan")], "folded_latest": None, "held": []},
    {"ref": 0, "folded": [0, 0, 0], "folded_latest": None, "held": [[1, 1.0]]},
])
def test_a_stored_state_that_does_not_read_is_refused(playbook: Playbook, data: dict[str, object]) -> None:
    with pytest.raises(SummaryError):
        HeatState.from_data(data, playbook)


def test_a_mention_on_the_edge_of_the_velocity_window_is_held_until_it_leaves_it(playbook: Playbook) -> None:
    edge = NOW - playbook.heat.velocity_window
    every = [Mention(edge, "news.cn"), Mention(NOW, "news.cn")]
    state = HeatState.start(playbook)
    for mention in every:
        state.add(mention)
    state.settle(NOW)
    assert state.folded_latest is None and state.sums(NOW)["velocity"] == 2.0
    later = NOW + dt.timedelta(microseconds=1)
    state.settle(later)
    assert state.folded_latest is not None
    assert_same_sums(state.sums(later), heat_sums(every, later, playbook))
