from __future__ import annotations

import datetime as dt

import pytest
from responders_support import DUTY_CHIEF, local
from sqlalchemy import select

from playbooks.schema import EscalationStep, EscalationTarget, EscalationWhen
from responders.cases import Actor, get_case, open_from_routing, transition
from responders.escalation import deadlines_of, decide, in_quiet_hours, run_escalations
from responders.routing import EventFacts, route
from responders.snapshot import Rules
from store.database import session_scope
from store.models import Case, Event, OutboxMessage


@pytest.fixture
def one_case(sessions, make_event, clock):
    """Open a single 省新闻办 case (category 其他 has no co departments)."""

    def make(playbook, **kw) -> int:
        event_id = make_event("一般投诉建议", category="其他", heat=10, **kw)
        with session_scope(sessions) as session:
            event = session.get(Event, event_id)
            routing = route(EventFacts(title=event.title, category="其他", heat=10,
                                       rumour_probability=event.rumour_probability), playbook)
            return open_from_routing(session, event, routing, playbook, now=clock())[0].id

    return make


def tick(sessions, members, templates, now) -> list[OutboxMessage]:
    """Run the escalation clock at *now*; return the alerts it queued."""
    with session_scope(sessions) as session:
        before = set(session.scalars(select(OutboxMessage.id)))
        run_escalations(session, members, templates, now)
    with session_scope(sessions) as session:
        return [a for a in session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)) if a.id not in before]


def steps(alerts: list[OutboxMessage]) -> list[tuple[str, str]]:
    return [(a.dedupe_key.split(":")[2], a.dedupe_key.split(":")[3]) for a in alerts]


def test_national_day_holiday_escalation(sessions, playbook, members, templates, one_case, clock) -> None:
    clock.now = local(2026, 9, 30, 10, 0)
    case_id = one_case(playbook)
    duty, chief = str(members.duty.chat_id), str(DUTY_CHIEF)
    assert tick(sessions, members, templates, local(2026, 9, 30, 12, 0)) == []
    reminder = tick(sessions, members, templates, local(2026, 9, 30, 13, 0))
    assert steps(reminder) == [("acknowledge", "reminder")]
    assert reminder[0].chat_id == duty  # 省新闻办 has no chat of its own: falls back to the duty chat
    breach = tick(sessions, members, templates, local(2026, 9, 30, 14, 0))
    assert set(steps(breach)) == {("acknowledge", "breach")}
    assert {a.chat_id for a in breach} == {duty, chief}
    assert "已超时" in breach[0].text
    # same moment again: nothing repeats
    assert tick(sessions, members, templates, local(2026, 9, 30, 14, 30)) == []
    with session_scope(sessions) as session:
        transition(session, get_case(session, case_id), "acknowledge", Actor("x", 100002),
                   now=local(2026, 9, 30, 15, 0))
    # through the holiday the answer clock does not run out (due 10-15 17:00)
    for day in range(1, 16):
        assert tick(sessions, members, templates, local(2026, 10, day, 9, 0)) == [], day
    reminder = tick(sessions, members, templates, local(2026, 10, 15, 16, 0))
    assert steps(reminder) == [("respond", "reminder")]
    assert steps(tick(sessions, members, templates, local(2026, 10, 15, 17, 0))) == [("respond", "breach")] * 2
    # repeats every 4 hours after +4h, urgent: even at night
    assert tick(sessions, members, templates, local(2026, 10, 15, 20, 59)) == []
    repeat = tick(sessions, members, templates, local(2026, 10, 15, 21, 0))
    assert {s for s in steps(repeat)} == {("respond", "breach-repeat")}
    assert steps(tick(sessions, members, templates, local(2026, 10, 16, 1, 0))) == [("respond", "breach-repeat")]
    # after a long outage only the latest repetition is sent
    assert len(tick(sessions, members, templates, local(2026, 10, 16, 13, 30))) == 1
    with session_scope(sessions) as session:
        a = get_case(session, case_id)
        assert a.escalation_state["fired"]["respond:breach-repeat"] == 4  # 21:00, 01:00, …, 13:00
        assert a.next_escalation_at == local(2026, 10, 16, 17, 0)


def test_weekend_does_not_count_towards_working_days(sessions, playbook, members, templates, one_case,
                                                      clock) -> None:
    clock.now = local(2026, 11, 20, 15, 0)  # Friday
    case_id = one_case(playbook)
    with session_scope(sessions) as session:
        a = get_case(session, case_id)
        a.acknowledged_at = clock()
        assert a.respond_due_at == local(2026, 12, 1, 17, 0)
    for day in (21, 22, 23, 30):
        assert tick(sessions, members, templates, local(2026, 11, day, 12, 0)) == []
    assert steps(tick(sessions, members, templates, local(2026, 12, 1, 16, 0))) == [("respond", "reminder")]


def test_quiet_hours_delay_non_urgent_steps_only(sessions, playbook, members, templates, one_case, clock) -> None:
    early = EscalationStep(name="early", when=EscalationWhen.before_due, offset=dt.timedelta(hours=12),
                           notify=[EscalationTarget.department])
    book = playbook.model_copy(update={"escalation": [early, *playbook.escalation]})
    clock.now = local(2026, 11, 23, 10, 0)  # Monday; respond due 12-02 17:00, early reminder 05:00
    case_id = one_case(book)
    with session_scope(sessions) as session:
        get_case(session, case_id).acknowledged_at = clock()
    assert tick(sessions, members, templates, local(2026, 12, 2, 5, 0)) == []
    with session_scope(sessions) as session:
        assert get_case(session, case_id).next_escalation_at == local(2026, 12, 2, 7, 30)
    assert steps(tick(sessions, members, templates, local(2026, 12, 2, 7, 30))) == [("respond", "early")]


def test_reminder_dropped_once_the_deadline_passed(playbook) -> None:
    from responders.escalation import Deadline
    from responders.routing import Profile
    from responders.snapshot import take_snapshot

    rules = Rules.of(take_snapshot(playbook, Profile.ordinary, role="lead", reason="", category="其他"))
    due = local(2026, 11, 23, 23, 30)
    # reminder at 22:30 falls in quiet hours; by 07:30 the deadline has passed, so only the breach goes out
    at_night = decide([Deadline("acknowledge", due)], rules, {}, local(2026, 11, 23, 22, 45))
    assert at_night.fire == () and at_night.next_at == due
    later = decide([Deadline("acknowledge", due)], rules, {}, local(2026, 11, 24, 0, 0))
    assert [f.step.name for f in later.fire] == ["breach"]
    assert in_quiet_hours(local(2026, 11, 23, 23, 0), rules.quiet_start, rules.quiet_end, rules.tz)
    assert not in_quiet_hours(local(2026, 11, 23, 12, 0), rules.quiet_start, rules.quiet_end, rules.tz)


def test_closed_case_has_no_deadlines(sessions, playbook, one_case, clock) -> None:
    case_id = one_case(playbook)
    with session_scope(sessions) as session:
        a = get_case(session, case_id)
        assert [d.name for d in deadlines_of(a)] == ["acknowledge", "respond"]
        transition(session, a, "respond", Actor("x", 1), now=clock(), text="已答复")
        assert deadlines_of(a) == []


def test_extension_restarts_the_answer_ladder(sessions, playbook, members, templates, one_case, clock) -> None:
    clock.now = local(2026, 11, 23, 10, 0)
    case_id = one_case(playbook)
    with session_scope(sessions) as session:
        transition(session, get_case(session, case_id), "acknowledge", Actor("x", 1), now=clock())
    assert steps(tick(sessions, members, templates, local(2026, 12, 2, 16, 0))) == [("respond", "reminder")]
    with session_scope(sessions) as session:
        a = get_case(session, case_id)
        transition(session, a, "extend", Actor("x", 1), now=local(2026, 12, 2, 16, 10), reason="复杂")
        new_due = a.respond_due_at
    assert tick(sessions, members, templates, local(2026, 12, 2, 17, 0)) == []
    reminder = tick(sessions, members, templates, new_due - dt.timedelta(hours=1))
    assert steps(reminder) == [("respond", "reminder")]
    with session_scope(sessions) as session:
        assert session.scalar(select(Case.escalation_step).where(Case.id == case_id)) == 2
