"""What the chats show: alerts, case notices, /case, /status, /today, /overdue — rendered from templates."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from classifiers.signals import Signal
from responders.actions import ACTIONS, Target, button_data
from responders.cases import OPEN_STATES, STATE_LABELS, TRANSITIONS, State, cases_of
from responders.clocks import is_overdue
from responders.consultation import consultation_of
from responders.messages import Templates
from responders.notifiers import Button
from store.models import Case, Event, OutboxMessage, Submission

ROLE_LABELS = {"lead": "牵头", "co": "协办", "local": "属地", "override": "协同", "manual": "指派"}
STATE_TEXT = {s.value: label for s, label in STATE_LABELS.items()}
Buttons = tuple[tuple[Button, ...], ...]


def breakdown_lines(breakdown: Any, templates: Templates) -> list[str]:
    """The heat score's parts as short phrases in the playbook's words (``replies.heat_part``), whatever
    shape the classifier stored; a part stored before its numbers were kept shows its stored note."""
    if not breakdown:
        return []
    if isinstance(breakdown, dict) and isinstance(breakdown.get("parts"), list):
        return [str(templates.reply("heat_part", part=str(part.get("name", "?")),
                                    points=float(part.get("points", 0)), facts=part.get("facts") or {},
                                    note=part.get("note") or ""))
                for part in breakdown["parts"] if isinstance(part, dict)]
    if isinstance(breakdown, dict):
        return [f"{k} {v:.1f}" if isinstance(v, (int, float)) else f"{k} {v}" for k, v in breakdown.items()]
    if isinstance(breakdown, list):
        return [str(x) for x in breakdown]
    return [str(breakdown)]


def signal_lines(stored: Any) -> list[str]:
    """Which signals fired on the event and the words that fired them (突发事件（爆炸、死亡）…)."""
    out = []
    for data in stored or []:
        if isinstance(data, dict) and "kind" in data:
            out.append(Signal.from_data(data).explain())
    return out


def button(action: str, number: int) -> Button:
    """The button for *action* on *number*: its word from the actions table, its data the action's name."""
    return Button(ACTIONS[action].button or action, button_data(action, number))


def department_buttons(a: Case) -> Buttons:
    """The case's buttons its state allows (a case's actions that have a button)."""
    state = State(a.state)
    row = tuple(button(name, a.id) for name, spec in ACTIONS.items()
                if spec.target is Target.case and spec.button and spec.typed and state in TRANSITIONS[name].sources)
    return (row,) if row else ()


def duty_buttons(event: Event) -> Buttons:
    if event.status in ("ignored", "dismissed", "closed"):
        return ()
    first_row = tuple(button(a, event.id) for a in ("confirm", "ignore", "assign", "consult"))
    return (first_row, (button("digest", event.id),))


def case_notice(session: Session, a: Case, templates: Templates, *, links: list[str] | None = None,
                excerpt: str = "") -> tuple[str, Buttons]:
    consultation = consultation_of(session, a.event_id)
    text = templates.render("case_notice", a=a, event=a.event, roles=ROLE_LABELS, links=links or [],
                            excerpt=excerpt, state_label=STATE_TEXT[a.state],
                            agreed_line=consultation.agreed_line if consultation else None)
    return text, department_buttons(a)


def duty_alert_message(session: Session, event: Event, templates: Templates, *, verdict: str | None,
                       category: str, terms: list[str], links: list[str], excerpt: str,
                       consult_reasons: list[str]) -> tuple[str, Buttons]:
    text = templates.render(
        "duty_alert", event=event, category=category, verdict=verdict,
        breakdown=breakdown_lines(event.heat_breakdown, templates),
        terms=terms, links=links, excerpt=excerpt, cases=cases_of(session, event.id),
        roles=ROLE_LABELS, consult_reasons=consult_reasons, signals=signal_lines(event.signals))
    return text, duty_buttons(event)


def event_cases_message(session: Session, event: Event, templates: Templates) -> str:
    return templates.render("event_cases", event=event, cases=cases_of(session, event.id),
                            roles=ROLE_LABELS, labels=STATE_TEXT, consultation=consultation_of(session, event.id))


def _open_cases(session: Session) -> list[Case]:
    return list(session.scalars(select(Case).where(Case.state.in_([s.value for s in OPEN_STATES]))
                                .order_by(Case.respond_due_at, Case.id)))


def _failed_alerts(session: Session) -> int:
    return len(list(session.scalars(select(OutboxMessage.id).where(OutboxMessage.state == "failed"))))


def list_message(session: Session, templates: Templates, title: str, rows: list[Case]) -> str:
    return templates.render("case_list", title=title, rows=rows, labels=STATE_TEXT, failed=_failed_alerts(session))


def status_rows(session: Session) -> list[Case]:
    """Every open case, soonest deadline first."""
    return _open_cases(session)


def overdue_rows(session: Session, now: dt.datetime) -> list[Case]:
    return [a for a in _open_cases(session) if is_overdue(a, now)]


def today_rows(session: Session, now: dt.datetime, tz: dt.tzinfo) -> list[Case]:
    """Cases opened today or due by the end of today (office timezone)."""
    local = now.astimezone(tz)
    start = dt.datetime.combine(local.date(), dt.time(0), tz)
    end = start + dt.timedelta(days=1)
    opened = session.scalars(select(Case).where(Case.opened_at >= start, Case.opened_at < end))
    due = [a for a in _open_cases(session) if any(
        d is not None and d < end for d in (a.respond_due_at, a.acknowledge_due_at, a.first_information_due_at))]
    seen: dict[int, Case] = {a.id: a for a in opened}
    for a in due:
        seen.setdefault(a.id, a)
    return sorted(seen.values(), key=lambda a: a.id)


def submission_message(row: Submission, templates: Templates) -> str:
    """The duty editors' notice of a new submission (escaped: the text is the unit's)."""
    return templates.reply("submission_notice", s=row)


def submission_buttons(row: Submission) -> Buttons:
    return (tuple(button(a, row.id) for a in ("adopt", "decline", "digest_submission")),)
