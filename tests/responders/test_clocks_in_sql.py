"""The overdue rule has two forms — :func:`responders.clocks.overdue` in Python for a case in hand, and
:func:`responders.clocks.overdue_clause` in SQL to count thousands of cases — and they must agree on every
combination of state, stopped clocks and due times, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import itertools
import random

from sqlalchemy import select

from playbooks.schema import Playbook
from responders.cases import State
from responders.clocks import overdue, overdue_clause
from responders.routing import Profile
from responders.snapshot import take_snapshot
from store.database import make_engine, session_factory, session_scope, sync_departments
from store.models import Case, Event

NOW = dt.datetime(2026, 12, 7, 8, 0, tzinfo=dt.UTC)
PAST, FUTURE = NOW - dt.timedelta(hours=3), NOW + dt.timedelta(hours=3)


def test_the_sql_rule_and_the_python_rule_agree(store_url: str, playbook: Playbook) -> None:
    engine = make_engine(store_url)
    sessions = session_factory(engine)
    departments = list(playbook.departments)
    snapshot = take_snapshot(playbook, next(iter(Profile)), role="lead", reason="test", category="教育")
    combos = list(itertools.product(State, (None, PAST), (None, PAST, FUTURE), (None, PAST), (None, PAST, FUTURE),
                                    (None, PAST, FUTURE)))
    random.Random(7).shuffle(combos)
    with session_scope(sessions) as session:
        sync_departments(session, playbook)
        events = [Event(title=f"事件{i}", first_seen_at=PAST, last_seen_at=PAST) for i in range(len(combos) // 200 + 1)]
        session.add_all(events)
        session.flush()
        for i, (state, acked, ack_due, informed, info_due, respond_due) in enumerate(combos):
            session.add(Case(
                event_id=events[i // 200].id, department_key=departments[i % 200], role="lead", reason="test",
                state=state.value, rule_snapshot=snapshot, opened_at=PAST - dt.timedelta(days=1),
                acknowledged_at=acked, acknowledge_due_at=ack_due, first_information_at=informed,
                first_information_due_at=info_due, respond_due_at=respond_due))
    with session_scope(sessions) as session:
        in_python = {a.id for a in session.scalars(select(Case)) if overdue(a, NOW)}
        in_sql = set(session.scalars(select(Case.id).where(overdue_clause(NOW))))
    engine.dispose()
    assert in_python and in_sql == in_python
