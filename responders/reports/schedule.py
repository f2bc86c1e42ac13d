"""Post the weekly report and the monthly 通报 exactly once per period, even across restarts and with
two services running.

Like healthchecks' ``next_report_at``: the due time lives in a
``ScheduledReport`` row and is advanced by a compare-and-set UPDATE (``WHERE
next_run_at = <the value we read>``). The CAS, the report files and the outbox
``OutboxMessage`` share one transaction, so a failure while writing the report leaves
the schedule where it was and the next tick tries again; the alert's dedupe
key ``report:weekly:<week>`` (``report:monthly:<month>``) is a second guard.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from monitor.config import DedupeSection, HealthSection
from playbooks.schema import Playbook, ReportPolicy
from responders.outbox import enqueue
from responders.periods import Period, month_of, previous_month, previous_week, week_of
from responders.reports import monthly, weekly
from store.database import session_scope
from store.models import OutboxMessage, ScheduledReport


class ReportSettings(Protocol):
    """What posting needs of the settings (``yuqing.settings.Settings`` fits)."""

    @property
    def effective_reports_dir(self) -> Path: ...

    @property
    def duty_chat_id(self) -> int | str | None: ...


WEEKLY = "weekly"
MONTHLY = "monthly"


def next_weekly_run(after: dt.datetime, policy: ReportPolicy, tz: ZoneInfo) -> dt.datetime:
    """The first weekly slot (weekday at time, local) strictly after *after*, in UTC."""
    local = after.astimezone(tz)
    day = local.date() + dt.timedelta(days=(policy.weekly_weekday - local.isoweekday()) % 7)
    slot = dt.datetime.combine(day, policy.weekly_at, tz)
    if slot <= local:
        slot += dt.timedelta(days=7)
    return slot.astimezone(dt.UTC)


def next_monthly_run(after: dt.datetime, policy: ReportPolicy, tz: ZoneInfo) -> dt.datetime:
    """The first monthly slot (day of month at time, local) strictly after *after*, in UTC."""
    local = after.astimezone(tz)
    slot = dt.datetime.combine(local.date().replace(day=policy.monthly_day), policy.monthly_at, tz)
    if slot <= local:
        nxt = local.date().replace(day=1) + dt.timedelta(days=32)
        slot = dt.datetime.combine(nxt.replace(day=policy.monthly_day), policy.monthly_at, tz)
    return slot.astimezone(dt.UTC)


def week_reported_at(due: dt.datetime, tz: ZoneInfo) -> Period:
    """The full week before the one *due* falls in (Monday's report covers last week)."""
    return previous_week(week_of(due, tz), tz)


def month_reported_at(due: dt.datetime, tz: ZoneInfo) -> Period:
    """The month before the one *due* falls in (the 通报 of 1 December covers November)."""
    return previous_month(month_of(due, tz), tz)


def _ensure_row(factory: sessionmaker[Session], name: str, first: dt.datetime) -> None:
    """First start: schedule the next slot (no report for periods before the service existed)."""
    with session_scope(factory) as session:
        if session.get(ScheduledReport, name) is not None:
            return
    try:
        with session_scope(factory) as session:
            session.add(ScheduledReport(name=name, next_run_at=first))
    except IntegrityError:
        pass  # another service inserted it first


def _claim(session: Session, name: str, due: dt.datetime, new_next: dt.datetime, now: dt.datetime) -> bool:
    result = session.execute(
        update(ScheduledReport).where(ScheduledReport.name == name, ScheduledReport.next_run_at == due)
        .values(next_run_at=new_next, last_run_at=now).execution_options(synchronize_session=False))
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def _due_slot(session: Session, name: str, now: dt.datetime,
              next_run: Callable[[dt.datetime], dt.datetime]) -> dt.datetime | None:
    """Claim the report's slot if it has come (compare-and-set); the slot claimed, else None."""
    row = session.get(ScheduledReport, name)
    if row is None or row.next_run_at > now:
        return None
    due = row.next_run_at
    return due if _claim(session, name, due, next_run(now), now) else None


def _chat(settings: ReportSettings, chat_id: str | int | None, what: str) -> str | int:
    chat = chat_id if chat_id is not None else settings.duty_chat_id
    if chat is None:
        raise weekly.ReportError(f"no duty chat to post the {what} to: set YUQING_DUTY_CHAT_ID")
    return chat


def _record_output(session: Session, name: str, path: Path) -> None:
    session.execute(update(ScheduledReport).where(ScheduledReport.name == name)
                    .values(last_output=str(path)).execution_options(synchronize_session=False))


# Writes a report for the slot *due* in the open session: (period label, PDF path, chat summary).
Writer = Callable[[Session, dt.datetime], tuple[str, Path, str]]


def _post_if_due(session_factory: sessionmaker[Session], now: dt.datetime, name: str,
                 next_run: Callable[[dt.datetime], dt.datetime], write: Writer,
                 chat: str | int) -> OutboxMessage | None:
    """Claim the report's slot if it has come, write the report and queue it for *chat*, in one transaction."""
    _ensure_row(session_factory, name, next_run(now))
    with session_scope(session_factory) as session:
        due = _due_slot(session, name, now, next_run)
        if due is None:
            return None
        label, pdf, text = write(session, due)
        _record_output(session, name, pdf)
        return enqueue(session, dedupe_key=f"report:{name}:{label}", kind="report", chat_id=chat, text=text,
                       now=now, attachment_path=str(pdf))


def post_weekly_report_if_due(session_factory: sessionmaker[Session], now: dt.datetime, settings: ReportSettings,
                              playbook: Playbook, chat_id: str | int | None = None,
                              health: HealthSection | None = None) -> OutboxMessage | None:
    """Write last week's report and queue it for the duty chat when the slot has come; else None. *health*
    is the sources file's section (a source is shown failing after its ``failing_after``)."""
    policy = weekly.report_policy(playbook)
    tz = ZoneInfo(playbook.timezone)

    def write(session: Session, due: dt.datetime) -> tuple[str, Path, str]:
        report = weekly.build(session, playbook, week_reported_at(due, tz), now, health)
        _html, pdf = weekly.write(report, settings.effective_reports_dir)
        return report.period.label, pdf, weekly.summary_text(report)

    return _post_if_due(session_factory, now, WEEKLY, lambda t: next_weekly_run(t, policy, tz), write,
                        _chat(settings, chat_id, "weekly report"))


def post_monthly_report_if_due(session_factory: sessionmaker[Session], now: dt.datetime, settings: ReportSettings,
                               playbook: Playbook, chat_id: str | int | None = None,
                               dedupe: DedupeSection | None = None) -> OutboxMessage | None:
    """Write last month's 通报 and queue it for the duty chat when its slot has come; else None."""
    policy = weekly.report_policy(playbook)
    tz = ZoneInfo(playbook.timezone)

    def write(session: Session, due: dt.datetime) -> tuple[str, Path, str]:
        report = monthly.build(session, playbook, month_reported_at(due, tz), now, dedupe)
        _html, pdf, _csv = monthly.write(report, settings.effective_reports_dir)
        return report.period.label, pdf, monthly.summary_text(report)

    return _post_if_due(session_factory, now, MONTHLY, lambda t: next_monthly_run(t, policy, tz), write,
                        _chat(settings, chat_id, "monthly report"))
