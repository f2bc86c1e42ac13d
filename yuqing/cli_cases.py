"""Seeing events and cases from the command line, and one responders cycle for cron-style runs.

``yuqing events`` and ``yuqing cases`` print what the duty desk would see (or JSON lines for
scripts); ``yuqing cycle`` runs routing, clocks, escalation, the closing of the loop and any
report that is due, once, and exits.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import click
from sqlalchemy import select

from classifiers.signals import Signal, kinds
from playbooks.loader import PolicyFileError
from responders.cases import State
from responders.clocks import overdue
from store import make_engine, require_current, session_factory, shown, utcnow
from store.database import StoreError
from store.models import Case, Consultation, Event
from yuqing.cli_context import Context, pass_context
from yuqing.cli_session import store_session


def _parse_since(value: str | None) -> dt.datetime | None:
    if value is None:
        return None
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"not an ISO 8601 time: {value!r}", param_hint="--since") from None
    if moment.tzinfo is None:
        raise click.BadParameter(f"{value!r} has no UTC offset (write e.g. +08:00)", param_hint="--since")
    return moment


def _iso(moment: dt.datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _profile(session: Any, event_id: int) -> str | None:
    a = session.scalars(select(Case).where(Case.event_id == event_id).order_by(Case.id)).first()
    return a.rule_snapshot.get("profile") if a is not None else None


def event_row(session: Any, e: Event) -> dict[str, Any]:
    consultation = session.scalar(select(Consultation).where(Consultation.event_id == e.id))
    alerted = session.scalar(select(Case.id).where(Case.event_id == e.id).limit(1)) is not None
    return {
        "id": e.id, "title": e.title, "category": e.category, "heat": round(e.heat or 0.0, 1),
        "signals": [Signal.from_data(s).explain() if isinstance(s, dict) else str(s) for s in e.signals or []],
        "signal_kinds": list(kinds(e.signals or [])), "places": list(e.places or []),
        "is_emergency": bool(e.is_emergency), "profile": _profile(session, e.id), "status": e.status,
        "consultation_open": consultation is not None, "alerted": alerted,
        "first_seen_at": _iso(e.first_seen_at), "last_seen_at": _iso(e.last_seen_at),
    }


@click.command()
@click.option("--since", help="only events seen since this ISO 8601 time (with offset)")
@click.option("--json", "as_json", is_flag=True, help="one JSON object per line")
@pass_context
def events(context: Context, since: str | None, as_json: bool) -> None:
    """List events: id, title, category, heat, signals, emergency, profile, 会商, alerted."""
    start = _parse_since(since)
    with store_session(context) as session:
        query = select(Event).order_by(Event.id)
        if start is not None:
            query = query.where(Event.last_seen_at >= start)
        for e in session.scalars(query):
            row = event_row(session, e)
            if as_json:
                click.echo(json.dumps(row, ensure_ascii=False))
                continue
            flags = "".join(("【突发】" if row["is_emergency"] else "", "【会商】" if row["consultation_open"] else "",
                             "【已预警】" if row["alerted"] else ""))
            click.echo(f"{e.id:>5} {row['heat']:>5.0f} {e.category or '—':<4} {row['profile'] or '—':<14} "
                       f"{flags}{e.title[:60]}  {'；'.join(row['signals'])}")


def case_row(a: Case, now: dt.datetime) -> dict[str, Any]:
    return {
        "id": a.id, "event": a.event_id, "department": a.department_key, "role": a.role,
        "profile": a.rule_snapshot.get("profile"), "state": a.state, "clock_started_at": _iso(a.clock_started_at),
        "opened_at": _iso(a.opened_at), "acknowledge_due_at": _iso(a.acknowledge_due_at),
        "first_information_due_at": _iso(a.first_information_due_at), "respond_due_at": _iso(a.respond_due_at),
        "first_information_at": _iso(a.first_information_at), "responded_at": _iso(a.responded_at),
        "overdue": [d.name for d in overdue(a, now)],
    }


@click.command()
@click.option("--event", "event_id", type=click.IntRange(1, 2**63 - 1), help="only this event's cases")
@click.option("--state", type=click.Choice([s.value for s in State]), help="only cases in this state")
@click.option("--json", "as_json", is_flag=True, help="one JSON object per line")
@pass_context
def cases(context: Context, event_id: int | None, state: str | None, as_json: bool) -> None:
    """List cases with their clocks: clock start, acknowledge / first-information / respond due, state."""
    now = utcnow()
    with store_session(context) as session:
        query = select(Case).order_by(Case.id)
        if event_id is not None:
            query = query.where(Case.event_id == event_id)
        if state is not None:
            query = query.where(Case.state == state)
        for a in session.scalars(query):
            row = case_row(a, now)
            if as_json:
                click.echo(json.dumps(row, ensure_ascii=False))
                continue
            late = f"  超时：{'、'.join(row['overdue'])}" if row["overdue"] else ""
            click.echo(f"#{a.id:<5} 事件 {a.event_id:<5} {a.department_key}（{a.role}，{row['profile']}）{a.state}  "
                       f"起算 {shown(a.clock_started_at)}  签收 {shown(a.acknowledge_due_at)}  "
                       f"首发 {shown(a.first_information_due_at)}  答复 {shown(a.respond_due_at)}{late}")


@click.command()
@click.option("--since", help="route events seen since this ISO 8601 time (default: the last 24 hours)")
@pass_context
def cycle(context: Context, since: str | None) -> None:
    """Run one responders cycle (routing, clocks, escalation, points, reports due) and exit."""
    from yuqing.assembly import responders_for
    from yuqing.service import load_service_members
    from yuqing.store_setup import sources_config

    settings, book = context.settings, context.playbook()
    members = load_service_members(settings, book)
    now = utcnow()
    start = _parse_since(since) or now - dt.timedelta(hours=24)
    engine = make_engine(settings.effective_database_url)
    try:
        require_current(engine)
        responders = responders_for(settings, book, members, session_factory(engine), sources_config(settings))
        report = responders.cycle(now, start)
        posted = responders.reports(now)
    except (StoreError, PolicyFileError) as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        engine.dispose()
    click.echo(f"routed {report.routed_events} events, opened {report.opened_cases} cases, "
               f"portal replies {report.portal_replies}, escalations {report.escalations}, "
               f"clarification reprints {report.clarification_reprints}, adoptions detected "
               f"{report.adoptions_detected}, reprints of adopted information {report.submission_reprints}, "
               f"points rows {report.points_rows}, closed events {report.closed_events}, "
               f"policy reminders {report.policy_reminders}"
               f"{', weekly report queued' if posted.weekly is not None else ''}"
               f"{', monthly 通报 queued' if posted.monthly is not None else ''}")
    for error in report.errors:
        click.echo(f"error: {error}", err=True)
    if report.errors:
        raise SystemExit(1)


COMMANDS = [events, cases, cycle]
