"""Department timeliness from cases: on-time rates for 签收 and 回应, and the overdue list.

Shared by the weekly report and the monthly 通报. A case counts as
late when its on-time flag says so, or — still open — when its deadline
passed before *now*; withdrawn cases (转办, 撤销) do not count at all.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, defer

from responders.cases import OPEN_STATES, STATE_LABELS, WITHDRAWN_STATES, State
from responders.clocks import CLOCK_COLUMNS, overdue_clause
from responders.clocks import overdue as overdue_deadlines
from responders.periods import Period
from store.models import Case, Event


@dataclass
class Rates:
    """One department's record: counts judged and on time, for acknowledgement and response."""

    ack_judged: int = 0
    ack_on_time: int = 0
    resp_judged: int = 0
    resp_on_time: int = 0

    @property
    def ack_rate(self) -> float | None:
        return self.ack_on_time / self.ack_judged if self.ack_judged else None

    @property
    def resp_rate(self) -> float | None:
        return self.resp_on_time / self.resp_judged if self.resp_judged else None


@dataclass(frozen=True)
class Overdue:
    case_id: int
    event_id: int
    event_title: str
    department_key: str
    what: str
    due: dt.datetime
    state: str
    opened_at: dt.datetime


def _judge(on_time: bool | None, done_at: dt.datetime | None, due: dt.datetime | None,
           now: dt.datetime) -> bool | None:
    """True/False when decided, None while the clock still runs (or there is no clock)."""
    if on_time is not None:
        return on_time
    if done_at is None and due is not None and now > due:
        return False
    return None


def rates(cases: list[Case], now: dt.datetime) -> dict[str, Rates]:
    out: dict[str, Rates] = defaultdict(Rates)
    for a in cases:
        if State(a.state) in WITHDRAWN_STATES:
            continue
        r = out[a.department_key]
        ack = _judge(a.acknowledged_on_time, a.acknowledged_at, a.acknowledge_due_at, now)
        if ack is not None:
            r.ack_judged += 1
            r.ack_on_time += int(ack)
        resp = _judge(a.responded_on_time, a.responded_at, a.first_information_due_at or a.respond_due_at, now)
        if resp is not None and (a.responded_on_time is not None or State(a.state) in OPEN_STATES):
            r.resp_judged += 1
            r.resp_on_time += int(resp)
    return dict(out)


# A report reads a case's clocks and state, never its policy snapshot or escalation ladder: leaving those JSON
# columns out of the load keeps the 通报 (and the desk's Units page) fast on a store with many cases.
_HEAVY = (defer(Case.rule_snapshot), defer(Case.escalation_state), defer(Case.response_text))


def opened_in(session: Session, period: Period) -> list[Case]:
    return list(session.scalars(select(Case).options(*_HEAVY)
                                .where(Case.opened_at >= period.start, Case.opened_at < period.end)
                                .order_by(Case.id)))


def overdue_counts(session: Session, now: dt.datetime, opened_before: dt.datetime) -> Counter[str]:
    """Open cases past a deadline per unit, counted by the database (the same rule as :func:`overdue`)."""
    rows = session.execute(select(Case.department_key, func.count(Case.id))
                           .where(Case.state.in_([s.value for s in OPEN_STATES]), overdue_clause(now),
                                  Case.opened_at < opened_before)
                           .group_by(Case.department_key)).all()
    return Counter({key: int(n) for key, n in rows})


def overdue(session: Session, now: dt.datetime) -> list[Overdue]:
    """Open cases past a deadline (the one rule of :func:`responders.clocks.overdue`), most overdue first.

    Only cases with some deadline before *now* are loaded (a case with none cannot be overdue)."""
    past = or_(Case.acknowledge_due_at < now, Case.first_information_due_at < now,
               Case.respond_due_at < now)
    rows = session.execute(select(Case.id, Case.department_key, Case.opened_at, *CLOCK_COLUMNS,
                                  Event.id.label("event_id"), Event.title)
                           .join(Event, Case.event_id == Event.id)
                           .where(Case.state.in_([s.value for s in OPEN_STATES]), past)).all()
    out = [Overdue(a.id, a.event_id, a.title, a.department_key, d.label, d.due, STATE_LABELS[State(a.state)],
                   a.opened_at)
           for a in rows for d in overdue_deadlines(a, now)]
    return sorted(out, key=lambda o: (o.due, o.case_id))
