"""*Units*: the month's or quarter's points and ranking in the 通报's groups, and the ledger rows behind them.

``/units?period=2026-12`` (a month) or ``?period=2026-Q4`` (a quarter) shows what the monthly 通报 shows —
the three ranked groups (市（州）政府, 县（市）政府, 省政府工作部门) with every unit, zeros included, then the
counted-but-not-ranked units — built by :func:`responders.reports.monthly.build` itself (without its PNG
charts and the policy-reprint column, which scans the month's items), so the desk and the 通报 never
disagree. A month's page adds the quarter's points and rank.

Who sees what: the 通报 is published within the government, so everyone signed in reads every unit's
rankings and counts. The rows behind a number — ``/units/{department}/ledger`` and the submissions list —
are shown to duty staff, reviewers, editors and leaders for every unit, and to a liaison only for its
own units: another unit's ledger is 403, and its numbers are shown without links.

Queries per page are bounded: the 通报's grouped queries, plus one grouped query for the quarter. A period's
tables are reused for up to a minute while no ledger row, case transition or submission has been written
since (one cheap query says so), which keeps the page fast on a store with thousands of open cases.
"""

from __future__ import annotations

import datetime as dt
import time
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from responders import periods
from responders.errors import BadCommand
from responders.messages import Templates
from responders.periods import Period
from responders.points import Standing, label_of, ledger, standings
from responders.reports.monthly import REPRINT_REASONS, MonthlyReport, build
from store.database import session_scope
from store.models import CaseAudit, Department, PointsEntry, Submission, SubmissionAudit
from yuqing.webdesk.site import DeskSite, Forbidden

REPRINTS = "reprint"  # the ledger filter for both kinds of reprint


def period_of(label: str, now: dt.datetime, tz: ZoneInfo, templates: Templates) -> Period:
    """``2026-12`` a month, ``2026-Q4`` a quarter, nothing: this month; a bad label is a 400."""
    label = label.strip()[:16]
    try:
        if not label:
            return periods.month_of(now, tz)
        if "Q" in label.upper():
            return periods.quarter(label.upper(), tz)
        return periods.month(label, tz)
    except BadCommand:
        raise HTTPException(400, templates.plain("web_bad_period", label=label)) from None


REUSE_FOR = 60.0  # seconds a period's tables are reused while nothing they count has changed


def _stamp(session: Session) -> tuple[object, ...]:
    """Changes whenever a ledger row, a case's audit row (every transition and every opening) or a
    submission's audit row is written: what the 通报's tables are counted from."""
    parts = (func.max(PointsEntry.id), func.max(CaseAudit.id), func.max(SubmissionAudit.id),
             func.count(Submission.id))
    return tuple(session.execute(select(*(select(part).scalar_subquery() for part in parts))).one())


def routes(site: DeskSite) -> list[BaseRoute]:
    tz = ZoneInfo(site.playbook.timezone)
    built: dict[str, tuple[float, tuple[object, ...], MonthlyReport]] = {}

    def report_for(session: Session, period: Period, now: dt.datetime) -> MonthlyReport:
        """The 通报's tables for *period*, reused for up to a minute while nothing they count has changed
        (only the passing of time can change them then: an open case turning overdue)."""
        stamp = _stamp(session)
        kept = built.get(period.label)
        if kept is not None and kept[1] == stamp and time.monotonic() - kept[0] < REUSE_FOR:
            return kept[2]
        report = build(session, site.playbook, period, now, draw=False, policy=False, overdue_list=False)
        built[period.label] = (time.monotonic(), stamp, report)
        return report

    def units(request: Request) -> Response:
        person = site.person(request)
        now = site.clock()
        period = period_of(request.query_params.get("period", ""), now, tz, site.templates)
        is_quarter = "Q" in period.label
        quarter = period if is_quarter else periods.quarter_of(period.start, tz)
        with session_scope(site.sessions) as session:
            report = report_for(session, period, now)
            by_quarter: dict[str, Standing] = (
                {} if is_quarter else {s.department_key: s for s in standings(session, quarter)})
            previous = periods.previous_month(period, tz) if not is_quarter else periods.quarter_of(
                period.start - dt.timedelta(days=1), tz)
            return site.page(request, "units.html.j2", person, report=report, period=period, quarter=quarter,
                             is_quarter=is_quarter, by_quarter=by_quarter, previous=previous,
                             this_month=periods.month_of(now, tz), this_quarter=periods.quarter_of(now, tz))

    def unit_ledger(request: Request) -> Response:
        person = site.person(request)
        department: str = request.path_params["department"]
        period = period_of(request.query_params.get("period", ""), site.clock(), tz, site.templates)
        reason = request.query_params.get("reason", "")[:64]
        with session_scope(site.sessions) as session:
            unit = session.get(Department, department)
            if unit is None:
                raise HTTPException(404, site.templates.plain("web_no_such_unit", department=department))
            if not person.sees_department(department):
                raise Forbidden("web_own_units_only", kind="ledger", department=department)
            rows = ledger(session, department, period)
            if reason == REPRINTS:
                rows = [r for r in rows if r.reason in REPRINT_REASONS]
            elif reason:
                rows = [r for r in rows if r.reason == reason]
            return site.page(request, "ledger.html.j2", person, unit=unit, period=period, reason=reason,
                             rows=[(r, label_of(r.reason, site.playbook)) for r in rows],
                             total=sum(r.points for r in rows))

    return [Route("/units", units, methods=["GET"]),
            Route("/units/{department}/ledger", unit_ledger, methods=["GET"])]
