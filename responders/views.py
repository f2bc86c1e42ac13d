"""What the chats show: alerts, case notices, /case, /status, /today, /overdue — rendered from templates."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from classifiers.signals import Signal
from responders.assignments import OPEN_STATES, STATE_LABELS, TRANSITIONS, State, assignments_of
from responders.clocks import is_overdue
from responders.consultation import consultation_of
from responders.messages import Templates
from responders.notifiers import Button
from store.models import Alert, Assignment, Event, Submission

ROLE_LABELS = {"lead": "牵头", "co": "协办", "local": "属地", "override": "协同", "manual": "指派"}
STATE_TEXT = {s.value: label for s, label in STATE_LABELS.items()}
Buttons = tuple[tuple[Button, ...], ...]

_DEPARTMENT_BUTTONS = (("acknowledge", "签收", "ack"), ("extend", "申请延期", "extend"),
                       ("respond", "提交回应", "respond"), ("reassign", "转办", "reassign"))
BUTTON_LABELS = {"confirm": "确认", "ignore": "忽略", "assign": "指派", "consult": "会商", "digest": "入摘要",
                 "adopt": "采用", "decline": "退回", "digestsub": "入摘要"}


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


def department_buttons(a: Assignment) -> Buttons:
    state = State(a.state)
    row = tuple(Button(label, f"a:{cmd}:{a.id}") for action, label, cmd in _DEPARTMENT_BUTTONS
                if state in TRANSITIONS[action].sources)
    return (row,) if row else ()


def duty_buttons(event: Event) -> Buttons:
    if event.status in ("ignored", "dismissed", "closed"):
        return ()
    def button(action: str) -> Button:
        return Button(BUTTON_LABELS[action], f"e:{action}:{event.id}")

    return (tuple(button(a) for a in ("confirm", "ignore", "assign", "consult")), (button("digest"),))


def assignment_message(session: Session, a: Assignment, templates: Templates, *, links: list[str] | None = None,
                       excerpt: str = "") -> tuple[str, Buttons]:
    consultation = consultation_of(session, a.event_id)
    text = templates.render("assignment", a=a, event=a.event, roles=ROLE_LABELS, links=links or [],
                            excerpt=excerpt, state_label=STATE_TEXT[a.state],
                            agreed_line=consultation.agreed_line if consultation else None)
    return text, department_buttons(a)


def duty_alert_message(session: Session, event: Event, templates: Templates, *, verdict: str | None,
                       category: str, terms: list[str], links: list[str], excerpt: str,
                       consult_reasons: list[str]) -> tuple[str, Buttons]:
    text = templates.render(
        "duty_alert", event=event, category=category, verdict=verdict,
        breakdown=breakdown_lines(event.heat_breakdown, templates),
        terms=terms, links=links, excerpt=excerpt, assignments=assignments_of(session, event.id),
        roles=ROLE_LABELS, consult_reasons=consult_reasons, signals=signal_lines(event.signals))
    return text, duty_buttons(event)


def case_message(session: Session, event: Event, templates: Templates) -> str:
    return templates.render("case", event=event, assignments=assignments_of(session, event.id),
                            roles=ROLE_LABELS, labels=STATE_TEXT, consultation=consultation_of(session, event.id))


def _open_cases(session: Session) -> list[Assignment]:
    return list(session.scalars(select(Assignment).where(Assignment.state.in_([s.value for s in OPEN_STATES]))
                                .order_by(Assignment.respond_due_at, Assignment.id)))


def _failed_alerts(session: Session) -> int:
    return len(list(session.scalars(select(Alert.id).where(Alert.state == "failed"))))


def list_message(session: Session, templates: Templates, title: str, rows: list[Assignment]) -> str:
    return templates.render("case_list", title=title, rows=rows, labels=STATE_TEXT, failed=_failed_alerts(session))


def status_rows(session: Session) -> list[Assignment]:
    """Every open case, soonest deadline first."""
    return _open_cases(session)


def overdue_rows(session: Session, now: dt.datetime) -> list[Assignment]:
    return [a for a in _open_cases(session) if is_overdue(a, now)]


def today_rows(session: Session, now: dt.datetime, tz: dt.tzinfo) -> list[Assignment]:
    """Cases opened today or due by the end of today (office timezone)."""
    local = now.astimezone(tz)
    start = dt.datetime.combine(local.date(), dt.time(0), tz)
    end = start + dt.timedelta(days=1)
    opened = session.scalars(select(Assignment).where(Assignment.opened_at >= start, Assignment.opened_at < end))
    due = [a for a in _open_cases(session) if any(
        d is not None and d < end for d in (a.respond_due_at, a.acknowledge_due_at, a.first_information_due_at))]
    seen: dict[int, Assignment] = {a.id: a for a in opened}
    for a in due:
        seen.setdefault(a.id, a)
    return sorted(seen.values(), key=lambda a: a.id)


def submission_message(row: Submission, templates: Templates) -> str:
    """The duty editors' notice of a new submission (escaped: the text is the unit's)."""
    return templates.reply("submission_notice", s=row)


def submission_buttons(row: Submission) -> Buttons:
    return (tuple(Button(BUTTON_LABELS[a], f"s:{a}:{row.id}") for a in ("adopt", "decline", "digestsub")),)
