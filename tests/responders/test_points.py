"""Points ledger (2006 §四): amounts from the playbook, idempotent rows, rankings without unranked units."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from monitor.store.models import PointsEntry, Reprint
from responders import periods, points
from responders.errors import BadCommand, UnknownDepartment
from responders.points import Reason

from loop_support import CST, assignment, at, event, item, session, source, store  # noqa: F401

NOW = at(2026, 11, 23, 10, 0)


def test_amounts_come_from_the_playbook(playbook):
    assert points.amount(Reason.adopted, playbook) == playbook.points.adopted == 5
    assert points.amount(Reason.special_or_interview, playbook) == 30
    assert points.amount(Reason.digest_leader_instruction, playbook) == 6
    assert points.amount(Reason.false_information, playbook) == playbook.points.deductions.false_information < 0


def test_award_is_idempotent_per_item(session, playbook):
    src = source(session, "www.ccgov.cn", department="长春市政府")
    it = item(session, src, "长春市出台新措施", NOW)
    first = points.award_manual(session, playbook, "长春市政府", Reason.adopted, now=NOW, who="duty", item_id=it.id)
    again = points.award_manual(session, playbook, "长春市政府", Reason.adopted, now=NOW, who="duty", item_id=it.id)
    assert first is not None and first.points == 5 and again is None
    assert session.scalar(select(func.count()).select_from(PointsEntry)) == 1


def test_manual_award_needs_an_anchor_and_a_known_department(session, playbook):
    with pytest.raises(BadCommand):
        points.award_manual(session, playbook, "长春市政府", Reason.video, now=NOW, who="duty")
    with pytest.raises(BadCommand):
        points.award_manual(session, playbook, "长春市政府", Reason.reprint_major, now=NOW, who="d", ref="x")
    with pytest.raises(UnknownDepartment):
        points.award_manual(session, playbook, "不存在的厅", Reason.video, now=NOW, who="duty", ref="稿件-1")


def test_reprints_of_a_departments_item_score_by_site(session, playbook):
    own = source(session, "www.ccgov.cn", department="长春市政府")
    major = source(session, "news.cn", weight_class="major")
    other = source(session, "bbs.small.cn")
    original = item(session, own, "长春市公布冬季供暖保障措施", NOW)
    for i, src in enumerate((major, other)):
        copy = item(session, src, "长春市公布冬季供暖保障措施", NOW + dt.timedelta(hours=i + 1))
        weight = playbook.source_weights.weight(src.host, src.weight_class)  # as the pipeline records it
        session.add(Reprint(original_id=original.id, reprint_id=copy.id, host=src.host, weight=weight,
                            method="near_duplicate", detected_at=NOW))
    session.flush()
    added = points.award_reprints(session, playbook, NOW)
    assert sorted(e.points for e in added) == [0.5, 1.0]
    assert points.award_reprints(session, playbook, NOW) == []


def test_missed_deadlines_deducted_once(session, playbook):
    ev = event(session, "某校食堂问题", NOW)
    late = assignment(session, ev, "省教育厅", NOW)
    fine = assignment(session, ev, "长春市政府", NOW, role="co")
    fine.acknowledged_at, fine.acknowledged_on_time = NOW, True
    later = NOW + dt.timedelta(hours=6)
    added = points.deduct_missed_deadlines(session, playbook, later)
    reasons = sorted((e.department_key, e.reason) for e in added)
    assert reasons == [("省教育厅", "missed_acknowledge"), ("省教育厅", "missed_response"),
                       ("长春市政府", "missed_response")]
    assert points.deduct_missed_deadlines(session, playbook, later) == []
    assert late.id  # the late case keeps its row; only the ledger changed


def test_standings_rank_only_ranked_units(session, playbook):
    for dept, reason, ref in [("长春市政府", Reason.adopted, "a"), ("长春市政府", Reason.video, "b"),
                              ("吉林市政府", Reason.adopted, "c"), ("省新闻办", Reason.special_or_interview, "d")]:
        points.award_manual(session, playbook, dept, reason, now=NOW, who="duty", ref=ref)
    quarter = periods.quarter("2026-Q4", CST)
    rows = points.standings(session, quarter)
    by_key = {s.department_key: s for s in rows}
    assert by_key["长春市政府"].points == 15 and by_key["长春市政府"].rank == 1
    assert by_key["吉林市政府"].rank == 2
    assert by_key["省新闻办"].points == 30 and by_key["省新闻办"].rank is None  # 附件3: counted, not ranked
    assert by_key["长春市政府"].yuan(playbook) == 15 * playbook.points.yuan_per_point
    assert points.standings(session, periods.quarter("2026-Q3", CST)) == []
