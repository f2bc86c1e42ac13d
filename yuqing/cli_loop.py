"""Closing-the-loop commands: clarify, case, digest, report, compliance.

Each command opens the store, does one unit of work and prints what changed;
responder errors become one-line messages, never tracebacks.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click
from sqlalchemy import select
from sqlalchemy.orm import Session

from monitor.config import DedupeSection, SourcesFile
from playbooks.loader import PolicyFileError
from playbooks.schema import Playbook
from responders import clarifications, digest, periods, spread
from responders.cases import Actor, get_case
from responders.errors import UnknownCase
from store import shown, utcnow
from store.models import Case, CaseAudit, Event
from yuqing.cli_context import Context, pass_context
from yuqing.cli_session import DefaultGroup, store_session, zone_of


def _sources(context: Context) -> SourcesFile:
    """The sources file as every process reads it (:func:`yuqing.store_setup.sources_config`)."""
    from yuqing.store_setup import sources_config

    try:
        return sources_config(context.settings)
    except PolicyFileError as exc:
        raise click.ClickException(str(exc)) from None


def _dedupe(context: Context) -> DedupeSection:
    return _sources(context).dedupe


def _date(value: str | None, book: Playbook) -> dt.date:
    if not value:
        return utcnow().astimezone(zone_of(book)).date()
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"not a date: {value!r} (use 2026-11-23)", param_hint="--date") from None


def _out(context: Context, out: Path | None) -> Path:
    return out or context.settings.effective_reports_dir


# --------------------------------------------------------------------------- clarify


@click.group(cls=DefaultGroup, default_command="submit")
def clarify() -> None:
    """Submit a clarification (default) or review one: approve / reject (审签)."""


@clarify.command("submit")
@click.argument("number", type=int)
@click.argument("url_or_text")
@click.option("--department", help="submitting department (when the event has several)")
@click.option("--case", "is_case", is_flag=True, help="NUMBER is a case number, not an event number")
@click.option("--by", "who", default="cli", help="who submits (for the record)")
@pass_context
def clarify_submit(context: Context, number: int, url_or_text: str, department: str | None, is_case: bool,
                   who: str) -> None:
    """Record the clarification of event (or case) NUMBER (a URL or text), pending duty staff's sign-off."""
    with store_session(context) as session:
        target: Event | Case | None = (get_case(session, number) if is_case
                                       else session.get(Event, number))
        if target is None:
            raise UnknownCase(reply="no_such", kind="event", n=number)
        row = clarifications.submit(session, target, department, url_or_text, Actor(who), utcnow())
        click.echo(f"澄清 {row.id} 已提交（事件 {row.event_id}，{row.department_key}），待审签："
                   f"yuqing clarify approve {row.id}")


@clarify.command("approve")
@click.argument("clarification_id", type=int)
@click.option("--by", "who", default="cli", help="duty officer signing off")
@pass_context
def clarify_approve(context: Context, clarification_id: int, who: str) -> None:
    """Sign off (审签, with 保密审查) a clarification; its spread is tracked once it is published."""
    with store_session(context) as session:
        row = clarifications.approve(session, clarification_id, Actor(who), utcnow(), context.playbook())
        result = clarifications.track(session, row, context.playbook(), utcnow(), _dedupe(context))
        seen = (f"已找到原文条目 {result.own_item_id}，转载 {len(result.added)} 条" if result.own_item_id
                else "尚未监测到原文")
        click.echo(f"澄清 {row.id} 审签通过；{seen}")


@clarify.command("publish")
@click.argument("clarification_id", type=int)
@click.argument("url")
@pass_context
def clarify_publish(context: Context, clarification_id: int, url: str) -> None:
    """Mark an approved clarification published at URL: stops the first-information clocks."""
    with store_session(context) as session:
        changed = clarifications.publish(session, clarification_id, url, utcnow(), context.playbook())
        click.echo(f"澄清 {clarification_id} 已发布：{url}；更新任务 {', '.join(f'#{a.id}' for a in changed) or '无'}")


@clarify.command("reject")
@click.argument("clarification_id", type=int)
@click.argument("reason")
@click.option("--by", "who", default="cli")
@pass_context
def clarify_reject(context: Context, clarification_id: int, reason: str, who: str) -> None:
    """Send a clarification back with REASON; the department may resubmit."""
    with store_session(context) as session:
        row = clarifications.reject(session, clarification_id, Actor(who), reason, utcnow())
        click.echo(f"澄清 {row.id} 已退回：{row.review_note}")


# --------------------------------------------------------------------------- case


def _trail(session: Session, a: Case) -> list[str]:
    rows = session.scalars(
        select(CaseAudit).where(CaseAudit.case_id == a.id).order_by(CaseAudit.id)
    )
    return [f"    {shown(e.at)} {e.actor} {e.action} {e.from_state or ''}→{e.to_state or ''}" for e in rows]


@click.command()
@click.argument("event_id", type=int)
@click.option("--hours", default=48, show_default=True, help="how many of the latest buckets to show")
@pass_context
def case(context: Context, event_id: int, hours: int) -> None:
    """Show an event: rumour and clarification reach per bucket, coverage, cases and audit trail."""
    book = context.playbook()
    with store_session(context) as session:
        event = session.get(Event, event_id)
        if event is None:
            raise UnknownCase(reply="no_such", kind="event", n=event_id)
        s = spread.event_spread(session, event, book, utcnow())
        click.echo(
            f"事件 {event.id} {event.title}（{event.category or '—'}，状态 {event.status}，热度 {event.heat:.0f}）"
        )
        cover = "—" if s.coverage is None else f"{s.coverage:.0%}"
        click.echo(
            f"谣言传播 {s.rumour_total:.1f} · 澄清传播 {s.clarification_total:.1f} · 覆盖率 {cover} · "
            f"剩余风险 {s.risk:.1f}{' · 可办结' if s.closable else ''}"
        )
        click.echo("时段               谣言新增  谣言累计  澄清新增  澄清累计")
        for b in s.buckets[-hours:]:
            click.echo(
                f"{shown(b.start)}  {b.rumour:8.1f}  {b.rumour_total:8.1f}  "
                f"{b.clarification:8.1f}  {b.clarification_total:8.1f}"
            )
        for c in clarifications.of_event(session, event.id):
            click.echo(
                f"澄清 {c.id} {c.department_key} {c.state} {c.url or (c.text or '')[:40]}"
                f"{'（退回：' + c.review_note + '）' if c.review_note else ''}"
            )
        for a in session.scalars(select(Case).where(Case.event_id == event.id).order_by(Case.id)):
            click.echo(
                f"任务 #{a.id} {a.department_key}（{a.role}）{a.state} 签收时限 {shown(a.acknowledge_due_at)} "
                f"首发时限 {shown(a.first_information_due_at)} 答复时限 {shown(a.respond_due_at)}"
            )
            for line in _trail(session, a):
                click.echo(line)


# --------------------------------------------------------------------------- digest


@click.group(cls=DefaultGroup, default_command="show")
def digest_group() -> None:
    """The daily 《网络信息摘要》: show (default), add, instruct."""


@digest_group.command("show")
@click.option("--date", "day", help="YYYY-MM-DD (default: today)")
@click.option("--out", type=click.Path(path_type=Path), help="folder for the HTML (default: reports dir)")
@pass_context
def digest_show(context: Context, day: str | None, out: Path | None) -> None:
    """Write the day's digest as HTML and print the chat summary."""
    book = context.playbook()
    with store_session(context) as session:
        date = _date(day, book)
        path = digest.write(session, date, utcnow(), _out(context, out), book)
        click.echo(digest.chat_summary(digest.entries(session, date, book), date))
        click.echo(f"HTML: {path}")


@digest_group.command("add")
@click.option("--item", "item_id", type=int)
@click.option("--event", "event_id", type=int)
@click.option("--submission", "submission_id", type=int, help="a unit's submission (+3 to that unit)")
@click.option("--date", "day", help="YYYY-MM-DD (default: today)")
@click.option("--by", "who", default="cli")
@pass_context
def digest_add(
    context: Context, item_id: int | None, event_id: int | None, submission_id: int | None, day: str | None, who: str
) -> None:
    """Pick an item, event or submission into the day's digest (only a submission's unit earns +3)."""
    book = context.playbook()
    with store_session(context) as session:
        entry = digest.add(
            session,
            book,
            who=who,
            now=utcnow(),
            item_id=item_id,
            event_id=event_id,
            submission_id=submission_id,
            day=_date(day, book),
        )
        click.echo(f"摘要条目 {entry.id}（{entry.day}，{entry.department_key or '本办编写，不计分'}）")


@digest_group.command("instruct")
@click.argument("entry_id", type=int)
@click.argument("text")
@click.option("--by", "who", default="cli")
@pass_context
def digest_instruct(context: Context, entry_id: int, text: str, who: str) -> None:
    """Record a leader's instruction (批示) on a digest entry (+6 to the unit whose submission it is)."""
    with store_session(context) as session:
        entry = digest.instruct(session, context.playbook(), entry_id, text, who=who, now=utcnow())
        click.echo(f"摘要条目 {entry.id} 已记录批示")


# --------------------------------------------------------------------------- reports


@click.group()
def report() -> None:
    """Leaders' reports: the monthly ranking (通报) and the weekly opinion report."""


@report.command("monthly")
@click.option("--month", help="e.g. 2026-11 (default: last month)")
@click.option("--out", type=click.Path(path_type=Path), help="folder (default: reports dir)")
@pass_context
def report_monthly(context: Context, month: str | None, out: Path | None) -> None:
    """The monthly 通报: every unit ranked in its group, submissions, on-time rates, overdue (HTML, PDF, CSV)."""
    from responders.reports import monthly

    book = context.playbook()
    with store_session(context) as session:
        now = utcnow()
        period = (
            periods.month(month, zone_of(book))
            if month
            else periods.previous_month(periods.month_of(now, zone_of(book)), zone_of(book))
        )
        paths = monthly.write(monthly.build(session, book, period, now, _dedupe(context)), _out(context, out))
        click.echo("\n".join(str(p) for p in paths))


@report.command("weekly")
@click.option("--week", help="e.g. 2026-W47 (default: last week)")
@click.option("--out", type=click.Path(path_type=Path), help="folder (default: reports dir)")
@pass_context
def report_weekly(context: Context, week: str | None, out: Path | None) -> None:
    """The weekly opinion report as HTML and PDF."""
    from responders.reports import weekly

    book = context.playbook()
    with store_session(context) as session:
        now = utcnow()
        period = (
            periods.week(week, zone_of(book)) if week
            else periods.previous_week(periods.week_of(now, zone_of(book)), zone_of(book))
        )
        data = weekly.build(session, book, period, now, _sources(context).health)
        html_path, pdf_path = weekly.write(data, _out(context, out))
        click.echo(f"{html_path}\n{pdf_path}")


# --------------------------------------------------------------------------- compliance


@click.command()
@click.option("--days", default=7, show_default=True, help="policies published in the last N days")
@pass_context
def compliance(context: Context, days: int) -> None:
    """Policy-reprint status (2015 §六) of every subordinate site for recent important policies."""
    from monitor.policy_carriage import STATUS_LABELS, check_all

    book = context.playbook()
    with store_session(context) as session:
        now = utcnow()
        results = check_all(session, book, now - dt.timedelta(days=days), now, _dedupe(context))
        if not results:
            click.echo(f"近 {days} 天无重要政策")
        for policy_id, sites in results.items():
            click.echo(f"政策条目 {policy_id}")
            for s in sites:
                when = f" {shown(s.carried_at)}" if s.carried_at else ""
                click.echo(f"  {s.source_name:<24} {STATUS_LABELS[s.status]}{when}（最迟 {shown(s.deadlines.latest)}）")


digest_group.name = "digest"
COMMANDS = [clarify, case, digest_group, report, compliance]
