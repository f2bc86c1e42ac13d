"""Spread: both curves, coverage, residual risk, and closing an answered rumour."""

from __future__ import annotations

import datetime as dt

from responders_support import event, item, local, source

from responders import clarifications, spread
from responders.cases import Actor
from responders.spread import Contribution

NOW = local(2026, 11, 23, 10, 0)
H = dt.timedelta(hours=1)


def test_buckets_accumulate_both_curves():
    grid = spread.buckets([Contribution(NOW, 2.0), Contribution(NOW + 90 * dt.timedelta(minutes=1), 1.0)],
                          [Contribution(NOW + 2 * H, 4.0)], NOW, NOW + 3 * H, H)
    assert [b.rumour for b in grid] == [2.0, 1.0, 0.0]
    assert [b.clarification_total for b in grid] == [0.0, 0.0, 4.0]
    assert grid[-1].coverage == 4.0 / 3.0


def test_coverage_risk_and_closing(playbook):
    policy = playbook.spread
    assert spread.coverage(1.0, 0.0) is None
    assert spread.risk(80.0, None) == 80.0
    assert spread.risk(80.0, 0.5) == 40.0 < spread.risk(80.0, 0.25)
    assert spread.risk(80.0, 3.0) == 0.0
    full = policy.coverage_threshold
    assert not spread.closable(full * 0.9, NOW - policy.quiet_period * 2, NOW, policy)
    assert not spread.closable(full, NOW - policy.quiet_period / 2, NOW, policy)
    assert spread.closable(full, NOW - policy.quiet_period, NOW, policy)


def test_item_reach_uses_site_weight_and_engagement(playbook):
    p = playbook.spread
    assert (
        spread.item_reach(0.5, 10, 5, 20, p) == 0.5 + 10 * p.repost_weight + 5 * p.comment_weight + 20 * p.like_weight
    )


def test_answered_rumour_closes_after_quiet_period(session, playbook):
    ev = event(session, "网传长春地铁停运", NOW)
    weibo = source(session, "weibo.com", weight_class="major")
    small = source(session, "bbs.small.cn")
    item(session, small, "网传长春地铁明天全线停运", NOW, event=ev, reposts=3)
    gov = source(session, "www.changchun.gov.cn", department="长春市政府")
    text = "长春市交通运输局：网传地铁明日全线停运消息不实，地铁各线路正常运营，请市民以官方发布为准。"
    row = clarifications.submit(session, ev, "长春市政府", text, Actor("联络员"), NOW + H)
    clarifications.approve(session, row.id, Actor("值班员"), NOW + H)
    own = item(session, gov, text, NOW + H)
    item(session, weibo, "转发：" + text, NOW + 2 * H, reposts=10)
    clarifications.track(session, row, playbook, NOW + 3 * H)
    s = spread.event_spread(session, ev, playbook, NOW + 3 * H)
    assert s.rumour_total == 0.5 + 3 * playbook.spread.repost_weight
    assert s.clarification_total > s.rumour_total and s.risk == 0.0
    assert own.id and s.buckets[0].rumour_total == s.rumour_total
    assert not s.closable  # the rumour's last item is only 3 hours old
    assert spread.close_answered(session, playbook, NOW + 3 * H) == []
    later = NOW + playbook.spread.quiet_period + H
    closed = spread.close_answered(session, playbook, later)
    assert [c.event_id for c in closed] == [ev.id] and (ev.status, ev.closed_at) == ("closed", later)
