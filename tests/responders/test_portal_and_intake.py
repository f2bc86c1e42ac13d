from __future__ import annotations

import datetime as dt

from responders_support import local
from sqlalchemy import select

from responders.intake import process_event, process_recent
from responders.portal_replies import apply_portal_replies
from store.database import session_scope
from store.models import Case, Clarification, Consultation, Event, Item, ItemChange, OutboxMessage


def route_event(sessions, playbook, members, templates, event_id, now):
    with session_scope(sessions) as session:
        return process_event(session, session.get(Event, event_id), playbook, members, templates, now)


def test_cold_event_is_not_routed(sessions, playbook, members, templates, make_event, clock) -> None:
    event_id = make_event(heat=playbook.heat.alert_threshold - 1)
    assert not route_event(sessions, playbook, members, templates, event_id, clock()).routed


def test_routing_is_idempotent(sessions, playbook, members, templates, make_event, clock) -> None:
    event_id = make_event()
    first = route_event(sessions, playbook, members, templates, event_id, clock())
    again = route_event(sessions, playbook, members, templates, event_id, clock())
    assert first.opened and again.opened == []
    with session_scope(sessions) as session:
        assert len(list(session.scalars(select(OutboxMessage)))) == len(first.opened) + 1


def test_rumour_opens_a_consultation_with_spokespersons_and_chief(sessions, playbook, members, templates,
                                                                   make_event, clock) -> None:
    quiet = make_event("网传长春市多所学校停课", heat=20, rumour=0.9)
    assert not route_event(sessions, playbook, members, templates, quiet, clock()).consultation_opened  # no reach yet
    event_id = make_event("网传长春市多所学校停课", heat=20, rumour=0.9, reposts=12)
    result = route_event(sessions, playbook, members, templates, event_id, clock())
    assert result.routed and result.consultation_opened
    with session_scope(sessions) as session:
        c = session.scalar(select(Consultation).where(Consultation.event_id == event_id))
        departments = [p["department"] for p in c.participants]
        assert "省教育厅" in departments and "省公安厅" in departments and departments[-1] == "值班长"
        chats = {a.chat_id for a in session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "consultation"))}
        assert str(members.duty.chat_id) in chats and str(members.duty.chief) in chats


def test_ignored_event_is_not_routed_again(sessions, playbook, members, templates, make_event, clock, desk) -> None:
    from responders.cases import Actor

    event_id = make_event()
    route_event(sessions, playbook, members, templates, event_id, clock())
    assert "已忽略" in desk.ignore(Actor("值班", 100002), event_id).text
    assert "已经忽略过了" in desk.ignore(Actor("值班", 100002), event_id).text
    with session_scope(sessions) as session:
        results = process_recent(session, playbook, members, templates, clock(), clock() - dt.timedelta(days=1))
        assert len(results) == 1 and not results[0].routed
        states = set(session.scalars(select(Case.state)))
        assert states == {"dismissed"} and session.get(Event, event_id).status == "ignored"


def test_portal_reply_closes_the_loop(sessions, playbook, members, templates, make_event, clock) -> None:
    clock.now = local(2026, 11, 23, 10, 0)
    event_id = make_event("长春市某小学乱收费", source_department="省教育厅", kind="portal")
    route_event(sessions, playbook, members, templates, event_id, clock())
    reply_at = local(2026, 11, 25, 9, 0)
    with session_scope(sessions) as session:
        item = session.scalar(select(Item).where(Item.event_id == event_id))
        item.reply_text, item.reply_at = "已责令学校退费", reply_at
        session.add(ItemChange(item_id=item.id, field="reply", new_value="已责令学校退费", at=reply_at))
        other = session.scalar(select(Item).where(Item.event_id.is_(None)))  # no event: left alone
        assert other is None
    with session_scope(sessions) as session:
        opened = len(list(session.scalars(select(Case))))
        assert opened > 1  # the lead, its co departments and 长春市政府
        # one reply answers every case of the message
        assert apply_portal_replies(session, clock(), templates) == opened
    with session_scope(sessions) as session:
        edu = session.scalar(select(Case).where(Case.department_key == "省教育厅"))
        assert edu.state == "responded" and edu.responded_at == reply_at and edu.responded_on_time is True
        assert edu.history[-1].actor == "portal" and edu.history[-1].detail["source"].startswith("item ")
        assert "answered_by" not in edu.history[-1].detail
        others = list(session.scalars(select(Case).where(Case.department_key != "省教育厅")))
        assert {a.state for a in others} == {"responded"} and {a.responded_on_time for a in others} == {True}
        assert {a.history[-1].detail["answered_by"] for a in others} == {"省教育厅"}
        assert session.scalar(select(ItemChange)).handled_at == clock()
        assert session.scalar(select(Clarification)) is None  # a portal reply is not a clarification
    with session_scope(sessions) as session:
        assert apply_portal_replies(session, clock(), templates) == 0  # counted once


def test_late_portal_reply_is_recorded_late(sessions, playbook, members, templates, make_event, clock) -> None:
    clock.now = local(2026, 11, 23, 10, 0)
    event_id = make_event("一般投诉建议", category="其他", heat=20, kind="portal")
    route_event(sessions, playbook, members, templates, event_id, clock())
    with session_scope(sessions) as session:
        item = session.scalar(select(Item).where(Item.event_id == event_id))
        item.reply_at = local(2026, 12, 10, 9, 0)
        session.add(ItemChange(item_id=item.id, field="reply", new_value="答复", at=item.reply_at))
    with session_scope(sessions) as session:
        apply_portal_replies(session, clock(), templates)
        a = session.scalar(select(Case))
        assert a.state == "responded" and a.responded_on_time is False


def test_every_citizen_message_gets_a_case_however_cold(sessions, playbook, members, templates, make_event,
                                                         clock) -> None:
    """件件有回复: a portal message opens a case on the 7-working-day clock even at heat 1."""
    event_id = make_event("咨询灵活就业人员社保缴费基数", category="社保", heat=1.0, rumour=0.05, kind="portal")
    route_event(sessions, playbook, members, templates, event_id, clock())
    with session_scope(sessions) as session:
        lead = session.scalar(select(Case).where(Case.role == "lead"))
        assert lead is not None and lead.department_key == "省劳动保障厅"
        assert lead.respond_due_at == local(2026, 12, 2, 17, 0)  # Mon Nov 23 + 7 working days


def test_an_old_message_fetched_now_is_routed(sessions, playbook, members, templates, make_event, clock) -> None:
    """The routing window counts from when we stored an item, not from when it was posted."""

    event_id = make_event("反映朝阳区某小区暖气不热", category="市政", heat=1.0, kind="portal")
    with session_scope(sessions) as session:
        event = session.get(Event, event_id)
        posted = clock() - dt.timedelta(hours=10)
        event.first_seen_at = event.last_seen_at = posted
        for item in session.scalars(select(Item).where(Item.event_id == event_id)):
            item.published_at, item.fetched_at = posted, clock()
    with session_scope(sessions) as session:
        results = process_recent(session, playbook, members, templates, clock(), clock() - dt.timedelta(minutes=1))
        assert [r.routed for r in results] == [True]
        assert session.scalar(select(Case).where(Case.event_id == event_id)) is not None
