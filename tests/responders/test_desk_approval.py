"""审签 from the chat: duty staff approve or reject a department's clarification; others are refused."""

from __future__ import annotations

from responders_support import DUTY_CHIEF, EDU_MEMBER
from sqlalchemy import select

from responders.cases import Actor
from responders.desk import Pending
from responders.desk_commands import answer_prompt, press_button, run_command
from responders.intake import process_event
from store.database import session_scope
from store.models import Case, Clarification, Event, OutboxMessage, Submission

URL = "https://www.jl.gov.cn/notice/42"


def _responded(sessions, playbook, members, templates, make_event, clock, desk) -> tuple[int, int]:
    event_id = make_event("长春市某小学强制补课收费", "家长反映每月收费800元", heat=30)
    with session_scope(sessions) as session:
        process_event(session, session.get(Event, event_id), playbook, members, templates, clock())
        case = session.scalars(select(Case).where(Case.department_key == "省教育厅")).one().id
    edu = Actor("教育厅联络员", EDU_MEMBER, "-1001000000101")
    assert run_command(desk, edu, f"/acknowledge {case}").text.startswith(f"任务 #{case} 已签收")
    assert "已提交回应" in run_command(desk, edu, f"/respond {case} {URL}").text
    with session_scope(sessions) as session:
        clarification = session.scalars(select(Clarification)).one()
        notice = session.scalars(select(OutboxMessage).where(OutboxMessage.text.contains("已提交回应"))).one()
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
    """An event in the digest earns its department nothing; a unit's submission earns +3 and +6, once."""

    from store.models import DigestEntry, PointsEntry

    event_id = make_event("长春市某小学强制补课收费", "家长反映每月收费800元", heat=30)
    with session_scope(sessions) as session:
        process_event(session, session.get(Event, event_id), playbook, members, templates, clock())
    chief = Actor("值班长", DUTY_CHIEF, "-1001000000001")
    assert "已编入" in press_button(desk, chief, f"event:digest:{event_id}").text
    assert "未作改动" in press_button(desk, chief, f"event:digest:{event_id}").text
    refused = press_button(desk, Actor("教育厅联络员", EDU_MEMBER, "-1001000000101"), f"event:digest:{event_id}")
    assert refused.text.startswith("未执行")
    liaison = Actor("陈教育", EDU_MEMBER, "-1001000000101")
    submitted = run_command(desk, liaison, "/submit 全省中小学课后服务全覆盖｜省教育厅推动课后服务覆盖全部义务教育学校")
    assert "报送号" in submitted.text
    with session_scope(sessions) as session:
        sub_id = session.scalars(select(Submission.id)).one()
        notice = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "submission")).one()
        assert notice.buttons and "陈教育" in notice.text and "全省中小学课后服务全覆盖" in notice.text
    assert "已编入" in press_button(desk, chief, f"submission:digest_submission:{sub_id}").text
    with session_scope(sessions) as session:
        entry = session.scalars(select(DigestEntry).where(DigestEntry.submission_id == sub_id)).one()
    assert "批示已记录" in run_command(desk, chief, f"/instruct {entry.id} 经验做法值得推广").text
    assert "批示已记录" in run_command(desk, chief, f"/instruct {entry.id} 经验做法值得推广").text
    with session_scope(sessions) as session:
        rows = sorted((p.department_key, p.reason, p.points) for p in session.scalars(select(PointsEntry)))
    assert rows == [("省教育厅", "digest_adopted", 3.0), ("省教育厅", "digest_leader_instruction", 6.0)]


def test_submission_buttons_adopt_and_decline(sessions, playbook, desk) -> None:

    from store.models import PointsEntry

    liaison = Actor("陈教育", EDU_MEMBER, "-1001000000101")
    chief = Actor("值班长", DUTY_CHIEF, "-1001000000001")
    run_command(desk, liaison, "/submit 标题一｜正文一")
    run_command(desk, liaison, "/submit 标题二｜正文二｜https://jyt.jl.gov.cn/a/2")
    assert run_command(desk, liaison, "/submit 只有标题").text.startswith("未执行")
    with session_scope(sessions) as session:
        first, second = session.scalars(select(Submission.id).order_by(Submission.id)).all()
    assert press_button(desk, liaison, f"submission:adopt:{first}").text.startswith("未执行")  # editors adopt
    adopted = run_command(desk, chief, f"/adopt {first} 视频")
    assert adopted.changed and "video" in adopted.text
    assert "未作改动" in press_button(desk, chief, f"submission:adopt:{first}").text
    asked = press_button(desk, chief, f"submission:decline:{second}")
    assert asked.prompt == Pending("decline", second)
    assert answer_prompt(desk, chief, asked.prompt, "内容与本单位职责无关").changed
    with session_scope(sessions) as session:
        assert sorted(p.points for p in session.scalars(select(PointsEntry))) == [5.0, 10.0]
        declined = session.get(Submission, second)
        assert declined.state == "declined" and declined.decline_reason == "内容与本单位职责无关"
