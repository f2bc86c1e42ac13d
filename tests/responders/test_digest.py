"""The daily 《网络信息摘要》: adoption and 批示 award points once; the rendering escapes item text."""

from __future__ import annotations

import datetime as dt

import pytest
from responders_support import event, item, local, source
from sqlalchemy import select

from responders import digest, submissions
from responders.errors import BadCommand, UnknownCase
from store.models import PointsEntry

NOW = local(2026, 11, 23, 9, 0)


def test_a_submission_in_the_digest_credits_the_submitting_unit_once(session, playbook, tmp_path):
    sub = submissions.submit(session, unit="长春市政府", title="长春清雪", text="长春市启动冬季清雪<b>专项</b>行动",
                             by="刘长春", now=NOW)
    entry = digest.add(session, playbook, who="值班员", now=NOW, submission_id=sub.id)
    assert digest.add(session, playbook, who="值班员", now=NOW, submission_id=sub.id).id == entry.id
    digest.instruct(session, playbook, entry.id, "请市政府抓好落实", who="值班员", now=NOW)
    digest.instruct(session, playbook, entry.id, "请市政府抓好落实", who="值班员", now=NOW)
    rows = [
        (p.department_key, p.reason, p.points) for p in session.scalars(select(PointsEntry).order_by(PointsEntry.id))
    ]
    assert rows == [
        ("长春市政府", "digest_adopted", playbook.points.digest_adopted),
        ("长春市政府", "digest_leader_instruction", playbook.points.digest_leader_instruction),
    ]
    views = digest.entries(session, NOW.date(), playbook)
    assert views[0].instruction == "请市政府抓好落实"
    text = digest.chat_summary(views, NOW.date())
    assert "长春清雪" in text and "批示：请市政府抓好落实" in text
    path = digest.write(session, NOW.date(), NOW, tmp_path, playbook)
    html = path.read_text(encoding="utf-8")
    assert "&lt;b&gt;专项&lt;/b&gt;" in html and "<b>专项" not in html


def test_items_and_events_the_office_picks_earn_no_unit_points(session, playbook):
    """The department an event is routed to must not earn points for the problem leaders read about."""
    src = source(session, "www.changchun.gov.cn", department="长春市政府")
    it = item(session, src, "长春市某小区供暖不热", NOW, title="供暖不热")
    entry = digest.add(session, playbook, who="值班员", now=NOW, item_id=it.id)
    digest.instruct(session, playbook, entry.id, "请核查", who="值班员", now=NOW)
    assert entry.department_key is None
    assert list(session.scalars(select(PointsEntry))) == []


def test_event_entry_and_errors(session, playbook):
    ev = event(session, "某地供暖不热", NOW)
    entry = digest.add(session, playbook, who="值班员", now=NOW, event_id=ev.id, day=dt.date(2026, 11, 24))
    assert entry.day == dt.date(2026, 11, 24) and entry.department_key is None
    with pytest.raises(BadCommand):
        digest.add(session, playbook, who="x", now=NOW)
    with pytest.raises(UnknownCase):
        digest.add(session, playbook, who="x", now=NOW, item_id=999999)
    with pytest.raises(UnknownCase):
        digest.instruct(session, playbook, 999999, "批示", who="x", now=NOW)


@pytest.mark.parametrize("url", ["javascript:alert(4)", "https://officer:hunter2@www.changchun.gov.cn/a/1.html"])
def test_the_digest_links_only_http_and_never_shows_credentials(session, playbook, tmp_path, url):
    src = source(session, "www.changchun.gov.cn")
    it = item(session, src, "长春市某小区供暖不热", NOW, title="供暖不热", url=url)
    digest.add(session, playbook, who="值班员", now=NOW, item_id=it.id)
    html = digest.write(session, NOW.date(), NOW, tmp_path, playbook).read_text(encoding="utf-8")
    assert "javascript:" not in html and "hunter2" not in html and "供暖不热" in html
