"""Points as 2006 §四 writes them: adoption and its bonus, reprints of the adopted item, deductions only
for false or inaccurate information, local rules off by default, every unit in the standings."""

from __future__ import annotations

import datetime as dt

import pytest
from responders_support import SHANGHAI, item, local, source
from sqlalchemy import func, select

from playbooks.schema import LocalPointsRule
from responders import periods, points, submissions
from responders.errors import BadCommand, UnknownDepartment
from responders.points import Reason
from responders.submissions import Bonus
from store.models import PointsEntry, Reprint

NOW = local(2026, 11, 23, 10, 0)
TEXT = "农安县今年新建改建农村公路一百二十公里，群众出行条件明显改善，沿线特色产业同步发展。"


def _adopted(session, playbook, bonus: Bonus | None = None, *, unit: str = "农安县"):
    """A unit's submission adopted with the portal item that published it."""
    portal = source(session, "www.jl.gov.cn", name=f"portal-{unit}")
    published = item(session, portal, TEXT, NOW, title="农安县农村公路建设成效明显", url="https://www.jl.gov.cn/a/1")
    row = submissions.submit(session, unit=unit, title="农安县农村公路建设成效明显", text=TEXT, by="张三", now=NOW)
    submissions.adopt(session, playbook, row.id, who="编辑甲", now=NOW, bonus=bonus, item_id=published.id)
    return row, published


def _reprint(session, playbook, original, host: str, hours: int, *, kind: str = "feed"):
    src = source(session, host, kind=kind)
    copy = item(session, src, TEXT, NOW + dt.timedelta(hours=hours))
    weight = playbook.source_weights.weight(host, src.weight_class)  # as the pipeline records it
    session.add(Reprint(original_id=original.id, reprint_id=copy.id, host=host, method="near_duplicate",
                        weight=weight, detected_at=NOW))
    session.flush()


def test_amounts_come_from_the_playbook(playbook):
    assert points.amount(Reason.adopted, playbook) == playbook.points.adopted == 5
    assert points.amount(Reason.special_or_interview, playbook) == 30
    assert points.amount(Reason.video, playbook) == 10
    assert points.amount(Reason.digest_leader_instruction, playbook) == 6
    assert points.amount(Reason.false_information, playbook) == playbook.points.deductions.false_information < 0
    assert set(type(playbook.points.deductions).model_fields) == {"false_information", "inaccurate_information"}
    assert playbook.points.local_rules == {}


def test_adoption_with_the_video_bonus_is_worth_fifteen_once(session, playbook):
    row, _ = _adopted(session, playbook, Bonus.video)
    rows = points.ledger(session, "农安县", periods.month("2026-11", SHANGHAI))
    assert sorted((e.reason, e.points) for e in rows) == [("adopted", 5.0), ("video", 10.0)]
    with pytest.raises(submissions.SubmissionError):
        submissions.adopt(session, playbook, row.id, who="编辑乙", now=NOW)
    assert session.scalar(select(func.count()).select_from(PointsEntry)) == 2


def test_reprints_of_the_adopted_item_score_by_site_not_portal_nor_microblog(session, playbook):
    _, published = _adopted(session, playbook)
    _reprint(session, playbook, published, "www.people.com.cn", 1)  # a major site: +1
    _reprint(session, playbook, published, "news.sina.com.cn", 2)  # a large portal: +1
    _reprint(session, playbook, published, "www.county-news.cn", 3)  # another site: +0.5
    _reprint(session, playbook, published, "zwgk.jl.gov.cn", 4)  # the provincial portal itself: adoption, not a reprint
    _reprint(session, playbook, published, "weibo.com", 5, kind="weibo")  # a repost: engagement, not a reprint
    added = points.award_reprints(session, playbook, NOW)
    assert sorted(e.points for e in added) == [0.5, 1.0, 1.0]
    assert {e.department_key for e in added} == {"农安县"}
    assert points.award_reprints(session, playbook, NOW) == []


def test_reprints_of_an_item_nobody_submitted_earn_nothing(session, playbook):
    own = source(session, "www.ccgov.cn", department="长春市政府")
    original = item(session, own, TEXT, NOW)
    _reprint(session, playbook, original, "www.people.com.cn", 1)
    assert points.award_reprints(session, playbook, NOW) == []


def test_undoing_an_adoption_takes_its_points_back(session, playbook):
    row, published = _adopted(session, playbook, Bonus.headline)
    _reprint(session, playbook, published, "www.people.com.cn", 1)
    points.award_reprints(session, playbook, NOW)
    with pytest.raises(BadCommand):
        submissions.undo_adoption(session, row.id, who="值班长", now=NOW, reason=" ")
    submissions.undo_adoption(session, row.id, who="值班长", now=NOW, reason="门户稿件不是该单位报送的")
    assert session.scalar(select(func.count()).select_from(PointsEntry)) == 0
    assert [e.action for e in submissions.trail(session, row.id)] == ["submit", "adopt", "undo_adoption"]


def test_deductions_only_for_false_or_inaccurate_information_with_evidence(session, playbook):
    with pytest.raises(BadCommand):
        points.deduct(session, playbook, "农安县", Reason.adopted, why="x", evidence="https://e.cn/1", now=NOW, who="d")
    with pytest.raises(BadCommand):
        points.deduct(session, playbook, "农安县", Reason.false_information, why="数据不实", evidence="", now=NOW,
                      who="d")
    with pytest.raises(UnknownDepartment):
        points.deduct(session, playbook, "不存在的厅", Reason.false_information, why="x", evidence="https://e.cn/1",
                      now=NOW, who="d")
    entry = points.deduct(session, playbook, "农安县", Reason.inaccurate_information, why="数字有误",
                          evidence="https://e.cn/1", now=NOW, who="值班员")
    assert entry is not None and entry.points < 0 and "https://e.cn/1" in entry.detail
    assert points.deduct(session, playbook, "农安县", Reason.inaccurate_information, why="数字有误",
                         evidence="https://e.cn/1", now=NOW, who="值班员") is None


def test_local_rules_are_off_by_default_and_labelled_when_declared(session, playbook):
    with pytest.raises(BadCommand):
        points.award_local(session, playbook, "农安县", "timely_ack", why="x", ref="r", now=NOW, who="d")
    rule = LocalPointsRule(label="及时签收", points=1, why="本办2026年第3次会议决定")
    local = playbook.model_copy(update={"points": playbook.points.model_copy(update={"local_rules": {"ack": rule}})})
    entry = points.award_local(session, local, "农安县", "ack", why="当日签收", ref="任务12", now=NOW, who="d")
    assert entry is not None and entry.points == 1 and points.is_local(entry.reason)
    assert points.label_of(entry.reason, local) == "及时签收（本办规则）"


def test_standings_list_every_unit_by_group_zeros_included(session, playbook):
    _adopted(session, playbook, Bonus.video, unit="农安县")
    _adopted(session, playbook, unit="长春市政府")
    _adopted(session, playbook, Bonus.interview, unit="省新闻办")
    rows = points.standings(session, periods.quarter("2026-Q4", SHANGHAI))
    by_key = {s.department_key: s for s in rows}
    assert len(rows) == len(playbook.departments)
    assert by_key["农安县"].points == 15 and by_key["农安县"].rank == 1 and by_key["农安县"].group == "county"
    assert by_key["长春市政府"].rank == 1 and by_key["吉林市政府"].rank == 2 and by_key["吉林市政府"].points == 0
    assert by_key["省新闻办"].points == 35 and by_key["省新闻办"].rank is None  # 附件3: counted, not ranked
    assert by_key["农安县"].yuan(playbook) == 15 * playbook.points.yuan_per_point
    assert all(s.points == 0 for s in points.standings(session, periods.quarter("2026-Q3", SHANGHAI)))
