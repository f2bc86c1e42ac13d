"""*Cases*: every case by department with its running clocks, one case with its audit trail, and the
department's actions on it (签收, 申请延期, 提交回应, 转办, 说明无法办理).

The actions are the chat buttons' own :class:`responders.desk.Desk` methods, so a press on the desk and
a press in a chat change the same things, write the same audit row (its chat column says ``web``) and
are refused with the same words. A liaison reads and acts only on its own departments' cases: any
other case's URL, page or form, is 403; the department filter for another department too. The list
is one query per page (cases joined with their events, 100 per page), the case page three.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from playbooks.workdays import WorkClock
from responders.actions import ACTIONS
from responders.cases import OPEN_STATES, STATE_LABELS, State, allowed_actions
from responders.clocks import overdue, running
from responders.desk import Reply
from responders.messages import Templates
from store.database import session_scope
from store.models import Case, CaseAudit, Event
from yuqing.webdesk.access import Person
from yuqing.webdesk.site import DeskSite, Forbidden

PER_PAGE = 100
OPEN = "open"  # the state filter's default: every case still running
ALL = "all"
DEPARTMENT_ACTIONS = ("acknowledge", "extend", "respond", "explain", "reassign")


@dataclass(frozen=True)
class Clock:
    """One running deadline as the desk shows it: late, hours left today, or working days left."""

    name: str  # acknowledge | first_information | respond
    label: str
    due: dt.datetime
    late: dt.timedelta | None  # how late, when past due (responders.clocks.overdue says so)
    hours_left: dt.timedelta | None  # time left when it falls due today or within a day
    workdays_left: int | None  # working days left otherwise


def clocks_of(a: Case, now: dt.datetime, clock: WorkClock) -> list[Clock]:
    """The case's running deadlines with the time left, counted on the playbook's working-day calendar."""
    past = {d.name for d in overdue(a, now)}
    out = []
    for d in running(a):
        if d.name in past:
            out.append(Clock(d.name, d.label, d.due, now - d.due, None, None))
            continue
        left = d.due - now
        today, due_day = now.astimezone(clock.tz).date(), d.due.astimezone(clock.tz).date()
        if left < dt.timedelta(days=1) or due_day <= today:
            out.append(Clock(d.name, d.label, d.due, None, left, None))
            continue
        days = sum(1 for n in range(1, (due_day - today).days + 1)
                   if clock.calendar.is_workday(today + dt.timedelta(days=n)))
        out.append(Clock(d.name, d.label, d.due, None, None, days))
    return out


@dataclass(frozen=True)
class Filters:
    state: str = OPEN
    department: str = ""
    page: int = 1

    @classmethod
    def of(cls, request: Request) -> Filters:
        q = request.query_params
        state = q.get("state", OPEN)
        if state not in {OPEN, ALL, *(s.value for s in State)}:
            state = OPEN
        try:
            page = max(1, min(int(q.get("page", "1")), 10_000))
        except ValueError:
            page = 1
        return cls(state, q.get("department", "")[:64], page)

    def states(self) -> list[str] | None:
        if self.state == ALL:
            return None
        if self.state == OPEN:
            return [s.value for s in OPEN_STATES]
        return [self.state]


@dataclass(frozen=True)
class Row:
    case: Case
    title: str
    clocks: list[Clock]

    @property
    def overdue(self) -> bool:
        return any(c.late is not None for c in self.clocks)


def scope_of(person: Person, department: str) -> list[str] | None:
    """The departments a list may show (None: every one); another department's filter is refused."""
    if department and not person.sees_department(department):
        raise Forbidden("web_own_units_only", kind="case", department=department)
    if department:
        return [department]
    return None if person.sees_everything else list(person.departments)


def case_rows(session: Session, person: Person, filters: Filters, now: dt.datetime,
              clock: WorkClock) -> tuple[list[Row], bool]:
    """One page of cases by department, oldest first within each, and whether another page follows."""
    query = select(Case, Event.title).join(Event, Case.event_id == Event.id)
    scope = scope_of(person, filters.department)
    if scope is not None:
        query = query.where(Case.department_key.in_(scope))
    states = filters.states()
    if states is not None:
        query = query.where(Case.state.in_(states))
    found = session.execute(query.order_by(Case.department_key, Case.id)
                            .offset((filters.page - 1) * PER_PAGE).limit(PER_PAGE + 1)).all()
    rows = [Row(a, title, clocks_of(a, now, clock)) for a, title in found[:PER_PAGE]]
    return rows, len(found) > PER_PAGE


def visible_case(session: Session, person: Person, case_id: int, templates: Templates) -> Case:
    """The case, when *person* may see it: 404 when there is none, 403 when it is another department's."""
    a = session.get(Case, case_id)
    if a is None:
        raise HTTPException(404, templates.plain("web_no_such_case", n=case_id))
    if not person.sees_department(a.department_key):
        raise Forbidden("web_case_of_other", n=case_id, department=a.department_key)
    return a


def routes(site: DeskSite) -> list[BaseRoute]:
    clock = WorkClock.from_playbook(site.playbook)
    labels = {s.value: label for s, label in STATE_LABELS.items()}

    def board(request: Request) -> Response:
        person = site.person(request)
        filters = Filters.of(request)
        with session_scope(site.sessions) as session:
            rows, more = case_rows(session, person, filters, site.clock(), clock)
            departments = list(site.playbook.departments) if person.sees_everything else list(person.departments)
            return site.page(request, "cases.html.j2", person, rows=rows, more=more, filters=filters,
                             labels=labels, departments=departments, states=[s.value for s in State])

    def case(request: Request) -> Response:
        person = site.person(request)
        case_id = request.path_params["case_id"]
        with session_scope(site.sessions) as session:
            a = visible_case(session, person, case_id, site.templates)
            event = session.get(Event, a.event_id)
            trail = list(session.scalars(select(CaseAudit).where(CaseAudit.case_id == a.id)
                                         .order_by(CaseAudit.id)))
            actions = [] if person.read_only else [x for x in allowed_actions(a.state) if x in DEPARTMENT_ACTIONS]
            return site.page(request, "case.html.j2", person, case=a, event=event, trail=trail,
                             clocks=clocks_of(a, site.clock(), clock), labels=labels, actions=actions,
                             action_labels={k: a.label for k, a in ACTIONS.items()},
                             departments=[d for d in site.playbook.departments if d != a.department_key])

    def action(name: str) -> Callable[[Request], Awaitable[Response]]:
        async def post(request: Request) -> Response:
            case_id: int = request.path_params["case_id"]

            def check_and_act(person: Person, form: dict[str, str]) -> Response:
                with session_scope(site.sessions) as session:
                    visible_case(session, person, case_id, site.templates)
                return site.act(request, lambda: _run(site, person, name, case_id, form), f"/cases/{case_id}")

            return await site.post_action(request, check_and_act)

        return post

    out: list[BaseRoute] = [Route("/cases", board, methods=["GET"]),
                            Route("/cases/{case_id:int}", case, methods=["GET"])]
    out += [Route(f"/cases/{{case_id:int}}/{name}", action(name), methods=["POST"]) for name in DEPARTMENT_ACTIONS]
    return out


def _run(site: DeskSite, person: Person, name: str, case_id: int, form: dict[str, str]) -> Reply:
    """The shared action *name* with the form's fields, as the chat's buttons call it."""
    desk, actor = site.desk, person.actor()
    if name == "acknowledge":
        return desk.acknowledge(actor, case_id)
    if name == "extend":
        return desk.extend(actor, case_id, form.get("reason", "")[:2000])
    if name == "respond":
        return desk.respond(actor, case_id, form.get("response", "")[:20_000])
    if name == "explain":
        return desk.explain(actor, case_id, form.get("text", "")[:5000])
    return desk.reassign(actor, case_id, form.get("department", "").strip()[:64], form.get("reason", "")[:2000])
