"""Post the weekly report exactly once per week, even across restarts and with two services running.

Like healthchecks' ``next_report_at``: the due time lives in a
``ScheduledReport`` row and is advanced by a compare-and-set UPDATE (``WHERE
next_run_at = <the value we read>``). The CAS, the report files and the outbox
``Alert`` share one transaction, so a failure while writing the report leaves
the schedule where it was and the next tick tries again; the alert's dedupe
key ``report:weekly:<week>`` is a second guard.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from monitor.store.database import session_scope
from monitor.store.models import Alert, ScheduledReport
from playbooks.schema import Playbook, ReportPolicy
from responders.outbox import enqueue
from responders.periods import Period, previous_week, week_of
from responders.reports import weekly


class ReportSettings(Protocol):
    """What posting needs of the settings (``yuqing.settings.Settings`` fits)."""

    @property
    def effective_reports_dir(self) -> Path: ...

    @property
    def duty_chat_id(self) -> int | None: ...


WEEKLY = "weekly"


def next_weekly_run(after: dt.datetime, policy: ReportPolicy, tz: ZoneInfo) -> dt.datetime:
    """The first weekly slot (weekday at time, local) strictly after *after*, in UTC."""
    local = after.astimezone(tz)
    day = local.date() + dt.timedelta(days=(policy.weekly_weekday - local.isoweekday()) % 7)
    slot = dt.datetime.combine(day, policy.weekly_at, tz)
    if slot <= local:
        slot += dt.timedelta(days=7)
    return slot.astimezone(dt.timezone.utc)


def week_reported_at(due: dt.datetime, tz: ZoneInfo) -> Period:
    """The full week before the one *due* falls in (Monday's report covers last week)."""
    return previous_week(week_of(due, tz), tz)


def _ensure_row(factory: sessionmaker[Session], now: dt.datetime, policy: ReportPolicy, tz: ZoneInfo) -> None:
    """First start: schedule the next slot (no report for weeks before the service existed)."""
    with session_scope(factory) as session:
        if session.get(ScheduledReport, WEEKLY) is not None:
            return
    try:
        with session_scope(factory) as session:
            session.add(ScheduledReport(name=WEEKLY, next_run_at=next_weekly_run(now, policy, tz)))
    except IntegrityError:
        pass  # another service inserted it first


def _claim(session: Session, due: dt.datetime, new_next: dt.datetime, now: dt.datetime) -> bool:
    result = session.execute(
        update(ScheduledReport).where(ScheduledReport.name == WEEKLY, ScheduledReport.next_run_at == due)
        .values(next_run_at=new_next, last_run_at=now).execution_options(synchronize_session=False))
    return result.rowcount == 1  # type: ignore[attr-defined]


def post_weekly_report_if_due(session_factory: sessionmaker[Session], now: dt.datetime, settings: ReportSettings,
                              playbook: Playbook, chat_id: str | int | None = None) -> Alert | None:
    """Write last week's report and queue it for the duty chat when the slot has come; else None."""
    policy = weekly.report_policy(playbook)
    tz = ZoneInfo(playbook.timezone)
    chat = chat_id if chat_id is not None else settings.duty_chat_id
    if chat is None:
        raise weekly.ReportError("no duty chat to post the weekly report to: set YUQING_DUTY_CHAT_ID")
    _ensure_row(session_factory, now, policy, tz)
    with session_scope(session_factory) as session:
        row = session.get(ScheduledReport, WEEKLY)
        if row is None or row.next_run_at > now:
            return None
        due = row.next_run_at
        if not _claim(session, due, next_weekly_run(now, policy, tz), now):
            return None  # another runner claimed this slot
        period = week_reported_at(due, tz)
        report = weekly.build(session, playbook, period, now)
        _html, pdf = weekly.write(report, settings.effective_reports_dir)
        session.execute(update(ScheduledReport).where(ScheduledReport.name == WEEKLY)
                        .values(last_output=str(pdf)).execution_options(synchronize_session=False))
        return enqueue(session, dedupe_key=f"report:weekly:{period.label}", kind="report", chat_id=chat,
                       text=weekly.summary_text(report), now=now, attachment_path=str(pdf))
