"""*Event*: one event's items and their repost tree, why it is hot, how far the rumour and its clarification
reached, its cases with their audit trail, the 会商 and the agreed line, and the clarifications awaiting 审签.

The duty desk acts here through the same :class:`responders.desk.Desk` methods as the chat buttons
(确认, 忽略, 指派, 会商, 入摘要, 统一口径; 审签通过 and 退回 for reviewers). Every page and action checks the
person on the server: a liaison sees an event only when one of its units has a case on it, a read-only
leader acts on nothing. A page costs a fixed number of queries whatever the number of items: items come
newest first, a page at a time; the reach curve, summed per hour by the database, is an SVG image of its own
(``/events/{id}/reach.svg``) so the page never waits for it.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from markupsafe import Markup
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from monitor.carrying import host_of
from playbooks.schema import Playbook
from responders.actions import ACTIONS
from responders.cases import STATE_LABELS, Actor
from responders.desk import Desk, Reply
from responders.messages import Templates
from responders.spread import Contribution, buckets, coverage, item_reach
from responders.views import ROLE_LABELS, breakdown_lines, signal_lines
from store.database import session_scope
from store.models import (
    Case,
    CaseAudit,
    Clarification,
    Consultation,
    Event,
    Item,
    OutboxMessage,
    Reprint,
    Source,
)
from yuqing.webdesk.access import WEB_CHANNEL, Person, Role
from yuqing.webdesk.queries import hour_bucket
from yuqing.webdesk.site import DeskSite, Forbidden
from yuqing.webdesk.svg import lines

ITEMS_PER_PAGE = 200
CURVE_HOURS = 168  # a week of hourly points at most; older reach counts in the first point
HOUR = dt.timedelta(hours=1)
STATE_TEXT = {s.value: label for s, label in STATE_LABELS.items()}
ACTION_TEXT = {name: a.label for name, a in ACTIONS.items()}
CHANNEL_TEXT = {WEB_CHANNEL: "网页", "": "系统"}  # "": an action with no chat (the system's own)
REPRINT_TEXT = {"link": "转载（链接）", "similar": "转载（近似重复）", "reprint": "转载", "repost": "转发"}
CURVE_TEXT = {"hour": "%d日%H时", "rumour": "谣言传播量", "clarification": "澄清传播量"}
DETAIL_KEYS = ("reason", "text", "url", "to", "department", "new_case")
_TAG = re.compile(r"<[^>]+>")
SVG_NS = "http://www.w3.org/2000/svg"  # a standalone image needs it; the inline charts of svg.py do not
SVG_HEADERS = {"Content-Security-Policy": "default-src 'none'", "X-Content-Type-Options": "nosniff",
               "Cache-Control": "no-store"}


# ---------------------------------------------------------------------- what the page shows


@dataclass(frozen=True)
class ItemRow:
    """One item in the repost tree: indented under its parent when the parent is on the same page."""

    item: Item
    source: str
    depth: int
    parent: int | None = None
    how: str = ""
    parent_title: str | None = None  # when the parent is not on this page


@dataclass(frozen=True)
class Step:
    """One row of a case's audit trail."""

    at: dt.datetime
    actor: str
    channel: str
    action: str
    from_state: str
    to_state: str
    detail: str


@dataclass(frozen=True)
class CaseView:
    case: Case
    role: str
    state: str
    trail: list[Step]


@dataclass(frozen=True)
class Curve:
    chart: Markup
    rumour_total: float
    clarification_total: float
    coverage: float | None


@dataclass
class EventView:
    event: Event
    items: list[ItemRow]
    item_total: int
    page: int
    more: bool
    breakdown: list[str]
    signals: list[str]
    cases: list[CaseView]
    consultation: Consultation | None
    thread: list[tuple[dt.datetime, str]]
    clarifications: list[Clarification]
    has_spread: bool
    departments: list[str] = field(default_factory=list)


# ---------------------------------------------------------------------- who may see it


def visible_event(session: Session, person: Person, event_id: int) -> Event | None:
    """The event, when *person* may see it; None when there is no such event. A liaison whose units have no
    case on it is :class:`Forbidden`."""
    event = session.get(Event, event_id)
    if event is None or person.sees_everything:
        return event
    mine = session.scalar(select(Case.id).where(Case.event_id == event_id,
                                                      Case.department_key.in_(person.departments)).limit(1))
    if mine is None:
        raise Forbidden("web_event_not_yours", n=event_id, departments=list(person.departments))
    return event


def may_act(person: Person) -> bool:
    return person.is_duty and not person.read_only


def may_review(person: Person) -> bool:
    return (person.is_duty or Role.reviewer in person.roles) and not person.read_only


# ---------------------------------------------------------------------- the page's store questions


def event_view(session: Session, playbook: Playbook, event: Event, page: int, templates: Templates) -> EventView:
    """Everything the page shows, in a fixed number of queries."""
    rows, total, more = item_page(session, event.id, page)
    clarifications = list(session.scalars(select(Clarification).where(Clarification.event_id == event.id)
                                          .order_by(Clarification.id)))
    consultation = session.scalar(select(Consultation).where(Consultation.event_id == event.id))
    return EventView(event, rows, total, page, more, breakdown_lines(event.heat_breakdown, templates),
                     signal_lines(event.signals),
                     case_views_of(session, event.id), consultation,
                     thread_of(session, event.id) if consultation else [],
                     clarifications, playbook.spread is not None, list(playbook.departments))


def item_page(session: Session, event_id: int, page: int) -> tuple[list[ItemRow], int, bool]:
    """Page *page* of the event's items, newest stored first (the order the event_id index keeps), as a
    repost/reprint tree; the total; whether more follow."""
    total = session.scalar(select(func.count()).select_from(Item).where(Item.event_id == event_id)) or 0
    found = list(session.execute(
        select(Item, Source.name).join(Source, Item.source_id == Source.id).where(Item.event_id == event_id)
        .order_by(Item.id.desc()).offset((page - 1) * ITEMS_PER_PAGE)
        .limit(ITEMS_PER_PAGE + 1)))
    more = len(found) > ITEMS_PER_PAGE
    found = found[:ITEMS_PER_PAGE]
    ids = [item.id for item, _ in found]
    parents: dict[int, tuple[int, str]] = {}
    for reprint in session.scalars(select(Reprint).where(Reprint.reprint_id.in_(ids)).order_by(Reprint.id)):
        how = REPRINT_TEXT["link" if reprint.method == "link" else "similar"]
        parents.setdefault(reprint.reprint_id, (reprint.original_id, how))
    for item, _ in found:
        if item.reprint_of_id is not None:
            parents[item.id] = (item.reprint_of_id, REPRINT_TEXT["reprint"])
        if item.repost_of_id is not None:
            parents[item.id] = (item.repost_of_id, REPRINT_TEXT["repost"])
    elsewhere = {p for p, _ in parents.values()} - set(ids)
    titles = dict(session.execute(select(Item.id, Item.title).where(Item.id.in_(elsewhere)))) \
        if elsewhere else {}
    return repost_tree(found, parents, titles), total, more


def repost_tree(found: Sequence[tuple[Item, str]], parents: dict[int, tuple[int, str]],
                titles: dict[int, str]) -> list[ItemRow]:
    """Items in page order, each followed by the items on the page that repost or reprint it (indented)."""
    on_page = {item.id for item, _ in found}
    children: dict[int, list[tuple[Item, str]]] = defaultdict(list)
    roots = []
    for entry in found:
        parent = parents.get(entry[0].id)
        if parent is not None and parent[0] in on_page and parent[0] != entry[0].id:
            children[parent[0]].append(entry)
        else:
            roots.append(entry)
    out: list[ItemRow] = []
    seen: set[int] = set()

    def walk(start: tuple[Item, str]) -> None:
        stack = [(start, 0)]
        while stack:
            (item, source), depth = stack.pop()
            if item.id in seen:
                continue
            seen.add(item.id)
            parent = parents.get(item.id)
            if parent is None:
                out.append(ItemRow(item, source, depth))
            else:
                out.append(ItemRow(item, source, depth, parent[0], parent[1],
                                   None if parent[0] in on_page else titles.get(parent[0], "")))
            stack.extend((child, depth + 1) for child in reversed(children.get(item.id, [])))

    for entry in roots + list(found):  # then anything a parent cycle kept out of the roots
        walk(entry)
    return out


def case_views_of(session: Session, event_id: int) -> list[CaseView]:
    """The event's cases, each with its audit trail (two queries for all of them)."""
    cases = list(session.scalars(select(Case).where(Case.event_id == event_id).order_by(Case.id)))
    trails: dict[int, list[Step]] = defaultdict(list)
    if cases:
        for row in session.scalars(select(CaseAudit)
                                   .where(CaseAudit.case_id.in_([a.id for a in cases]))
                                   .order_by(CaseAudit.at, CaseAudit.id)):
            trails[row.case_id].append(_step(row))
    return [CaseView(a, ROLE_LABELS.get(a.role, a.role), STATE_TEXT.get(a.state, a.state), trails[a.id]) for a in cases]


def _step(row: CaseAudit) -> Step:
    detail = "；".join(str(row.detail[k]) for k in DETAIL_KEYS if row.detail.get(k) not in (None, ""))
    channel = CHANNEL_TEXT.get(row.chat_id or "", row.chat_id or "")
    return Step(row.at, row.actor, channel, ACTION_TEXT.get(row.action, row.action),
                STATE_TEXT.get(row.from_state or "", row.from_state or "—"),
                STATE_TEXT.get(row.to_state or "", row.to_state or "—"), detail)


def thread_of(session: Session, event_id: int) -> list[tuple[dt.datetime, str]]:
    """The 会商 messages sent for the event (each once, though it went to several chats), as plain text."""
    out: dict[str, dt.datetime] = {}
    for at, text in session.execute(select(OutboxMessage.created_at, OutboxMessage.text)
                                    .where(OutboxMessage.event_id == event_id, OutboxMessage.kind == "consultation")
                                    .order_by(OutboxMessage.created_at, OutboxMessage.id)):
        out.setdefault(html.unescape(_TAG.sub("", text)).strip(), at)
    return [(at, text) for text, at in out.items()]


# ---------------------------------------------------------------------- the reach curve


def _moment(column_key: str) -> dt.datetime:
    return dt.datetime.strptime(column_key, "%Y-%m-%d %H").replace(tzinfo=dt.UTC)


def reach_curve(session: Session, playbook: Playbook, event: Event, now: dt.datetime,
                templates: Templates) -> Curve | None:
    """Cumulative rumour reach against the approved clarifications' reach, per hour (responders.spread's sums).

    As in :mod:`responders.spread`, every item of the event that is not a clarification or a reprint of one
    counts as rumour, and a reprint counts with the weight its Reprint row recorded. The database sums each
    hour per source, so a source's own host (not each item's) picks the site weight of an unclassed source.
    """
    policy = playbook.spread
    if policy is None:
        return None
    clarifications = list(session.scalars(select(Clarification).where(Clarification.event_id == event.id,
                                                                      Clarification.state == "approved")))
    approved = [c.id for c in clarifications]
    own = [c.item_id for c in clarifications if c.item_id is not None]
    reprinted = select(Reprint.reprint_id).where(Reprint.clarification_id.in_(approved))
    at = func.coalesce(Item.published_at, Item.fetched_at)  # monitor.policy_carriage.item_time
    bucket = hour_bucket(session, at)

    def per_source(query: Select[Any]) -> list[Contribution]:
        grouped = (query.add_columns(bucket, Source.weight_class, Source.host, Source.url, func.count(),
                                     func.sum(Item.reposts), func.sum(Item.comments), func.sum(Item.likes))
                   .join(Source, Item.source_id == Source.id)
                   .group_by(bucket, Source.id, Source.weight_class, Source.host, Source.url))
        out = []
        for key, weight_class, host, url, n, reposts, comments, likes in session.execute(grouped):
            weight = playbook.source_weights.weight(host or host_of(url), weight_class) * n
            out.append(Contribution(_moment(key), item_reach(weight, reposts or 0, comments or 0, likes or 0, policy)))
        return out

    rumour = per_source(select().select_from(Item).where(Item.event_id == event.id, Item.id.not_in(own),
                                                         Item.id.not_in(reprinted)))
    clarification = per_source(select().select_from(Item).where(Item.id.in_(own))) if own else []
    if approved:
        for key, weight, reposts, comments, likes in session.execute(
                select(bucket, func.sum(Reprint.weight), func.sum(Item.reposts), func.sum(Item.comments),
                       func.sum(Item.likes)).select_from(Reprint).join(Item, Reprint.reprint_id == Item.id)
                .where(Reprint.clarification_id.in_(approved)).group_by(bucket)):
            clarification.append(Contribution(_moment(key),
                                              item_reach(weight or 0.0, reposts or 0, comments or 0, likes or 0,
                                                         policy)))
    moments = [c.at for c in rumour + clarification]
    first = min([event.first_seen_at, *moments]).replace(minute=0, second=0, microsecond=0)
    end = min(now, max([event.last_seen_at, *moments]) + HOUR)
    start = max(first, (end - CURVE_HOURS * HOUR).replace(minute=0, second=0, microsecond=0))
    grid = buckets(rumour, clarification, start, max(end, start + HOUR), HOUR)
    tz = ZoneInfo(playbook.timezone)
    labels = [b.start.astimezone(tz).strftime(CURVE_TEXT["hour"]) for b in grid]
    rumour_total, clarification_total = sum(c.reach for c in rumour), sum(c.reach for c in clarification)
    cover = coverage(clarification_total, rumour_total)
    title = templates.plain("web_curve_title", rumour=rumour_total, clarification=clarification_total,
                            coverage=cover)
    chart = lines({CURVE_TEXT["rumour"]: [b.rumour_total for b in grid],
                   CURVE_TEXT["clarification"]: [b.clarification_total for b in grid]}, labels, title=title)
    return Curve(Markup(str(chart).replace("<svg ", f'<svg xmlns="{SVG_NS}" ', 1)), rumour_total, clarification_total,
                 cover)


# ---------------------------------------------------------------------- routes


EventAction = Callable[[Desk, Actor, int, dict[str, str]], Reply]
ClarificationAction = Callable[[Desk, Actor, int, dict[str, str]], Reply]

EVENT_ACTIONS: dict[str, EventAction] = {
    "confirm": lambda desk, actor, n, _form: desk.confirm(actor, n),
    "ignore": lambda desk, actor, n, form: desk.ignore(actor, n, form.get("reason", "")[:500]),
    "assign": lambda desk, actor, n, form: desk.assign(actor, n, form.get("department", "")),
    "consult": lambda desk, actor, n, _form: desk.consult(actor, n),
    "digest": lambda desk, actor, n, _form: desk.digest(actor, n),
    "line": lambda desk, actor, n, form: desk.line(actor, n, form.get("text", "")[:2000]),
}
CLARIFICATION_ACTIONS: dict[str, ClarificationAction] = {
    "approve": lambda desk, actor, n, _form: desk.approve(actor, n),
    "reject": lambda desk, actor, n, form: desk.reject(actor, n, form.get("reason", "")[:500]),
}


def _page_number(request: Request) -> int:
    raw = request.query_params.get("page", "1")
    return max(1, min(int(raw), 10_000)) if raw.isdigit() else 1


def routes(site: DeskSite) -> list[BaseRoute]:
    def missing(request: Request, person: Person, kind: str, n: int) -> Response:
        what = site.templates.reply("web_missing", kind=kind, n=n)
        return site.page(request, "event_missing.html.j2", person, status=404, what=what)

    def show(request: Request) -> Response:
        person = site.person(request)
        event_id: int = request.path_params["event_id"]
        with session_scope(site.sessions) as session:
            event = visible_event(session, person, event_id)
            if event is None:
                return missing(request, person, "event", event_id)
            view = event_view(session, site.playbook, event, _page_number(request), site.templates)
        return site.page(request, "event.html.j2", person, view=view, may_act=may_act(person),
                         may_review=may_review(person))

    def reach(request: Request) -> Response:
        person = site.person(request)
        event_id: int = request.path_params["event_id"]
        with session_scope(site.sessions) as session:
            event = visible_event(session, person, event_id)
            curve = (reach_curve(session, site.playbook, event, site.clock(), site.templates)
                     if event is not None else None)
        if curve is None:
            return missing(request, person, "curve", event_id)
        return Response(str(curve.chart), media_type="image/svg+xml", headers=SVG_HEADERS)

    def event_action(name: str, run: EventAction) -> Callable[[Request], Any]:
        async def endpoint(request: Request) -> Response:
            event_id: int = request.path_params["event_id"]

            def work(person: Person, form: dict[str, str]) -> Response:
                with session_scope(site.sessions) as session:
                    if visible_event(session, person, event_id) is None:
                        return missing(request, person, "event", event_id)
                if not may_act(person):
                    raise Forbidden("web_duty_acts")
                return site.act(request, lambda: run(site.desk, person.actor(), event_id, form),
                                f"/events/{event_id}")

            return await site.post_action(request, work)

        endpoint.__name__ = f"event_{name}"
        return endpoint

    def clarification_action(name: str, run: ClarificationAction) -> Callable[[Request], Any]:
        async def endpoint(request: Request) -> Response:
            clarification_id: int = request.path_params["clarification_id"]

            def work(person: Person, form: dict[str, str]) -> Response:
                with session_scope(site.sessions) as session:
                    row = session.get(Clarification, clarification_id)
                    if row is None:
                        return missing(request, person, "clarification", clarification_id)
                    event_id = row.event_id
                    visible_event(session, person, event_id)
                if not may_review(person):
                    raise Forbidden("web_reviewers_sign")
                return site.act(request, lambda: run(site.desk, person.actor(), clarification_id, form),
                                f"/events/{event_id}")

            return await site.post_action(request, work)

        endpoint.__name__ = f"clarification_{name}"
        return endpoint

    out: list[BaseRoute] = [Route("/events/{event_id:int}", show, methods=["GET"]),
                            Route("/events/{event_id:int}/reach.svg", reach, methods=["GET"])]
    out += [Route(f"/events/{{event_id:int}}/{name}", event_action(name, run), methods=["POST"])
            for name, run in EVENT_ACTIONS.items()]
    out += [Route(f"/clarifications/{{clarification_id:int}}/{name}", clarification_action(name, run),
                  methods=["POST"]) for name, run in CLARIFICATION_ACTIONS.items()]
    return out
