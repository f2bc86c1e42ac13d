"""*Now*: the last 24 hours' events ranked by heat, filtered by category, place and department, kept live.

The list is a fragment (``/now/rows``) that the page re-fetches when ``/now/stream`` (server-sent
events) says the store has a new or changed event; no reload, no JavaScript build.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from responders.messages import Templates
from store.database import session_scope
from store.models import Case, Event
from yuqing.webdesk.access import Person
from yuqing.webdesk.queries import items_per_hour
from yuqing.webdesk.site import DeskSite
from yuqing.webdesk.svg import sparkline

WINDOW = dt.timedelta(hours=24)
LIMIT = 100
STREAM_EVERY = 2.0  # seconds between the live list's looks at the store


@dataclass(frozen=True)
class Filters:
    category: str = ""
    place: str = ""
    department: str = ""

    @classmethod
    def of(cls, request: Request) -> Filters:
        q = request.query_params
        return cls(q.get("category", "")[:32], q.get("place", "")[:32], q.get("department", "")[:64])


@dataclass(frozen=True)
class Row:
    event: Event
    departments: list[str]
    spark: object


def hot_events(session: Session, person: Person, filters: Filters, now: dt.datetime,
               templates: Templates) -> list[Row]:
    """Events seen in the last 24 h, hottest first; a liaison sees only events its units have cases on."""
    since = now - WINDOW
    query = select(Event).where(Event.last_seen_at >= since)
    if filters.category:
        query = query.where(Event.category == filters.category)
    scope = [filters.department] if filters.department else []
    if not person.sees_everything:
        scope = [d for d in (scope or list(person.departments)) if d in person.departments]
        if not scope:
            return []
    if scope:
        query = query.where(Event.id.in_(select(Case.event_id).where(Case.department_key.in_(scope))))
    events = list(session.scalars(query.order_by(Event.heat.desc(), Event.id.desc())
                                  .limit(LIMIT * 5 if filters.place else LIMIT)))
    if filters.place:
        events = [e for e in events if filters.place in (e.places or [])][:LIMIT]
    ids = [e.id for e in events]
    departments: dict[int, list[str]] = {i: [] for i in ids}
    for event_id, key in session.execute(select(Case.event_id, Case.department_key)
                                         .where(Case.event_id.in_(ids)).order_by(Case.id)):
        departments[event_id].append(key)
    curves = items_per_hour(session, ids, since)
    return [Row(e, departments[e.id],
                sparkline(curves.get(e.id, []), label=templates.plain("web_event_sparkline", n=e.id)))
            for e in events]


def _stamp(session: Session) -> str:
    """Changes whenever an event is stored or touched: the newest id and the latest sighting."""
    newest, latest = session.execute(select(func.max(Event.id), func.max(Event.last_seen_at))).one()
    return f"{newest}/{latest}"


def routes(site: DeskSite) -> list[BaseRoute]:
    def _rows(request: Request, person: Person) -> list[Row]:
        with session_scope(site.sessions) as session:
            return hot_events(session, person, Filters.of(request), site.clock(), site.templates)

    def home(request: Request) -> Response:
        site.person(request)
        return RedirectResponse("/now", status_code=303)

    def now(request: Request) -> Response:
        person = site.person(request)
        return site.page(request, "now.html.j2", person, rows=_rows(request, person), filters=Filters.of(request),
                         categories=list(site.playbook.categories), departments=list(site.playbook.departments))

    def rows(request: Request) -> Response:
        person = site.person(request)
        return site.fragment("now_rows.html.j2", rows=_rows(request, person), person=person)

    async def stream(request: Request) -> Response:
        site.person(request)

        def stamp() -> str:
            with session_scope(site.sessions) as session:
                return _stamp(session)

        async def changes() -> AsyncIterator[str]:
            seen = await run_in_threadpool(stamp)
            yield "retry: 5000\n\n"
            stopping = site.stopping
            while not stopping.is_set() and not await request.is_disconnected():
                try:
                    await asyncio.wait_for(stopping.wait(), STREAM_EVERY)
                except TimeoutError:
                    pass
                current = await run_in_threadpool(stamp)
                if current != seen:
                    seen = current
                    yield "event: events\ndata: changed\n\n"

        return StreamingResponse(changes(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})

    return [Route("/", home), Route("/now", now), Route("/now/rows", rows), Route("/now/stream", stream)]
