"""*Submissions*: the information units submitted (2006 §三), pending ones first, with 采用 and 退回.

采用 (with an optional bonus for its kind) and 退回 (with a reason) are the chat buttons' own
:meth:`responders.desk.Desk.adopt` and :meth:`~responders.desk.Desk.decline`, offered to duty staff and the
editors the members file names; anyone else's POST is 403. Duty staff, reviewers, editors and leaders
read every unit's submissions; a liaison reads its own units' only. One query per page (100 rows).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import case, select
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from responders import submissions
from responders.points import LABELS
from responders.submissions import Bonus, SubmissionState
from store.database import session_scope
from store.models import Submission
from yuqing.webdesk.access import Person, Role
from yuqing.webdesk.site import DeskSite, Forbidden
from yuqing.webdesk.units_page import period_of

PER_PAGE = 100


def edits(person: Person) -> bool:
    """采用/退回 is for duty staff and editors (never a read-only leader)."""
    return not person.read_only and bool(person.roles & {Role.duty, Role.editor})


@dataclass(frozen=True)
class Filters:
    department: str = ""
    state: str = ""
    period: str = ""
    page: int = 1

    @classmethod
    def of(cls, request: Request) -> Filters:
        q = request.query_params
        state = q.get("state", "")
        if state not in {s.value for s in SubmissionState}:
            state = ""
        try:
            page = max(1, min(int(q.get("page", "1")), 10_000))
        except ValueError:
            page = 1
        return cls(q.get("department", "")[:64], state, q.get("period", "")[:16], page)


def routes(site: DeskSite) -> list[BaseRoute]:
    tz = ZoneInfo(site.playbook.timezone)
    labels = {s.value: label for s, label in submissions.STATE_LABELS.items()}
    bonuses = [(b.value, LABELS[b.reason]) for b in Bonus]

    def listing(request: Request) -> Response:
        person = site.person(request)
        filters = Filters.of(request)
        if filters.department and not person.sees_department(filters.department):
            raise Forbidden("web_own_units_only", kind="submission", department=filters.department)
        query = select(Submission)
        if filters.department:
            query = query.where(Submission.department_key == filters.department)
        elif not person.sees_everything:
            query = query.where(Submission.department_key.in_(person.departments))
        if filters.state:
            query = query.where(Submission.state == filters.state)
        if filters.period:
            period = period_of(filters.period, site.clock(), tz, site.templates)
            adopted = filters.state == SubmissionState.adopted.value
            column = Submission.adopted_at if adopted else Submission.submitted_at
            query = query.where(column >= period.start, column < period.end)
        pending_first = case((Submission.state == SubmissionState.submitted.value, 0), else_=1)
        query = query.order_by(pending_first, Submission.submitted_at.desc(), Submission.id.desc())
        with session_scope(site.sessions) as session:
            rows = list(session.scalars(query.offset((filters.page - 1) * PER_PAGE).limit(PER_PAGE + 1)))
            return site.page(request, "submissions.html.j2", person, rows=rows[:PER_PAGE],
                             more=len(rows) > PER_PAGE, filters=filters, labels=labels, bonuses=bonuses,
                             edits=edits(person), pending=SubmissionState.submitted.value)

    def action(name: str) -> Callable[[Request], Awaitable[Response]]:
        async def post(request: Request) -> Response:
            submission_id: int = request.path_params["submission_id"]

            def run(person: Person, form: dict[str, str]) -> Response:
                if not edits(person):
                    raise Forbidden("web_editors_act")
                actor = person.actor()
                if name == "adopt":
                    return site.act(request, lambda: site.desk.adopt(actor, submission_id, form.get("bonus", "")),
                                    "/submissions")
                return site.act(request, lambda: site.desk.decline(actor, submission_id,
                                                                   form.get("reason", "").strip()[:2000]),
                                "/submissions")

            return await site.post_action(request, run)

        return post

    return [Route("/submissions", listing, methods=["GET"]),
            *(Route(f"/submissions/{{submission_id:int}}/{name}", action(name), methods=["POST"])
              for name in ("adopt", "decline"))]

