"""Escalation: reminders before a deadline, chasing after it, from the case's own snapshot.

:func:`decide` is pure: deadlines, the snapshot's steps, what already fired,
and ``now`` in; what to fire and when to look again out. :func:`run_escalations`
is the shell: it loads due cases, writes one outbox row per target chat and
stores what fired in ``Case.escalation_state`` and ``next_escalation_at``,
so a restart neither repeats nor forgets a step.

Rules: a ``before_due`` step fires at due − offset and is dropped once the
deadline has passed (a reminder after the fact helps nobody; the breach step
takes over). An ``after_due`` step fires at due + offset, then every
``repeat_every``; after downtime only the latest repetition is sent. During
quiet hours non-urgent steps wait until the quiet hours end; urgent ones go
out at once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from playbooks.members import Members
from playbooks.schema import EscalationTarget, EscalationWhen
from responders.cases import STATE_LABELS, State
from responders.clocks import DEADLINE_LABELS, FIRST_INFORMATION_STATES, Deadline, late_by, running
from responders.messages import Templates
from responders.outbox import enqueue
from responders.snapshot import Rules, SnapshotStep
from store.models import Case


@dataclass(frozen=True)
class Firing:
    deadline: Deadline
    step: SnapshotStep
    occurrence: int

    @property
    def key(self) -> str:
        return f"{self.deadline.name}:{self.step.name}"

    @property
    def overdue(self) -> bool:
        return self.step.when is EscalationWhen.after_due


@dataclass(frozen=True)
class Decision:
    fire: tuple[Firing, ...]
    next_at: dt.datetime | None


def in_quiet_hours(moment: dt.datetime, start: dt.time, end: dt.time, tz: dt.tzinfo) -> bool:
    t = moment.astimezone(tz).time()
    return (start <= t or t < end) if start > end else (start <= t < end)


def quiet_hours_end(moment: dt.datetime, end: dt.time, tz: dt.tzinfo) -> dt.datetime:
    """The first moment after *moment* when the quiet hours end."""
    local = moment.astimezone(tz)
    candidate = dt.datetime.combine(local.date(), end, tz)
    if candidate <= local:
        candidate = dt.datetime.combine(local.date() + dt.timedelta(days=1), end, tz)
    return candidate


def _schedule(deadline: Deadline, step: SnapshotStep, now: dt.datetime) -> tuple[int | None, dt.datetime | None]:
    """(latest occurrence due by now or None, time of the next occurrence or None)."""
    if step.when is EscalationWhen.before_due:
        start = deadline.due - step.offset
        if now >= deadline.due:
            return None, None
        return (0, None) if now >= start else (None, start)
    start = deadline.due + step.offset
    if now < start:
        return None, start
    if step.repeat_every is None or step.repeat_every <= dt.timedelta(0):
        return 0, None
    k = int((now - start) / step.repeat_every)
    return k, start + (k + 1) * step.repeat_every


def decide(deadlines: Sequence[Deadline], rules: Rules, fired: dict[str, Any], now: dt.datetime) -> Decision:
    """What escalation steps to fire now and when to look again. Pure."""
    fire: list[Firing] = []
    upcoming: list[dt.datetime] = []
    quiet = in_quiet_hours(now, rules.quiet_start, rules.quiet_end, rules.tz)
    for deadline in deadlines:
        for step in rules.steps:
            occurrence, next_at = _schedule(deadline, step, now)
            if next_at is not None:
                upcoming.append(next_at)
            key = f"{deadline.name}:{step.name}"
            if occurrence is None or occurrence <= fired.get(key, -1):
                continue
            if quiet and not step.urgent:
                upcoming.append(quiet_hours_end(now, rules.quiet_end, rules.tz))
                continue
            fire.append(Firing(deadline, step, occurrence))
    return Decision(tuple(fire), min(upcoming) if upcoming else None)


def deadlines_of(a: Case) -> list[Deadline]:
    """The deadlines still running for a case (:func:`responders.clocks.running`)."""
    return running(a)


# --------------------------------------------------------------------------- the shell


def target_chats(target: EscalationTarget, department: str, members: Members) -> list[int]:
    """Chats a step's target resolves to; an unconfigured department falls back to the duty chat."""
    dept_chat = members.chat_of(department)
    resolve: dict[EscalationTarget, Callable[[], list[int]]] = {
        EscalationTarget.department: lambda: [dept_chat or members.duty.chat_id],
        EscalationTarget.department_head: lambda: [members.head_chat_of(department) or members.duty.chat_id],
        EscalationTarget.duty_chat: lambda: [members.duty.chat_id],
        EscalationTarget.duty_chief: lambda: [members.duty.chief],  # private chat id = user id
    }
    return resolve.get(target, lambda: [members.duty.chat_id])()


def _write_firing(session: Session, a: Case, firing: Firing, members: Members, templates: Templates,
                  now: dt.datetime) -> int:
    text = templates.render(
        "escalation", a=a, event=a.event, overdue=firing.overdue, due=firing.deadline.due,
        deadline_label=DEADLINE_LABELS[firing.deadline.name], state_label=STATE_LABELS[State(a.state)],
        step=firing.step.name, late=late_by(firing.deadline.due, now, templates) if firing.overdue else None)
    chats = sorted({c for t in firing.step.notify for c in target_chats(t, a.department_key, members)})
    stamp = int(firing.deadline.due.timestamp())
    written = 0
    for chat in chats:
        key = f"escalation:{a.id}:{firing.key}:{stamp}:{firing.occurrence}:{chat}"
        if enqueue(session, dedupe_key=key, kind="escalation", chat_id=chat, text=text, now=now,
                   event_id=a.event_id, case_id=a.id) is not None:
            written += 1
    return written


def escalate_one(session: Session, a: Case, members: Members, templates: Templates, now: dt.datetime) -> int:
    """Decide and record escalation for one case; returns the number of messages queued."""
    rules = Rules.of(a.rule_snapshot)
    state = dict(a.escalation_state or {})
    fired = dict(state.get("fired", {}))
    decision = decide(deadlines_of(a), rules, fired, now)
    queued = 0
    for firing in decision.fire:
        queued += _write_firing(session, a, firing, members, templates, now)
        fired[firing.key] = firing.occurrence
    state["fired"] = fired
    a.escalation_state = state
    a.escalation_step = (a.escalation_step or 0) + len(decision.fire)
    a.next_escalation_at = decision.next_at
    return queued


def run_escalations(session: Session, members: Members, templates: Templates, now: dt.datetime) -> int:
    """Escalate every open case whose next look is due."""
    due = session.scalars(
        select(Case)
        .where(Case.state.in_([s.value for s in FIRST_INFORMATION_STATES]))
        .where(or_(Case.next_escalation_at.is_(None), Case.next_escalation_at <= now))
        .order_by(Case.id)
    )
    return sum(escalate_one(session, a, members, templates, now) for a in list(due))
