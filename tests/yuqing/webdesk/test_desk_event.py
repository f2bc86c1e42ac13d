"""*Event*: items and their repost tree, the heat's why, the reach curve, cases with their audit trail, and the
duty desk's actions from the browser (who may, CSRF, idempotence, 审签)."""

from __future__ import annotations

import datetime as dt
import html
from typing import Any

import httpx
from desk_support import RunningDesk, Seed, SignIn, csrf_of
from sqlalchemy import event as sa_event
from sqlalchemy import select, update

from responders.cases import Actor
from responders.spread import event_spread
from store.database import session_scope
from store.models import Case, CaseAudit, Clarification, Event, Item, Reprint


def _case_of(desk: RunningDesk, event_id: int) -> int:
    with session_scope(desk.site.sessions) as session:
        case = session.scalar(select(Case.id).where(Case.event_id == event_id).order_by(Case.id))
        assert case is not None
        return case


def _trail(desk: RunningDesk, event_id: int, action: str) -> list[CaseAudit]:
    with session_scope(desk.site.sessions) as session:
        return list(session.scalars(select(CaseAudit).join(Case)
                                    .where(Case.event_id == event_id, CaseAudit.action == action)))


def _post(client: httpx.Client, path: str, page: str, **data: str) -> httpx.Response:
    return client.post(path, data={"csrf": csrf_of(client, page), **data})


def _flash(client: httpx.Client, answer: httpx.Response) -> str:
    assert answer.status_code == 303, answer.text
    return html.unescape(client.get(answer.headers["location"]).text)


def test_the_page_shows_items_their_tree_the_why_and_the_cases(desk_server: RunningDesk, sign_in: SignIn,
                                                               seed: Seed) -> None:
    event_id = seed("网传某小学食堂食物中毒", items=3, departments=("省教育厅",))
    with session_scope(desk_server.site.sessions) as session:
        first = session.scalars(select(Item).where(Item.event_id == event_id).order_by(Item.id)).first()
        assert first is not None
        repost = Item(source_id=first.source_id, external_id="repost-1", url="https://weibo.example.cn/repost/1",
                      title="转发：网传某小学食堂食物中毒", content_hash="repost-1", event_id=event_id,
                      repost_of_id=first.id, reposts=40, fetched_at=first.fetched_at)
        copy = Item(source_id=first.source_id, external_id="copy-1", url="https://copy.example.cn/1",
                    title="某小学食堂事件", content_hash="copy-1", event_id=event_id, fetched_at=first.fetched_at)
        session.add_all([repost, copy])
        session.flush()
        session.add(Reprint(original_id=first.id, reprint_id=copy.id, host="copy.example.cn", weight=0.5,
                            method="near_duplicate"))
        first_id = first.id
    page = sign_in("wangzhiban").get(f"/events/{event_id}")
    assert page.status_code == 200
    text = html.unescape(page.text)
    assert "https://weibo.example.cn/repost/1" in text and "https://news" in text
    assert f"转发自 <a href=\"#item-{first_id}\">#{first_id}</a>" in text
    assert f"转载（近似重复）自 <a href=\"#item-{first_id}\">#{first_id}</a>" in text
    assert "声量 +30.0（加权衰减后 3.00）" in text  # the heat's why, as the chat alert says it
    assert f'<img src="/events/{event_id}/reach.svg"' in text
    case = _case_of(desk_server, event_id)
    assert f"任务 #{case} 省教育厅" in text and "立案" in text and "王值班" in text
    assert f'action="/events/{event_id}/confirm"' in text


def test_duty_chief_confirms_from_the_web_once(desk_server: RunningDesk, sign_in: SignIn, seed: Seed) -> None:
    event_id = seed(departments=("省教育厅",))
    client = sign_in("wangzhiban")
    page = _flash(client, _post(client, f"/events/{event_id}/confirm", f"/events/{event_id}"))
    assert f"事件 {event_id} 已确认" in page
    rows = _trail(desk_server, event_id, "confirm")
    assert [(r.actor, r.chat_id) for r in rows] == [("王值班", "web")]
    assert "<td>网页</td><td>确认预警</td>" in page
    again = _flash(client, _post(client, f"/events/{event_id}/confirm", f"/events/{event_id}"))
    assert "本次未作改动" in again
    assert len(_trail(desk_server, event_id, "confirm")) == 1


def test_duty_assigns_ignores_and_consults_from_the_web(desk_server: RunningDesk, sign_in: SignIn,
                                                        seed: Seed) -> None:
    event_id = seed(departments=("省教育厅",))
    client = sign_in("lizhiban")
    back = f"/events/{event_id}"
    assert f"事件 {event_id} 已指派 省交通厅" in _flash(client, _post(client, f"{back}/assign", back,
                                                                    department="省交通厅"))
    assert "会商已开启" in _flash(client, _post(client, f"{back}/consult", back))
    assert "统一口径已记录" in _flash(client, _post(client, f"{back}/line", back, text="以官方通报为准"))
    assert "已编入" in _flash(client, _post(client, f"{back}/digest", back))
    assert "已忽略" in _flash(client, _post(client, f"{back}/ignore", back, reason="重复信息"))
    page = html.unescape(client.get(back).text)
    assert "统一口径：以官方通报为准" in page and "重复信息" in page
    with session_scope(desk_server.site.sessions) as session:
        ev = session.get(Event, event_id)
        assert ev is not None and ev.status == "ignored"
        keys = set(session.scalars(select(Case.department_key).where(Case.event_id == event_id)))
    assert keys == {"省教育厅", "省交通厅"}


def test_a_liaison_sees_only_its_units_events_and_acts_on_none(desk_server: RunningDesk, sign_in: SignIn,
                                                               seed: Seed) -> None:
    event_id = seed(departments=("省教育厅",))
    mine = sign_in("chenjiaoyu").get(f"/events/{event_id}")
    assert mine.status_code == 200 and "/confirm" not in mine.text
    other = sign_in("liuchangchun")
    assert other.get(f"/events/{event_id}").status_code == 403
    assert other.get(f"/events/{event_id}/reach.svg").status_code == 403
    answer = other.post(f"/events/{event_id}/confirm", data={"csrf": csrf_of(other, "/now")})
    assert answer.status_code == 403
    assert _trail(desk_server, event_id, "confirm") == []


def test_a_leader_reads_but_may_not_act(desk_server: RunningDesk, sign_in: SignIn, seed: Seed) -> None:
    event_id = seed(departments=("省教育厅",))
    leader = sign_in("wuzhuren")
    page = leader.get(f"/events/{event_id}")
    assert page.status_code == 200 and "/confirm" not in page.text
    answer = leader.post(f"/events/{event_id}/confirm", data={"csrf": csrf_of(leader, "/now")})
    assert answer.status_code == 403 and "只能查看" in answer.text
    assert _trail(desk_server, event_id, "confirm") == []


def test_a_forged_csrf_token_changes_nothing(desk_server: RunningDesk, sign_in: SignIn, seed: Seed) -> None:
    event_id = seed(departments=("省教育厅",))
    client = sign_in("wangzhiban")
    csrf_of(client, f"/events/{event_id}")
    answer = client.post(f"/events/{event_id}/confirm", data={"csrf": "forged-" + "x" * 40})
    assert answer.status_code == 403
    assert client.post(f"/events/{event_id}/confirm", data={}).status_code == 403
    assert _trail(desk_server, event_id, "confirm") == []


def test_an_unknown_event_is_not_found(sign_in: SignIn) -> None:
    client = sign_in("wangzhiban")
    assert client.get("/events/999999").status_code == 404
    assert client.get("/events/999999/reach.svg").status_code == 404
    assert _post(client, "/events/999999/confirm", "/now").status_code == 404
    assert _post(client, "/clarifications/999999/approve", "/now").status_code == 404


def test_a_reviewer_approves_the_departments_clarification(desk_server: RunningDesk, sign_in: SignIn,
                                                           seed: Seed) -> None:
    event_id = seed("网传某中学停课", departments=("省教育厅",))
    case = _case_of(desk_server, event_id)
    desk_server.site.desk.respond(Actor("陈教育", 200101, "test"), case, "https://jyt.jl.gov.cn/notice/1")
    with session_scope(desk_server.site.sessions) as session:
        clarification = session.scalar(select(Clarification.id).where(Clarification.event_id == event_id))
    assert clarification is not None
    liaison = sign_in("chenjiaoyu")
    assert f"/clarifications/{clarification}/approve" not in liaison.get(f"/events/{event_id}").text
    refused = _post(liaison, f"/clarifications/{clarification}/approve", f"/events/{event_id}")
    assert refused.status_code == 403
    client = sign_in("wangzhiban")
    assert f'action="/clarifications/{clarification}/approve"' in client.get(f"/events/{event_id}").text
    page = _flash(client, _post(client, f"/clarifications/{clarification}/approve", f"/events/{event_id}"))
    assert f"澄清 #{clarification} 审签通过" in page and "已审签（王值班" in page
    with session_scope(desk_server.site.sessions) as session:
        row = session.get(Clarification, clarification)
        assert row is not None and (row.state, row.approved_by) == ("approved", "王值班")
    again = _flash(client, _post(client, f"/clarifications/{clarification}/approve", f"/events/{event_id}"))
    assert "本次未作改动" in again


def test_a_page_costs_the_same_queries_for_few_or_many_items(desk_server: RunningDesk, sign_in: SignIn,
                                                             seed: Seed) -> None:
    few = seed("少量信息", items=3, departments=("省教育厅",))
    many = seed("大量信息", items=230, departments=("省教育厅", "长春市政府"))
    client = sign_in("wangzhiban")
    engine: Any = desk_server.site.sessions.kw["bind"]
    statements: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_rest: object) -> None:
        statements.append(statement)

    sa_event.listen(engine, "before_cursor_execute", count)
    try:
        assert client.get(f"/events/{few}").status_code == 200
        small = len(statements)
        statements.clear()
        first = client.get(f"/events/{many}")
        large = len(statements)
    finally:
        sa_event.remove(engine, "before_cursor_execute", count)
    assert large == small, statements
    assert first.text.count('<tr id="item-') == 200 and f"/events/{many}?page=2" in first.text
    second = client.get(f"/events/{many}", params={"page": "2"}).text
    assert second.count('<tr id="item-') == 30 and "更多" not in second


def test_the_curve_counts_the_approved_clarifications_reach(desk_server: RunningDesk, seed: Seed,
                                                            sign_in: SignIn) -> None:
    event_id = seed("网传某地水源污染", items=4, rumour=0.9, departments=("省教育厅",))
    now = dt.datetime.now(dt.UTC)
    with session_scope(desk_server.site.sessions) as session:
        source_id = session.scalar(select(Item.source_id).where(Item.event_id == event_id))
        assert source_id is not None
        own = Item(source_id=source_id, external_id="clar-1", url="https://jyt.jl.gov.cn/c/1", title="澄清",
                   content_hash="clar-1", event_id=event_id, fetched_at=now)
        session.add(own)
        session.flush()
        session.add(Clarification(event_id=event_id, department_key="省教育厅", url=own.url, state="approved",
                                  submitted_at=now, submitted_by="陈教育", approved_at=now, approved_by="王值班",
                                  item_id=own.id))
        own_id = own.id
    client = sign_in("wangzhiban")
    chart = client.get(f"/events/{event_id}/reach.svg")
    assert chart.status_code == 200 and chart.headers["content-type"].startswith("image/svg+xml")
    assert chart.text.startswith('<svg xmlns="http://www.w3.org/2000/svg"')
    assert "谣言 2.0 · 澄清 0.5 · 覆盖率 25%" in chart.text  # four items and one clarification at 0.5 each
    with session_scope(desk_server.site.sessions) as session:
        session.execute(update(Item).where(Item.event_id == event_id, Item.id != own_id).values(reposts=3, likes=20))
        stored = session.get(Event, event_id)
        assert stored is not None
        spread = event_spread(session, stored, desk_server.site.playbook, dt.datetime.now(dt.UTC))
    chart = client.get(f"/events/{event_id}/reach.svg")
    assert f"谣言 {spread.rumour_total:.1f} · 澄清 {spread.clarification_total:.1f}" in chart.text
