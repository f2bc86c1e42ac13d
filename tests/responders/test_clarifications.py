"""Clarifications: submit, 审签 (approve / reject), and tracking their reprints by text and by link."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import pytest
from responders_support import a_case, event, item, local, source
from sqlalchemy import select

from monitor.config import SourcesFile
from monitor.items import NormalisedItem
from monitor.pipeline import Annotation, Annotator, Reaction
from monitor.wiring import Monitor, build_monitor
from responders import clarifications
from responders.cases import Actor
from responders.clarifications import ClarificationPages
from responders.errors import BadCommand, InvalidTransition, UnknownDepartment
from store.database import session_scope
from store.models import Clarification, Event, Item, Reprint, Source

NOW = local(2026, 11, 23, 10, 0)
CLARIFICATION = (
    "长春市教育局郑重声明：网传某小学食堂使用过期食材一事不实，经市场监管部门现场检查，食材来源合规、检测合格。"
)
DUTY = Actor("值班员张三")


def test_submit_on_an_assignment_goes_through_its_respond_transition(session, playbook):
    ev = event(session, "网传某小学食堂使用过期食材", NOW)
    case = a_case(session, playbook, ev, "省教育厅", NOW)
    row = clarifications.submit(session, ev, None, "https://jyt.jl.gov.cn/tz/1.html", Actor("联络员"), NOW)
    assert row.state == "submitted" and row.case_id == case.id and row.url.endswith("1.html")
    assert case.state == "responded" and case.responded_on_time is True


def test_event_with_several_departments_needs_one_named(session, playbook):
    ev = event(session, "某事件", NOW)
    a_case(session, playbook, ev, "省教育厅", NOW)
    a_case(session, playbook, ev, "省卫生厅", NOW)
    with pytest.raises(UnknownDepartment):
        clarifications.submit(session, ev, None, "澄清文字", Actor("x"), NOW)
    with pytest.raises(BadCommand):
        clarifications.submit(session, ev, "省卫生厅", "  ", Actor("x"), NOW)


def test_approve_and_reject_only_from_submitted(session):
    ev = event(session, "某事件", NOW)
    a = clarifications.submit(session, ev, "长春市政府", CLARIFICATION, Actor("联络员"), NOW)
    b = clarifications.submit(session, ev, "长春市政府", "https://x.cn/2", Actor("联络员"), NOW)
    clarifications.approve(session, a.id, DUTY, NOW)
    assert (a.state, a.approved_by, a.text) == ("approved", "值班员张三", CLARIFICATION)
    with pytest.raises(InvalidTransition):
        clarifications.reject(session, a.id, DUTY, "口径不一致", NOW)
    with pytest.raises(BadCommand):
        clarifications.reject(session, b.id, DUTY, " ", NOW)
    clarifications.reject(session, b.id, DUTY, "口径不一致", NOW)
    assert (b.state, b.review_note) == ("rejected", "口径不一致")


def test_tracking_finds_own_item_and_reprints_with_weights(session, playbook):
    ev = event(session, "网传某小学食堂使用过期食材", NOW)
    own_site = source(session, "jyt.jl.gov.cn", department="省教育厅")
    major = source(session, "www.people.com.cn")
    other = source(session, "bbs.small.cn")
    unrelated = source(session, "news.other.cn")
    url = "https://jyt.jl.gov.cn/tz/1.html"
    row = clarifications.submit(session, ev, "省教育厅", url, Actor("联络员"), NOW)
    own = item(session, own_site, CLARIFICATION, NOW + dt.timedelta(minutes=5), url=url)
    copy = item(session, major, "【转】" + CLARIFICATION, NOW + dt.timedelta(hours=1))
    link = item(session, other, "官方回应来了，详见 jyt.jl.gov.cn/tz/1.html 大家别再传了", NOW + dt.timedelta(hours=2))
    item(
        session, unrelated, "今日长春天气晴转多云，最高气温零下五度，请注意保暖出行安全。", NOW + dt.timedelta(hours=2)
    )
    with pytest.raises(clarifications.ClarificationError):
        clarifications.track(session, row, playbook, NOW)  # not signed off yet
    clarifications.approve(session, row.id, DUTY, NOW)
    result = clarifications.track(session, row, playbook, NOW + dt.timedelta(hours=3))
    assert result.own_item_id == own.id and row.item_id == own.id
    found = {r.reprint_id: r for r in session.scalars(select(Reprint))}
    assert set(found) == {copy.id, link.id}
    assert (found[copy.id].method, found[copy.id].weight, found[copy.id].host) == (
        "near_duplicate",
        1.0,
        "www.people.com.cn",
    )
    assert (found[link.id].method, found[link.id].weight) == ("link", 0.5)
    assert all(r.clarification_id == row.id for r in found.values())
    assert clarifications.track(session, row, playbook, NOW + dt.timedelta(hours=4)).added == []


def test_text_only_clarification_waits_for_its_item(session, playbook):
    ev = event(session, "某事件", NOW)
    row = clarifications.submit(session, ev, "长春市政府", CLARIFICATION, Actor("联络员"), NOW)
    clarifications.approve(session, row.id, DUTY, NOW)
    assert clarifications.track(session, row, playbook, NOW).own_item_id is None
    site = source(session, "www.changchun.gov.cn", department="长春市政府")
    own = item(session, site, CLARIFICATION, NOW + dt.timedelta(minutes=30))
    assert clarifications.track(session, row, playbook, NOW + dt.timedelta(hours=1)).own_item_id == own.id
    assert session.get(Clarification, row.id).item_id == own.id


class DoubtingAnnotator(Annotator):
    """A light stand-in for the models: every item reads as a likely rumour, so a stamp shows."""

    def annotate(self, item: NormalisedItem | Item, reactions: Sequence[Reaction] = ()) -> Annotation:
        return Annotation("教育", {"教育": 1.0}, 0.9, "疑似谣言", ("过期食材",))


RUMOUR = "网传某小学食堂使用过期食材，家长群里都在转，孩子吃了拉肚子"


def _ingest(monitor: Monitor, sessions, external_id: str, text: str, url: str) -> Item:
    with session_scope(monitor.sessions) as s:
        src = (s.scalar(select(Source).where(Source.name == "jyt"))
               or source(s, "jyt.jl.gov.cn", name="jyt", kind="weibo"))
        page = NormalisedItem(source="jyt", external_id=external_id, title="", text=text, url=url, published_at=NOW)
        monitor.pipeline.process(s, src, [page], NOW)
    with session_scope(sessions) as s:
        row = s.scalar(select(Item).where(Item.external_id == external_id))
        assert row is not None
        s.expunge(row)
        return row


@pytest.mark.parametrize("lookup", [True, False], ids=["with-lookup", "no-lookup"])
def test_our_clarification_page_joins_its_event_and_is_not_a_rumour(store_url, sessions, playbook, lookup):
    """The monitor asks the responders' ClarificationPages which event a fetched page answers: our own
    page joins that event as 官方澄清 (however much it quotes the rumour); a rejected one's page, or any
    page when the monitor was built without the lookup, is judged like any other item."""
    monitor = build_monitor(store_url, SourcesFile(), playbook, annotator=DoubtingAnnotator(),
                            migrate_schema=False, clarifications=ClarificationPages() if lookup else None)
    try:
        rumour = _ingest(monitor, sessions, "r1", RUMOUR, "https://bbs.example.cn/t/1")
        ours, refused = "https://jyt.jl.gov.cn/tz/1.html", "https://jyt.jl.gov.cn/tz/2.html"
        with session_scope(sessions) as s:
            ev = s.get(Event, rumour.event_id)
            clarifications.submit(s, ev, "省教育厅", ours, Actor("联络员"), NOW)
            rejected = clarifications.submit(s, ev, "省教育厅", refused, Actor("联络员"), NOW)
            clarifications.reject(s, rejected.id, DUTY, "口径不一致", NOW)
        answer = _ingest(monitor, sessions, "c1", "长春市教育局声明：" + RUMOUR + "一事不实，食材检测合格", ours)
        other = _ingest(monitor, sessions, "c2", "关于全市中小学寒假放假时间的通知，请家长安排好假期", refused)
    finally:
        monitor.engine.dispose()
    if lookup:
        assert (answer.event_id, answer.rumour_verdict, answer.rumour_probability) == (
            rumour.event_id, "官方澄清", 0.0)
    else:
        assert (answer.rumour_verdict, answer.rumour_probability) == ("疑似谣言", 0.9)
    assert (other.rumour_verdict, other.event_id != rumour.event_id) == ("疑似谣言", True)
