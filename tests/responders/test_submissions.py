"""Information submission (2006 §三): real names, audit rows, and adoption seen on the provincial portal."""

from __future__ import annotations

import datetime as dt

import pytest
from responders_support import item, local, source
from sqlalchemy import select

from responders import submissions
from responders.errors import BadCommand, UnknownDepartment
from store.models import PointsEntry

NOW = local(2026, 11, 23, 10, 0)
TEXT = "延吉市启动冬季供暖保障专项行动，对全市二百余个供热站逐一检查，确保居民室温达标，热线二十四小时受理。"


def test_submission_needs_a_unit_a_title_and_a_real_name(session):
    with pytest.raises(UnknownDepartment):
        submissions.submit(session, unit="不存在的县", title="t", text="x", by="张三", now=NOW)
    with pytest.raises(BadCommand):
        submissions.submit(session, unit="延吉市", title="t", text="x", by=" ", now=NOW)
    with pytest.raises(BadCommand):
        submissions.submit(session, unit="延吉市", title="t", text="x", by="张三", now=NOW, url="javascript:alert(1)")
    row = submissions.submit(session, unit="延吉市", title="延吉供暖", text=TEXT, by="周延吉", now=NOW)
    declined = submissions.decline(session, row.id, reason="请补充具体数据", who="编辑", now=NOW)
    assert declined.state == "declined"
    assert [(e.action, e.actor) for e in submissions.trail(session, row.id)] == [("submit", "周延吉"),
                                                                                ("decline", "编辑")]


def test_the_portal_publishing_a_near_duplicate_adopts_the_submission(session, playbook):
    row = submissions.submit(session, unit="延吉市", title="延吉供暖", text=TEXT, by="周延吉", now=NOW)
    portal = source(session, "www.jl.gov.cn")
    other = source(session, "www.other-site.cn")
    item(session, other, TEXT, NOW + dt.timedelta(hours=1))  # not the portal: no adoption
    published = item(session, portal, TEXT, NOW + dt.timedelta(hours=2), title="延吉市全力保障冬季供暖")
    found = submissions.detect_adoptions(session, playbook, NOW + dt.timedelta(hours=3), since=NOW)
    assert [(d.submission_id, d.item_id, d.how) for d in found] == [(row.id, published.id, "near_duplicate")]
    assert row.state == "adopted" and row.adopted_item_id == published.id
    assert [p.points for p in session.scalars(select(PointsEntry))] == [5.0]
    assert submissions.detect_adoptions(session, playbook, NOW + dt.timedelta(hours=4), since=NOW) == []


def test_a_source_line_naming_the_unit_adopts_its_pending_submission(session, playbook):
    row = submissions.submit(session, unit="农安县", title="农安县春耕备耕有序推进", text="农安县组织农技人员下乡",
                             by="孙农安", now=NOW)
    portal = source(session, "www.jl.gov.cn")
    published = item(session, portal, "近日，全县各乡镇春耕物资储备充足。（来源：农安县）", NOW + dt.timedelta(hours=1),
                     title="农安春耕备耕有序推进")
    found = submissions.detect_adoptions(session, playbook, NOW + dt.timedelta(hours=2), since=NOW)
    assert [(d.submission_id, d.item_id, d.how) for d in found] == [(row.id, published.id, "source_line")]


def test_a_portal_item_older_than_the_submission_is_not_its_adoption(session, playbook):
    portal = source(session, "www.jl.gov.cn")
    item(session, portal, TEXT, NOW - dt.timedelta(days=2))
    submissions.submit(session, unit="延吉市", title="延吉供暖", text=TEXT, by="周延吉", now=NOW)
    assert submissions.detect_adoptions(session, playbook, NOW, since=NOW - dt.timedelta(days=3)) == []
