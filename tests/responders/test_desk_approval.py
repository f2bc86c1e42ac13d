"""审签 from the chat: duty staff approve or reject a department's clarification; others are refused."""

from __future__ import annotations

from responders_support import DUTY_CHIEF, EDU_MEMBER
from sqlalchemy import select

from monitor.store.database import session_scope
from monitor.store.models import Alert, Assignment, Clarification, Event
from responders.assignments import Actor
from responders.commands import run_command
from responders.intake import process_event

URL = "https://www.jl.gov.cn/notice/42"


def _responded(sessions, playbook, members, templates, make_event, clock, desk) -> tuple[int, int]:
    event_id = make_event("长春市某小学强制补课收费", "家长反映每月收费800元", heat=30)
    with session_scope(sessions) as session:
        process_event(session, session.get(Event, event_id), playbook, members, templates, clock())
        case = session.scalars(select(Assignment).where(Assignment.department_key == "省教育厅")).one().id
    edu = Actor("教育厅联络员", EDU_MEMBER, "-1001000000101")
    assert run_command(desk, edu, f"/ack {case}").text.startswith(f"任务 #{case} 已签收")
    assert "已提交回应" in run_command(desk, edu, f"/respond {case} {URL}").text
    with session_scope(sessions) as session:
        clarification = session.scalars(select(Clarification)).one()
        notice = session.scalars(select(Alert).where(Alert.text.contains("已提交回应"))).one()
        assert f"/approve {clarification.id}" in notice.text
        return case, clarification.id


def test_duty_approves_once(sessions, playbook, members, templates, make_event, clock, desk) -> None:
    _case, cid = _responded(sessions, playbook, members, templates, make_event, clock, desk)
    chief = Actor("值班长", DUTY_CHIEF, "-1001000000001")
    assert run_command(desk, chief, f"/approve {cid}").text.startswith(f"澄清 #{cid} 审签通过")
    assert "未作改动" in run_command(desk, chief, f"/approve {cid}").text
    with session_scope(sessions) as session:
        row = session.get(Clarification, cid)
        assert (row.state, row.url, row.approved_by) == ("approved", URL, "值班长")


def test_department_cannot_approve_its_own_answer(sessions, playbook, members, templates, make_event, clock,
                                                   desk) -> None:
    _case, cid = _responded(sessions, playbook, members, templates, make_event, clock, desk)
    reply = run_command(desk, Actor("教育厅联络员", EDU_MEMBER, "-1001000000101"), f"/approve {cid}")
    assert reply.text.startswith("未执行")
    with session_scope(sessions) as session:
        assert session.get(Clarification, cid).state == "submitted"


def test_reject_needs_a_reason_and_records_it(sessions, playbook, members, templates, make_event, clock,
                                              desk) -> None:
    _case, cid = _responded(sessions, playbook, members, templates, make_event, clock, desk)
    chief = Actor("值班长", DUTY_CHIEF, "-1001000000001")
    assert "用法：/reject" in run_command(desk, chief, f"/reject {cid}").text
    assert "已退回" in run_command(desk, chief, f"/reject {cid} 口径与会商不一致").text
    with session_scope(sessions) as session:
        row = session.get(Clarification, cid)
        assert (row.state, row.review_note) == ("rejected", "口径与会商不一致")


def test_digest_button_and_leader_instruction_award_points_once(sessions, playbook, members, templates, make_event,
                                                                 clock, desk) -> None:
    from monitor.store.models import DigestEntry, PointsEntry
    from responders.commands import press_button

    event_id = make_event("长春市某小学强制补课收费", "家长反映每月收费800元", heat=30)
    with session_scope(sessions) as session:
        process_event(session, session.get(Event, event_id), playbook, members, templates, clock())
    chief = Actor("值班长", DUTY_CHIEF, "-1001000000001")
    assert "已编入" in press_button(desk, chief, f"e:digest:{event_id}").text
    assert "未作改动" in press_button(desk, chief, f"e:digest:{event_id}").text
    refused = press_button(desk, Actor("教育厅联络员", EDU_MEMBER, "-1001000000101"), f"e:digest:{event_id}")
    assert refused.text.startswith("未执行")
    with session_scope(sessions) as session:
        entry = session.scalars(select(DigestEntry)).one()
    assert "批示已记录" in run_command(desk, chief, f"/instruct {entry.id} 请教育厅一周内核查并公开回应").text
    with session_scope(sessions) as session:
        rows = {(p.department_key, p.reason, p.points) for p in session.scalars(select(PointsEntry))}
    assert rows == {("省教育厅", "digest_adopted", 3.0), ("省教育厅", "digest_leader_instruction", 6.0)}
