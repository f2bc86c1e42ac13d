"""A case's running clocks and what "overdue" means: the one definition every view and the escalation use.

A case has up to three deadlines (签收 acknowledge, 首次权威信息 first information,
答复 respond). The acknowledge clock runs until 签收; the first-information clock
until the clarification is *published* (seen online or marked published with its URL,
not merely submitted); the respond clock while the case is open.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from sqlalchemy import ColumnElement, and_, or_

from responders.cases import OPEN_STATES, State
from store.models import Case

if TYPE_CHECKING:
    from responders.messages import Templates

DEADLINE_LABELS = {"acknowledge": "签收", "first_information": "首次权威信息发布", "respond": "答复"}
# A case whose answer is submitted still waits for its first information to be published.
FIRST_INFORMATION_STATES = OPEN_STATES | {State.responded}


@dataclass(frozen=True)
class Deadline:
    name: str  # acknowledge | first_information | respond
    due: dt.datetime

    @property
    def label(self) -> str:
        return DEADLINE_LABELS[self.name]


class Clocked(Protocol):
    """What the clocks read of a case: an :class:`Case`, or a row of just these columns (reports)."""

    @property
    def state(self) -> str: ...
    @property
    def acknowledged_at(self) -> dt.datetime | None: ...
    @property
    def acknowledge_due_at(self) -> dt.datetime | None: ...
    @property
    def first_information_at(self) -> dt.datetime | None: ...
    @property
    def first_information_due_at(self) -> dt.datetime | None: ...
    @property
    def respond_due_at(self) -> dt.datetime | None: ...


CLOCK_COLUMNS = (Case.state, Case.acknowledged_at, Case.acknowledge_due_at,
                 Case.first_information_at, Case.first_information_due_at, Case.respond_due_at)


def running(a: Clocked) -> list[Deadline]:
    """The deadlines still running for a case."""
    state = State(a.state)
    out = []
    if state in OPEN_STATES and a.acknowledged_at is None and a.acknowledge_due_at is not None:
        out.append(Deadline("acknowledge", a.acknowledge_due_at))
    if (state in FIRST_INFORMATION_STATES and a.first_information_at is None
            and a.first_information_due_at is not None):
        out.append(Deadline("first_information", a.first_information_due_at))
    if state in OPEN_STATES and a.respond_due_at is not None:
        out.append(Deadline("respond", a.respond_due_at))
    return out


def overdue_clause(now: dt.datetime) -> ColumnElement[bool]:
    """The rule of :func:`running` and :func:`overdue` as a SQL condition, to count overdue cases in the
    database (a report over thousands of cases); a test keeps the two in step."""
    def state_in(states: frozenset[State]) -> ColumnElement[bool]:
        return Case.state.in_([s.value for s in states])

    return or_(
        and_(state_in(OPEN_STATES), Case.acknowledged_at.is_(None), Case.acknowledge_due_at < now),
        and_(state_in(FIRST_INFORMATION_STATES), Case.first_information_at.is_(None),
             Case.first_information_due_at < now),
        and_(state_in(OPEN_STATES), Case.respond_due_at < now),
    )


def overdue(a: Clocked, now: dt.datetime) -> list[Deadline]:
    """The running deadlines that have passed."""
    return [d for d in running(a) if d.due < now]


def is_overdue(a: Case, now: dt.datetime) -> bool:
    return bool(overdue(a, now))


def late_by(due: dt.datetime, now: dt.datetime, templates: Templates) -> str:
    """How late, in words read at a glance (the playbook's ``replies.duration``: 3天4小时, 2小时15分)."""
    return duration(now - due, templates)


def duration(span: dt.timedelta, templates: Templates) -> str:
    """A span in days, hours and minutes as the playbook's ``replies.duration`` words it (never negative)."""
    seconds = max(0, int(span.total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    return templates.reply("duration", days=days, hours=hours, minutes=rest // 60)
