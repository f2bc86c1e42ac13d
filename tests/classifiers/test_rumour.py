from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from classifiers.errors import DataError
from classifiers.features import reaction_text, spread_numbers, within
from classifiers.rumour import (
    VERDICT_CLEAR,
    VERDICT_RUMOUR,
    VERDICT_VERIFY,
    RumourModel,
    parse_label,
    verdict,
)
from playbooks.schema import Playbook, RumourPolicy

POLICY = RumourPolicy(verify_low=0.35, verify_high=0.65)


@pytest.mark.parametrize(
    ("p", "expected"),
    [
        (0.0, VERDICT_CLEAR),
        (0.3499, VERDICT_CLEAR),
        (0.35, VERDICT_VERIFY),
        (0.6499, VERDICT_VERIFY),
        (0.65, VERDICT_RUMOUR),
        (1.0, VERDICT_RUMOUR),
    ],
)
def test_verdict_band(p: float, expected: str) -> None:
    assert verdict(p, POLICY) == expected


def test_verdict_band_follows_playbook(playbook: Playbook) -> None:
    narrow = RumourPolicy(verify_low=0.5, verify_high=0.5)
    assert verdict(0.49, narrow) == VERDICT_CLEAR and verdict(0.5, narrow) == VERDICT_RUMOUR
    assert verdict(playbook.rumour.verify_low, playbook.rumour) == VERDICT_VERIFY


def test_verdict_rejects_non_probability() -> None:
    with pytest.raises(ValueError, match="within"):
        verdict(1.5, POLICY)


@pytest.mark.parametrize("value", ["rumour", "fake", "谣言", "1", "true", 1, True, " Rumour "])
def test_positive_labels(value: Any) -> None:
    assert parse_label(value) == 1


@pytest.mark.parametrize("value", ["non-rumour", "real", "0", "false", 0, False])
def test_negative_labels(value: Any) -> None:
    assert parse_label(value) == 0


def test_unknown_label_names_file_and_line() -> None:
    with pytest.raises(DataError, match=r"^data\.jsonl:7: unknown rumour label 'maybe'"):
        parse_label("maybe", source="data.jsonl", line=7)


POST = {
    "text": "网传某地自来水有毒",
    "time": "2020-02-01 10:00",
    "user": {"verified": True, "followers": 999},
    "reposts": [
        {"text": "谣言吧？//@someone: 转发", "time": "2020-02-01 10:30:00"},
        {"text": "", "time": "2020-02-01 10:40:00"},
        {"text": "求证", "time": "2020-02-01 15:00:00"},
        {"text": "已辟谣", "time": "2020-02-03 10:00:00"},
    ],
}


def test_within_keeps_only_early_reactions() -> None:
    assert len(within(POST, 1)["reposts"]) == 2
    assert len(within(POST, 6)["reposts"]) == 3
    assert len(within(POST, None)["reposts"]) == 4
    assert (
        within({"text": "x", "reposts": [{"text": "a", "time": "2020-01-01 00:00:00"}]}, 1)["reposts"] == []
    )


def test_spread_numbers() -> None:
    velocity, doubt_share, doubt_any, verified, followers = spread_numbers(POST)
    assert velocity == pytest.approx(np.log1p(4 / 48))  # 4 reactions over two days
    assert doubt_share == pytest.approx(1.0) and doubt_any == 1.0  # every non-empty reaction doubts
    assert verified == 1.0 and followers == pytest.approx(np.log1p(999))


def test_missing_user_is_nan_not_zero() -> None:
    numbers = spread_numbers({"text": "x", "user": {"uid": "1"}})
    assert numbers[:3] == [0.0, 0.0, 0.0]
    assert all(np.isnan(numbers[3:]))


def test_reaction_text_drops_repost_chain_and_mentions() -> None:
    text = reaction_text(POST)
    assert "someone" not in text and "谣言吧" in text


def test_model_separates_rumours(rumour_model: RumourModel, subset: Any) -> None:

    unseen = subset("weibo-rumours", 120, seed=9)
    y = np.array([parse_label(r["label"]) for r in unseen])
    p = rumour_model.predict_proba(unseen)
    assert ((p >= 0.5) == (y == 1)).mean() > 0.7


def test_classify_gives_verdict_matching_probability(rumour_model: RumourModel) -> None:
    results = rumour_model.classify([POST, {"text": "今天天气不错，市政府召开新闻发布会"}])
    for r in results:
        assert 0.0 <= r.probability <= 1.0
        assert r.verdict == verdict(r.probability, rumour_model.policy)
