"""The alert-threshold replay: alerts per day, always-alerting events beside the budget, the choice."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from classifiers.calibration import Reaction, ReplayEvent, choose_threshold, replay
from classifiers.heat import HeatInputs, Mention, heat_score

TZ = ZoneInfo("Asia/Shanghai")
DAY = dt.datetime(2026, 3, 2, 9, tzinfo=TZ)


def _busy_event(key: str, start: dt.datetime, mentions: int) -> ReplayEvent:
    """An event with *mentions* items from an unlisted site, one every ten minutes."""
    return ReplayEvent(key, "教育", tuple(Mention(start + dt.timedelta(minutes=10 * i)) for i in range(mentions)))


def test_an_event_alerts_once_on_the_day_its_heat_first_reaches_the_threshold(playbook) -> None:
    r = replay("t", [_busy_event("a", DAY, 6)], playbook)
    peak = r.max_heat()
    assert r.alerts_per_day(peak, TZ) == {DAY.date(): 1}
    assert sum(r.alerts_per_day(peak + 0.1, TZ).values()) == 0


def test_reactions_raise_the_heat_as_they_arrive(playbook) -> None:
    post = ReplayEvent("p", "拆迁", (Mention(DAY, "weibo.com"),),
                       tuple(Reaction(DAY + dt.timedelta(minutes=m)) for m in range(1, 50)))
    points = replay("t", [post], playbook).events["p"]
    assert points[-1].heat > points[0].heat


def test_always_alerting_events_count_only_when_asked_and_never_against_the_threshold(playbook) -> None:
    quiet = ReplayEvent("e", "其他", (Mention(DAY),), always_alerts=True)
    r = replay("t", [quiet], playbook)
    assert sum(r.alerts_per_day(99, TZ).values()) == 0
    assert r.alerts_per_day(99, TZ, with_always=True) == {DAY.date(): 1}


def test_the_chosen_threshold_is_the_smallest_within_budget_on_every_replay(playbook) -> None:
    busy = replay("busy", [_busy_event(f"b{i}", DAY + dt.timedelta(minutes=i), 3 + i) for i in range(5)], playbook)
    calm = replay("calm", [_busy_event("c", DAY, 2)], playbook)
    chosen = choose_threshold([busy, calm], budget=2, tz=TZ, step=0.5)
    assert busy.busiest(chosen, TZ)[1] <= 2
    assert busy.busiest(chosen - 0.5, TZ)[1] > 2
    assert choose_threshold([busy], budget=5, tz=TZ, floor=chosen) == chosen


def test_one_major_site_item_on_a_sensitive_category_alerts_on_the_default_playbook(playbook) -> None:
    now = dt.datetime.now(dt.UTC)
    major = playbook.source_weights.major_hosts[0]
    assert heat_score(HeatInputs([Mention(now, major)], "教育"), now, playbook).score >= playbook.heat.alert_threshold
    assert heat_score(HeatInputs([Mention(now, None)], "其他"), now, playbook).score < playbook.heat.alert_threshold
    assert playbook.heat.major_threshold >= playbook.heat.alert_threshold
