"""Cases: one department's duty on one event, its state machine and its audit trail.

States: new → notified → acknowledged (签收) → responded → closed, plus
extended (延期, 15 working days, with a reason), reassigned (转办, duty staff
approve), explained (无法办理, with the explanation) and dismissed (duty staff,
with a reason). The allowed moves are the ``TRANSITIONS`` table; anything
else raises :class:`InvalidTransition` naming the state and what is allowed.

Every change appends an :class:`CaseAudit` (who, which chat, when,
what). Deadlines come from the case's rule snapshot, never from the live
playbook. ``now`` is always passed in.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import Enum
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from playbooks.schema import Playbook
from responders.actions import ACTIONS
from responders.errors import AlreadyDone, BadCommand, InvalidTransition, UnknownCase, UnknownDepartment
from responders.messages import Templates
from responders.routing import Profile, Role, RouteIntent, Routing
from responders.snapshot import Rules, acknowledge_due, take_snapshot
from store.models import Case, CaseAudit, Department, Event, Item


class State(str, Enum):
    new = "new"
    notified = "notified"
    acknowledged = "acknowledged"
    extended = "extended"
    responded = "responded"
    explained = "explained"
    reassigned = "reassigned"
    dismissed = "dismissed"
    closed = "closed"


STATE_LABELS = {
    State.new: "待通知",
    State.notified: "待签收",
    State.acknowledged: "已签收",
    State.extended: "已延期",
    State.responded: "已回应",
    State.explained: "已说明无法办理",
    State.reassigned: "已转办",
    State.dismissed: "已撤销",
    State.closed: "已办结",
}

OPEN_STATES = frozenset({State.new, State.notified, State.acknowledged, State.extended})
DONE_STATES = frozenset({State.responded, State.explained, State.closed})
WITHDRAWN_STATES = frozenset({State.reassigned, State.dismissed})


class Who(str, Enum):
    department = "department"  # a member of the assigned department (or duty staff on its behalf)
    duty = "duty"  # duty staff only
    system = "system"  # the service itself (delivery receipts, portal replies)


@dataclass(frozen=True)
class Transition:
    """Where an action may start, where it leaves the case, and who may take it (its words: ``ACTIONS``)."""

    sources: frozenset[State]
    target: State
    who: frozenset[Who]


_DEPT = frozenset({Who.department, Who.duty})
TRANSITIONS: dict[str, Transition] = {
    "notify": Transition(frozenset({State.new}), State.notified, frozenset({Who.system})),
    "acknowledge": Transition(frozenset({State.new, State.notified}), State.acknowledged, _DEPT),
    "extend": Transition(frozenset({State.acknowledged}), State.extended, _DEPT),
    "respond": Transition(OPEN_STATES, State.responded, _DEPT | {Who.system}),
    "explain": Transition(OPEN_STATES, State.explained, _DEPT),
    "reassign": Transition(OPEN_STATES, State.reassigned, frozenset({Who.duty})),
    "dismiss": Transition(OPEN_STATES, State.dismissed, frozenset({Who.duty})),
    "close": Transition(DONE_STATES - {State.closed}, State.closed, frozenset({Who.duty, Who.system})),
}


@dataclass(frozen=True)
class Actor:
    """Who acts, from which chat; ``name`` goes into the audit trail."""

    name: str
    user_id: int | None = None
    chat_id: str | None = None

    @classmethod
    def system(cls) -> Actor:
        return cls("system")


def allowed_actions(state: State | str) -> list[str]:
    state = State(state)
    return [name for name, t in TRANSITIONS.items() if state in t.sources]


def _labels(actions: list[str]) -> str:
    return "、".join(ACTIONS[a].label for a in actions if TRANSITIONS[a].who != {Who.system})


# --------------------------------------------------------------------------- opening


def _ensure_department(session: Session, key: str, playbook: Playbook) -> None:
    if key not in playbook.departments:
        raise UnknownDepartment(reply="not_in_playbook", department=key)
    if session.get(Department, key) is None:
        unit = playbook.departments[key]
        session.add(Department(key=key, kind=unit.kind.value, full_name=unit.full_name,
                               parent_key=unit.parent, ranked=unit.is_ranked, active=True))
        session.flush()


def _audit(session: Session, a: Case, actor: Actor, action: str, from_state: str | None,
           now: dt.datetime, **detail: Any) -> None:
    session.add(CaseAudit(
        case_id=a.id, at=now, actor=actor.name, chat_id=actor.chat_id, action=action,
        from_state=from_state, to_state=a.state, detail={k: v for k, v in detail.items() if v is not None},
    ))


def open_case(session: Session, event: Event, snapshot: dict[str, Any], *, role: str, reason: str,
              department: str, actor: Actor, now: dt.datetime,
              received_at: dt.datetime | None = None) -> Case:
    """Open one case for *department* under *snapshot*, with its deadlines.

    The 签收 clock runs from the notice (now); the first-information and respond clocks from
    *received_at*, when the citizen's message or the report was received (2015 §四 counts
    from 收到), never later than now.
    """
    rules = Rules.of(snapshot)
    start = min(received_at, now) if received_at is not None else now
    a = Case(
        event_id=event.id, department_key=department, role=role, reason=reason, state=State.new.value,
        rule_snapshot=snapshot, opened_at=now, clock_started_at=start,
        acknowledge_due_at=acknowledge_due(rules, now),
        first_information_due_at=(
            rules.clock.due_in(start, rules.first_information) if rules.first_information is not None else None
        ),
        respond_due_at=rules.clock.due_in_working_days(start, rules.respond_working_days),
        escalation_state={},
    )
    session.add(a)
    session.flush()
    _audit(session, a, actor, "open", None, now, role=role, reason=reason, profile=rules.profile.value,
           clock_started_at=start.isoformat())
    return a


def open_from_routing(session: Session, event: Event, routing: Routing, playbook: Playbook, *,
                      now: dt.datetime, actor: Actor | None = None,
                      received_at: dt.datetime | None = None) -> list[Case]:
    """Open a case for every routed department the event does not have yet."""
    actor = actor or Actor.system()
    existing = set(session.scalars(select(Case.department_key).where(Case.event_id == event.id)))
    opened = []
    for intent in routing.intents:
        if intent.department in existing:
            continue
        opened.append(add_department(session, event, intent, routing.profile, routing.category, playbook,
                                     now=now, actor=actor, received_at=received_at))
    if opened:
        refresh_event_status(session, event)
    return opened


def add_department(session: Session, event: Event, intent: RouteIntent, profile: Profile, category: str,
                   playbook: Playbook, *, now: dt.datetime, actor: Actor,
                   received_at: dt.datetime | None = None) -> Case:
    """Open a case for one department under the current playbook (routing or 指派)."""
    _ensure_department(session, intent.department, playbook)
    taken = session.scalar(select(Case).where(
        Case.event_id == event.id, Case.department_key == intent.department))
    if taken is not None:
        raise AlreadyDone(taken.id, ACTIONS["assign"].label, taken.state, department=intent.department)
    snapshot = take_snapshot(playbook, profile, role=intent.role.value, reason=intent.reason, category=category)
    return open_case(session, event, snapshot, role=intent.role.value, reason=intent.reason,
                           department=intent.department, actor=actor, now=now,
                           received_at=received_at or event_received_at(session, event))


def event_received_at(session: Session, event: Event) -> dt.datetime | None:
    """When the event's first message or report was received: its own time, never after we fetched it."""
    rows = session.execute(select(Item.published_at, Item.fetched_at).where(Item.event_id == event.id)).all()
    times = [min(p, f) if p is not None else f for p, f in rows if f is not None]
    return min(times) if times else None


# --------------------------------------------------------------------------- transitions


def get_case(session: Session, case_id: int) -> Case:
    a = session.get(Case, case_id)
    if a is None:
        raise UnknownCase(reply="no_such", kind="case", n=case_id)
    return a


def check(a: Case, action: str) -> Transition:
    """The transition for *action*, or the typed error saying why it cannot happen now."""
    try:
        t = TRANSITIONS[action]
    except KeyError:
        raise BadCommand(reply="unknown_action", action=action) from None
    state = State(a.state)
    if state in t.sources:
        return t
    if state == t.target or (action == "acknowledge" and a.acknowledged_at is not None):
        last = next((e for e in reversed(a.history) if e.action == action), None)
        raise AlreadyDone(a.id, ACTIONS[action].label, a.state, by=last.actor if last else None,
                          at=last.at if last else None)
    raise InvalidTransition(a.id, ACTIONS[action].label, STATE_LABELS[state], _labels(allowed_actions(state)))


def transition(session: Session, a: Case, action: str, actor: Actor, *, now: dt.datetime,
               **detail: Any) -> Case:
    """Apply *action* to *a*; validates, updates fields, appends the audit row."""
    t = check(a, action)
    before = a.state
    audit_detail = _APPLY[action](session, a, now, actor, detail)
    a.state = t.target.value
    _audit(session, a, actor, action, before, now, **audit_detail)
    session.flush()
    refresh_event_status(session, a.event)
    return a


def _require(detail: dict[str, Any], key: str, what: str) -> str:
    """The detail *key*, or the refusal naming *what* is missing (``replies.fill_in``)."""
    value = (detail.get(key) or "").strip()
    if not value:
        raise BadCommand(reply="fill_in", what=what)
    return value


def _apply_notify(
    session: Session, a: Case, now: dt.datetime, actor: Actor, d: dict[str, Any]
) -> dict[str, Any]:
    return {"message_id": d.get("message_id")}


def _apply_acknowledge(
    session: Session, a: Case, now: dt.datetime, actor: Actor, d: dict[str, Any]
) -> dict[str, Any]:
    a.acknowledged_at = now
    a.acknowledged_on_time = a.acknowledge_due_at is None or now <= a.acknowledge_due_at
    return {"on_time": a.acknowledged_on_time}


def _apply_extend(
    session: Session, a: Case, now: dt.datetime, actor: Actor, d: dict[str, Any]
) -> dict[str, Any]:
    reason = _require(d, "reason", "extend_reason")
    rules = Rules.of(a.rule_snapshot)
    a.extended = True
    a.extension_reason = reason
    old = a.respond_due_at
    a.respond_due_at = rules.clock.due_in_working_days(
        a.clock_started_at or a.opened_at, rules.respond_extended_working_days
    )
    state = dict(a.escalation_state or {})
    state["fired"] = {k: v for k, v in state.get("fired", {}).items() if not k.startswith("respond:")}
    a.escalation_state = state
    a.next_escalation_at = None
    return {"reason": reason, "old_due": old.isoformat() if old else None, "new_due": a.respond_due_at.isoformat()}


def _apply_respond(
    session: Session, a: Case, now: dt.datetime, actor: Actor, d: dict[str, Any]
) -> dict[str, Any]:
    """The department's answer is in. It records the answer only: a clarification for 审签 is
    created by :func:`responders.clarifications.submit`, and the first-information clock stops
    when something is published (:func:`mark_first_information`)."""
    url, text = (d.get("url") or "").strip() or None, (d.get("text") or "").strip() or None
    if url is None and text is None:
        raise BadCommand(reply="respond_needs_text")
    at: dt.datetime = d.get("at") or now
    if a.acknowledged_at is None:
        a.acknowledged_at = at
        a.acknowledged_on_time = a.acknowledge_due_at is None or at <= a.acknowledge_due_at
    a.responded_at = at
    a.responded_on_time = a.respond_due_at is None or at <= a.respond_due_at
    a.response_url, a.response_text = url, text
    if d.get("published"):
        mark_first_information(a, at)
    return {
        "url": url,
        "text": text,
        "at": at.isoformat(),
        "on_time": a.responded_on_time,
        "source": d.get("source"),
        "answered_by": d.get("answered_by"),
    }


def mark_first_information(a: Case, at: dt.datetime) -> bool:
    """Stop the first-information clock at the publication time; True when this call stopped it."""
    if a.first_information_due_at is None or a.first_information_at is not None:
        return False
    a.first_information_at = at
    return True


def _apply_explain(
    session: Session, a: Case, now: dt.datetime, actor: Actor, d: dict[str, Any]
) -> dict[str, Any]:
    a.explanation = _require(d, "text", "explanation")
    return {"text": a.explanation}


def _apply_reassign(
    session: Session, a: Case, now: dt.datetime, actor: Actor, d: dict[str, Any]
) -> dict[str, Any]:
    target = _require(d, "department", "reassign_target")
    reason = _require(d, "reason", "reassign_reason")
    if target == a.department_key:
        raise BadCommand(reply="already_there", case=a.id, department=target)
    playbook: Playbook = d["playbook"]
    _ensure_department(session, target, playbook)
    moved = Templates.of(playbook).plain("reassigned_from", department=a.department_key, reason=reason)
    snapshot = dict(a.rule_snapshot, role=Role.manual.value, reason=moved)
    taken = session.scalar(
        select(Case).where(Case.event_id == a.event_id, Case.department_key == target)
    )
    if taken is not None:
        raise BadCommand(reply="target_has_case", department=target, case=taken.id)
    new = open_case(
        session,
        a.event,
        snapshot,
        role=Role.manual.value,
        reason=snapshot["reason"],
        department=target,
        actor=actor,
        now=now,
        received_at=a.clock_started_at,
    )
    a.closed_at = now
    return {"to": target, "reason": reason, "new_case": new.id}


def _apply_dismiss(
    session: Session, a: Case, now: dt.datetime, actor: Actor, d: dict[str, Any]
) -> dict[str, Any]:
    reason = _require(d, "reason", "dismiss_reason")
    a.closed_at = now
    return {"reason": reason}


def _apply_close(
    session: Session, a: Case, now: dt.datetime, actor: Actor, d: dict[str, Any]
) -> dict[str, Any]:
    a.closed_at = now
    return {"note": d.get("note")}


_APPLY = {
    "notify": _apply_notify,
    "acknowledge": _apply_acknowledge,
    "extend": _apply_extend,
    "respond": _apply_respond,
    "explain": _apply_explain,
    "reassign": _apply_reassign,
    "dismiss": _apply_dismiss,
    "close": _apply_close,
}


# --------------------------------------------------------------------------- the event's status


EVENT_STATUS_LABELS = {  # an event's status as people read it (the desk's lists and pages)
    "open": "待处置", "assigned": "已交办", "in_progress": "办理中", "responded": "已回应", "closed": "已办结",
    "dismissed": "已撤销", "ignored": "已忽略",
}


def combined_status(states: list[str]) -> str:
    """One word for an event from its cases: the slowest department sets the pace."""
    if not states:
        return "open"
    active = [State(s) for s in states if State(s) not in WITHDRAWN_STATES]
    if not active:
        return "dismissed"
    if all(s is State.closed for s in active):
        return "closed"
    if all(s in DONE_STATES for s in active):
        return "responded"
    if any(s in (State.new, State.notified) for s in active):
        return "assigned"
    return "in_progress"


def refresh_event_status(session: Session, event: Event) -> str:
    """Recompute the event's status from its cases (an ignored event stays ignored)."""
    if event.status == "ignored":
        return event.status
    states = list(session.scalars(select(Case.state).where(Case.event_id == event.id)))
    event.status = combined_status(states)
    return event.status


def cases_of(session: Session, event_id: int) -> list[Case]:
    return list(session.scalars(select(Case).where(Case.event_id == event_id).order_by(Case.id)))
