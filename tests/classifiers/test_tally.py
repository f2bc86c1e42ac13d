"""An event's running summary reads what the full pass over its items reads: heat, category, rumour, burst."""

from __future__ import annotations

import datetime as dt
import json
import math
import random
from collections import Counter

import pytest

from classifiers.errors import SummaryError
from classifiers.heat import HeatInputs, Mention, heat_score
from classifiers.signals import burst_signal
from classifiers.tally import EventTally, Member, TallyBasis
from playbooks.schema import Playbook

NOW = dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.UTC)
CATEGORIES = ("交通", "医疗", "拆迁", None)


def roundtrip(tally: EventTally) -> EventTally:
    return EventTally.from_data(json.loads(json.dumps(tally.to_data())), tally.basis)


def member(rng: random.Random, now: dt.datetime) -> Member:
    when = now - dt.timedelta(microseconds=rng.randint(0, 5 * 3600 * 10**6))
    mention = Mention(when, rng.choice(("news.cn", "bbs.example.cn", None)), rng.choice((0, 12, 900)))
    return Member(mention, rng.choice(CATEGORIES), rng.choice((None, 0.1, 0.7, rng.random())))


def full_pass(members: list[Member], now: dt.datetime, playbook: Playbook) -> tuple[str | None, float, float]:
    """What the monitor read from every item before summaries were kept: category, rumour, score."""
    categories = Counter(m.category for m in members if m.category)
    category = categories.most_common(1)[0][0] if categories else None
    rumour = max((m.rumour_probability or 0.0 for m in members), default=0.0)
    inputs = HeatInputs([m.mention for m in members], category or playbook.fallback_category, rumour)
    return category, rumour, heat_score(inputs, now, playbook).score


@pytest.mark.parametrize("seed", range(6))
def test_a_summary_carried_across_batches_reads_what_a_pass_over_every_item_reads(
        playbook: Playbook, seed: int) -> None:
    rng = random.Random(seed)
    tally, every = EventTally.start(TallyBasis.of(playbook)), []
    now = NOW
    for _ in range(30):
        now += dt.timedelta(minutes=rng.choice((1, 20, 120)), microseconds=rng.randint(0, 999_999))
        for _ in range(rng.randint(1, 10)):
            arriving = member(rng, now)
            tally.add(arriving)
            every.append(arriving)
            assert tally.burst_signal(now) == burst_signal([m.mention.when for m in every], now, playbook)
        category, rumour, score = full_pass(every, now, playbook)
        assert (tally.count, tally.category(), tally.rumour) == (len(every), category, rumour)
        assert math.isclose(tally.score(category or playbook.fallback_category, now).score, score, abs_tol=0.01)
        tally.settle(now)
        tally = roundtrip(tally)


def test_equally_common_categories_go_to_the_first_seen_as_counter_does(playbook: Playbook) -> None:
    tally = EventTally.start(TallyBasis.of(playbook))
    for category in ("医疗", "交通", "交通", "医疗", None):
        tally.add(Member(Mention(NOW), category))
    assert tally.category() == "医疗" == Counter(["医疗", "交通", "交通", "医疗"]).most_common(1)[0][0]


def test_a_revised_member_is_read_with_its_new_counts_and_probability(playbook: Playbook) -> None:
    tally = EventTally.start(TallyBasis.of(playbook))
    members = [Member(Mention(NOW - dt.timedelta(hours=h), "news.cn", 10), "交通", 0.3) for h in (0, 2, 5)]
    for m in members:
        tally.add(m)
    tally.settle(NOW)
    raised = Member(Mention(members[2].mention.when, "bbs.example.cn", 5000), "交通", 0.8)  # a folded one
    tally.revise(members[2], raised)
    members[2] = raised
    assert tally.rumour == 0.8
    assert math.isclose(tally.score("交通", NOW).score, full_pass(members, NOW, playbook)[2], abs_tol=0.01)
    with pytest.raises(SummaryError, match="went down"):  # the highest one lowered: the next is not kept
        tally.revise(raised, Member(raised.mention, "交通", 0.1))


def test_a_summary_of_other_playbook_values_or_another_version_is_refused(playbook: Playbook) -> None:
    tally = EventTally.start(TallyBasis.of(playbook))
    tally.add(Member(Mention(NOW), "交通"))
    data = tally.to_data()
    shorter = playbook.model_copy(update={"heat": playbook.heat.model_copy(
        update={"half_life": playbook.heat.half_life / 2})})
    with pytest.raises(SummaryError, match="other playbook values"):
        EventTally.from_data(data, TallyBasis.of(shorter))
    with pytest.raises(SummaryError, match="another version"):
        EventTally.from_data({**data, "version": 0}, tally.basis)
    with pytest.raises(SummaryError, match="does not read"):
        EventTally.from_data({**data, "count": "3"}, tally.basis)
    assert EventTally.from_data(data, TallyBasis.of(playbook)).count == 1  # the same values: the same key
