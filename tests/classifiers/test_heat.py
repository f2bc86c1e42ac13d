"""One test per heat factor: each moves the score the documented way."""

from __future__ import annotations

import datetime as dt

import pytest

from classifiers.heat import (
    HeatInputs,
    Mention,
    decay,
    heat_score,
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
