"""One name per action: the actions table names the Desk method, the command, the button, the transition
and the audit row's action, and a button press calls the action itself."""

from __future__ import annotations

import pytest
from responders_support import DUTY_CHIEF, EDU_MEMBER
from sqlalchemy import select

from responders.actions import ACTIONS, Target, button_data
from responders.bot.command_handlers import handler
from responders.cases import TRANSITIONS, Actor, State
from responders.desk import Desk, Pending
from responders.desk_commands import COMMANDS, TEXT_COMMANDS, ButtonPress, answer_prompt, press_button, run_command
from responders.intake import process_event
from responders.views import department_buttons, duty_buttons
from store.database import session_scope
from store.models import Case, CaseAudit, Event, Submission, SubmissionAudit

EDU = Actor("教育厅联络员", EDU_MEMBER, "-1001000000101")
CHIEF = Actor("值班长", DUTY_CHIEF, "-1001000000001")


def test_every_action_a_person_takes_is_the_desk_method_and_the_command_of_that_name() -> None:
    typed = {name for name, spec in ACTIONS.items() if spec.typed}
    assert typed == {name for name in typed if callable(getattr(Desk, name, None))}
    assert COMMANDS | set(TEXT_COMMANDS) == typed
    assert set(TEXT_COMMANDS) == {name for name in typed if not ACTIONS[name].numbered}
    assert COMMANDS <= set(handler().commands)


def test_every_transition_of_a_case_is_an_action_on_a_case() -> None:
    assert all(ACTIONS[name].target is Target.case for name in TRANSITIONS)


def test_a_button_carries_the_actions_name_and_reads_back_to_it() -> None:
    for name, spec in ACTIONS.items():
        if spec.button and spec.typed:
            assert ButtonPress.parse(button_data(name, 12)) == ButtonPress(name, 12)
            assert button_data(name, 12) == f"{spec.target.value}:{name}:12"


@pytest.mark.parametrize("data", ["event:acknowledge:1", "case:notify:1", "case:open:1", "case:explain:1",
                                  "submission:publish:1", "case:acknowledge", "nosuch:acknowledge:1"])
def test_a_button_for_the_wrong_target_or_a_step_nobody_presses_is_refused(data: str) -> None:
    from responders.errors import BadCommand

    with pytest.raises(BadCommand):
        ButtonPress.parse(data)


def _case(sessions, playbook, members, templates, make_event, clock) -> tuple[int, int]:
    event_id = make_event("长春市某小学强制补课收费", "家长反映每月收费800元", heat=30)
    with session_scope(sessions) as session:
        process_event(session, session.get(Event, event_id), playbook, members, templates, clock())
        return event_id, session.scalars(select(Case).where(Case.department_key == "省教育厅")).one().id


def test_buttons_and_prompts_act_and_the_audit_names_the_same_action(sessions, playbook, members, templates,
                                                                      make_event, clock, desk) -> None:
    event_id, case_id = _case(sessions, playbook, members, templates, make_event, clock)
    with session_scope(sessions) as session:
        event = session.get(Event, event_id)
        assert {b.data for row in duty_buttons(event) for b in row} == {
            f"event:{n}:{event_id}" for n in ("confirm", "ignore", "assign", "consult", "digest")}
        case = session.get(Case, case_id)
        assert [b.data for row in department_buttons(case) for b in row] == [
            f"case:{n}:{case_id}" for n in ("acknowledge", "respond", "reassign")]
    assert press_button(desk, CHIEF, f"event:confirm:{event_id}").changed
    acknowledged = press_button(desk, EDU, f"case:acknowledge:{case_id}")
    assert acknowledged.changed and acknowledged.note and "已签收" in acknowledged.note
    assert [b.data for row in acknowledged.buttons or () for b in row] == [
        f"case:{n}:{case_id}" for n in ("extend", "respond", "reassign")]
    asked = press_button(desk, EDU, f"case:respond:{case_id}")
    assert asked.prompt == Pending("respond", case_id) and not asked.changed
    assert answer_prompt(desk, EDU, asked.prompt, "https://jyt.jl.gov.cn/a/1").changed
    with session_scope(sessions) as session:
        actions = [row.action for row in session.scalars(select(CaseAudit).where(CaseAudit.case_id == case_id))]
        assert actions == ["open", "confirm", "acknowledge", "respond"]
        assert session.get(Case, case_id).state == State.responded.value


def test_a_submission_audit_names_the_actions_taken(sessions, desk) -> None:
    liaison = Actor("周延吉", EDU_MEMBER, "-1001000000101")
    run_command(desk, liaison, "/submit 全省中小学课后服务全覆盖｜省教育厅推动课后服务覆盖全部义务教育学校")
    with session_scope(sessions) as session:
        sid = session.scalars(select(Submission.id)).one()
    assert press_button(desk, CHIEF, f"submission:adopt:{sid}").changed
    with session_scope(sessions) as session:
        actions = [r.action for r in session.scalars(select(SubmissionAudit).order_by(SubmissionAudit.id))]
    assert actions == ["submit", "adopt"]


def test_buttons_on_messages_sent_before_the_names_were_unified_still_work(sessions, playbook, members, templates,
                                                                           make_event, clock, desk) -> None:
    _, case_id = _case(sessions, playbook, members, templates, make_event, clock)
    assert press_button(desk, EDU, f"a:ack:{case_id}").changed
    assert "已经「签收」过了" in press_button(desk, EDU, f"case:acknowledge:{case_id}").text
