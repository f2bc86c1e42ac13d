from __future__ import annotations

import datetime as dt
import re

import pytest
from responders_support import local
from sqlalchemy import select

from responders.cases import (
    TRANSITIONS,
    Actor,
    State,
    allowed_actions,
    combined_status,
    get_case,
    open_from_routing,
    transition,
)
from responders.clocks import overdue
from responders.errors import AlreadyDone, BadCommand, InvalidTransition
from responders.routing import EventFacts, route
from store.database import session_scope
from store.models import AuditRowImmutable, CaseAudit, Clarification, Event

DUTY = Actor("值班员", user_id=100002, chat_id="-1")
DEPT = Actor("教育厅联络员", user_id=200101, chat_id="-2")

DETAIL = {
    "notify": {},
    "acknowledge": {},
    "extend": {"reason": "涉及多部门，情况复杂"},
    "respond": {"url": "https://jyt.jl.gov.cn/reply/1"},
    "explain": {"text": "该事项属司法程序，依法无法办理"},
    "reassign": {"department": "省交通厅", "reason": "校车线路属交通部门"},
    "dismiss": {"reason": "重复信息"},
    "close": {},
}


@pytest.fixture
def open_case(sessions, playbook, make_event, clock):
    """Open the routed cases of a 教育 event; returns the lead's case id."""

    def make(title: str = "学校补课收费", **kw) -> int:
        event_id = make_event(title, **kw)
        with session_scope(sessions) as session:
            event = session.get(Event, event_id)
            facts = EventFacts(title=event.title, category=event.category, heat=event.heat,
                               rumour_probability=event.rumour_probability, is_emergency=event.is_emergency,
                               signals=tuple(event.signals or ()))
            opened = open_from_routing(session, event, route(facts, playbook), playbook, now=clock())
            return opened[0].id

    return make


def _drive(session, a, path, playbook, now):
    for action in path:
        detail = dict(DETAIL[action])
        if action == "reassign":
            detail["playbook"] = playbook
        actor = Actor.system() if action == "notify" else DUTY
        transition(session, a, action, actor, now=now, **detail)


# how to reach each state from new
PATHS = {
    State.new: [],
    State.notified: ["notify"],
    State.acknowledged: ["notify", "acknowledge"],
    State.extended: ["notify", "acknowledge", "extend"],
    State.responded: ["notify", "acknowledge", "respond"],
    State.explained: ["notify", "acknowledge", "explain"],
    State.reassigned: ["notify", "reassign"],
    State.dismissed: ["dismiss"],
    State.closed: ["notify", "acknowledge", "respond", "close"],
}


@pytest.mark.parametrize("start", list(State))
@pytest.mark.parametrize("action", list(TRANSITIONS))
def test_every_transition_follows_the_table(sessions, playbook, templates, open_case, clock, start,
                                           action) -> None:
    case_id = open_case()
    with session_scope(sessions) as session:
        a = get_case(session, case_id)
        _drive(session, a, PATHS[start], playbook, clock())
        assert a.state == start.value
        detail = dict(DETAIL[action], playbook=playbook) if action == "reassign" else DETAIL[action]
        t = TRANSITIONS[action]
        if start in t.sources:
            before = len(a.history)
            transition(session, a, action, DUTY, now=clock(), **detail)
            assert a.state == t.target.value
            session.refresh(a)
            last = a.history[-1]
            assert len(a.history) == before + 1
            assert (last.action, last.from_state, last.to_state, last.actor, last.chat_id) == (
                action, start.value, t.target.value, "值班员", "-1")
        else:
            with pytest.raises(InvalidTransition) as err:
                transition(session, a, action, DUTY, now=clock(), **detail)
            assert f"#{case_id}" in templates.said(err.value)
            assert a.state == start.value


def test_second_acknowledge_is_already_done(sessions, playbook, templates, open_case, clock) -> None:
    case_id = open_case()
    with session_scope(sessions) as session:
        a = get_case(session, case_id)
        transition(session, a, "acknowledge", DEPT, now=clock())
        with pytest.raises(AlreadyDone) as err:
            transition(session, a, "acknowledge", DEPT, now=clock())
        said = templates.said(err.value)
        assert "已经「签收」过了" in said and "教育厅联络员" in said
        assert [e.action for e in a.history] == ["open", "acknowledge"]


def test_invalid_transition_says_what_is_allowed(sessions, playbook, templates, open_case, clock) -> None:
    case_id = open_case()
    with session_scope(sessions) as session:
        a = get_case(session, case_id)
        with pytest.raises(InvalidTransition) as err:
            transition(session, a, "extend", DEPT, now=clock(), reason="复杂")
        assert re.search("不能执行「延期」.*签收", templates.said(err.value))
    assert "extend" not in allowed_actions("new") and "acknowledge" in allowed_actions("notified")


def test_reasons_are_required(sessions, playbook, open_case, clock) -> None:
    case_id = open_case()
    with session_scope(sessions) as session:
        a = get_case(session, case_id)
        transition(session, a, "acknowledge", DEPT, now=clock())
        for action in ("extend", "explain", "dismiss"):
            with pytest.raises(BadCommand):
                transition(session, a, action, DUTY, now=clock(), reason="  ", text="")
        with pytest.raises(BadCommand):
            transition(session, a, "respond", DEPT, now=clock())
        assert a.state == "acknowledged"


def test_ordinary_clocks_from_the_snapshot(sessions, playbook, open_case, clock) -> None:
    clock.now = local(2026, 9, 30, 10, 0)  # the day before National Day
    case_id = open_case()
    with session_scope(sessions) as session:
        a = get_case(session, case_id)
        assert a.acknowledge_due_at == local(2026, 9, 30, 14, 0)
        # 7 working days: 10-08, 10-09, 10-10 (make-up Saturday), 10-12, 13, 14, 15
        assert a.respond_due_at == local(2026, 10, 15, 17, 0)
        assert a.first_information_due_at is None
        assert a.rule_snapshot["clocks"]["respond_working_days"] == 7
        transition(session, a, "acknowledge", DEPT, now=local(2026, 9, 30, 15, 0))
        assert a.acknowledged_on_time is False
        transition(session, a, "extend", DEPT, now=local(2026, 10, 9, 9, 0), reason="涉及多个部门")
        # 15 working days from the day it opened
        assert a.respond_due_at == local(2026, 10, 27, 17, 0)
        assert a.extended and a.extension_reason == "涉及多个部门"


def test_snapshot_outlives_a_playbook_edit(sessions, playbook, open_case, clock) -> None:
    case_id = open_case()
    with session_scope(sessions) as session:
        a = get_case(session, case_id)
        snapshot = a.rule_snapshot
    assert snapshot["clocks"]["acknowledge_seconds"] == playbook.clocks.acknowledge.total_seconds()
    assert [s["name"] for s in snapshot["escalation"]] == [s.name for s in playbook.escalation]


def test_rumour_clock_and_on_time_response(sessions, playbook, open_case, clock) -> None:
    case_id = open_case("网传学校停课", rumour=0.9)
    with session_scope(sessions) as session:
        a = get_case(session, case_id)
        assert a.acknowledge_due_at == clock() + playbook.clocks.rumour.acknowledge
        assert a.first_information_due_at == clock() + playbook.clocks.rumour.first_information
        transition(session, a, "respond", DEPT, now=clock() + dt.timedelta(hours=6), text="经核实，系谣言")
        assert a.responded_on_time is True  # the answer is within 7 working days ...
        assert a.first_information_at is None  # ... but nothing is published: the 5-hour clock still runs
        assert [d.name for d in overdue(a, clock() + dt.timedelta(hours=6))] == ["first_information"]
        assert a.acknowledged_at is not None  # a response implies receipt
        # respond alone creates no clarification: only a department's submission does
        assert session.scalar(select(Clarification).where(Clarification.case_id == a.id)) is None


def test_emergency_and_policy_reprint_clocks(sessions, playbook, open_case, clock) -> None:
    clock.now = local(2026, 11, 20, 16, 0)  # a Friday
    e = open_case("化工厂泄漏", emergency=True)
    p = open_case("国务院关于进一步优化政务服务的意见", signals=["policy"])
    with session_scope(sessions) as session:
        emergency = get_case(session, e)
        assert emergency.acknowledge_due_at == clock() + playbook.clocks.emergency.acknowledge
        reprint = get_case(session, p)
        assert reprint.first_information_due_at == clock() + playbook.clocks.policy_reprint.target
        assert reprint.respond_due_at == local(2026, 11, 23, 17, 0)  # at the latest one working day


def test_reassign_opens_a_case_for_the_target(sessions, playbook, open_case, clock) -> None:
    case_id = open_case()
    with session_scope(sessions) as session:
        a = get_case(session, case_id)
        transition(session, a, "reassign", DUTY, now=clock(), department="省交通厅", reason="校车线路",
                   playbook=playbook)
        new_id = a.history[-1].detail["new_case"]
        new = get_case(session, new_id)
        assert new.department_key == "省交通厅" and new.role == "manual" and new.state == "new"
        assert "省教育厅" in new.reason and new.rule_snapshot["profile"] == a.rule_snapshot["profile"]


def test_audit_rows_are_append_only(sessions, open_case) -> None:
    open_case()
    with pytest.raises(AuditRowImmutable), session_scope(sessions) as session:
        row = session.scalars(select(CaseAudit)).first()
        row.actor = "someone else"


def test_event_status_combines_its_cases() -> None:
    assert combined_status([]) == "open"
    assert combined_status(["new", "acknowledged"]) == "assigned"
    assert combined_status(["acknowledged", "responded"]) == "in_progress"
    assert combined_status(["responded", "explained", "dismissed"]) == "responded"
    assert combined_status(["closed", "reassigned"]) == "closed"
    assert combined_status(["dismissed"]) == "dismissed"


def test_event_status_follows_transitions(sessions, playbook, open_case, clock) -> None:
    case_id = open_case()
    with session_scope(sessions) as session:
        a = get_case(session, case_id)
        assert a.event.status == "assigned"
        for other in session.scalars(select(type(a)).where(type(a).event_id == a.event_id)):
            transition(session, other, "respond", DUTY, now=clock(), text="已答复")
        assert a.event.status == "responded"
