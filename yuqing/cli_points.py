"""Information submission and points (2006 §三–§四): submit, adopt, decline, points, deduct.

A unit's liaison submits information (实名制); duty editors adopt or decline it; the ledger shows
what each unit earned, by month or quarter, with the rows behind every total (``--json``).
"""

from __future__ import annotations

import json
from typing import Any

import click

from playbooks.schema import Playbook
from responders import periods, points, submissions
from responders.periods import Period
from store import utcnow
from store.models import PointsEntry
from yuqing.cli_context import Context, pass_context
from yuqing.cli_session import DefaultGroup, store_session, zone_of


@click.command()
@click.option("--unit", required=True, help="the submitting unit, as the playbook names it (e.g. 农安县)")
@click.option("--title", required=True)
@click.option("--text", required=True, help="the information itself")
@click.option("--url", help="where the unit published it, if it did")
@click.option("--attachment", "attachments", multiple=True, help="a file or link to go with it (repeatable)")
@click.option("--by", "who", required=True, help="the submitter's real name (报送信息采用实名制)")
@pass_context
def submit(context: Context, unit: str, title: str, text: str, url: str | None, attachments: tuple[str, ...],
           who: str) -> None:
    """Submit information to the provincial portal (信息报送); prints the submission id."""
    with store_session(context) as session:
        row = submissions.submit(session, unit=unit, title=title, text=text, by=who, now=utcnow(), url=url,
                                 attachments=list(attachments))
        click.echo(row.id)


@click.command()
@click.argument("submission_id", type=int)
@click.option("--bonus", type=click.Choice([b.value for b in submissions.Bonus]),
              help="interview (+30), commentary (+20), video (+10), headline (+5): 2006 §四")
@click.option("--item", "item_id", type=int, help="the portal item that published it")
@click.option("--undo", is_flag=True, help="take back a wrong adoption (its points go too)")
@click.option("--reason", default="", help="why (required with --undo)")
@click.option("--by", "who", default="cli", help="the duty editor")
@pass_context
def adopt(context: Context, submission_id: int, bonus: str | None, item_id: int | None, undo: bool, reason: str,
          who: str) -> None:
    """Adopt a submission (采用): +5 to the submitting unit, plus the bonus."""
    book = context.playbook()
    with store_session(context) as session:
        if undo:
            row = submissions.undo_adoption(session, submission_id, who=who, now=utcnow(), reason=reason)
            click.echo(f"报送 #{row.id} 已撤销采用，积分已收回")
            return
        row = submissions.adopt(session, book, submission_id, who=who, now=utcnow(), item_id=item_id,
                                bonus=submissions.Bonus(bonus) if bonus else None)
        month = periods.month_of(row.adopted_at or utcnow(), zone_of(book))
        total = sum(e.points for e in points.ledger(session, row.department_key, month)
                    if e.dedupe_key.endswith(f":submission:{row.id}"))
        click.echo(f"报送 #{row.id} 已采用：{row.department_key} +{total:g} 分")


@click.command()
@click.argument("submission_id", type=int)
@click.option("--reason", required=True, help="why it is sent back, so the unit can improve it")
@click.option("--by", "who", default="cli")
@pass_context
def decline(context: Context, submission_id: int, reason: str, who: str) -> None:
    """Send a submission back (退回) with the reason."""
    with store_session(context) as session:
        row = submissions.decline(session, submission_id, reason=reason, who=who, now=utcnow())
        click.echo(f"报送 #{row.id} 已退回{row.department_key}：{reason}")


def _period(book: Playbook, month: str | None, quarter: str | None) -> Period:
    tz = zone_of(book)
    if month and quarter:
        raise click.UsageError("give --month or --quarter, not both")
    if month:
        return periods.month(month, tz)
    return periods.quarter(quarter, tz) if quarter else periods.quarter_of(utcnow(), tz)


def _row_json(entry: PointsEntry, book: Playbook) -> dict[str, Any]:
    return {"id": entry.id, "at": entry.at.isoformat(), "points": entry.points, "reason": entry.reason,
            "label": points.label_of(entry.reason, book), "local_rule": points.is_local(entry.reason),
            "detail": entry.detail, "item_id": entry.item_id, "recorded_by": entry.recorded_by}


@click.group(cls=DefaultGroup, default_command="show")
def points_group() -> None:
    """Unit points (1 point = 1 yuan, paid quarterly): show (default), deduct, local."""


@points_group.command("show")
@click.option("--month", help="e.g. 2026-11")
@click.option("--quarter", help="e.g. 2026-Q4 (default: this quarter)")
@click.option("--json", "as_json", is_flag=True, help="one object per unit with its group and ledger rows")
@pass_context
def points_show(context: Context, month: str | None, quarter: str | None, as_json: bool) -> None:
    """Every unit's points in its group (ranked units with their place), zeros included."""
    book = context.playbook()
    with store_session(context) as session:
        period = _period(book, month, quarter)
        rows = points.standings(session, period)
        if as_json:
            out = [{"unit": s.department_key, "name": s.full_name, "group": s.group, "ranked": s.ranked,
                    "rank": s.rank, "points": s.points, "yuan": s.yuan(book), "by_reason": s.by_reason,
                    "rows": [_row_json(e, book) for e in points.ledger(session, s.department_key, period)]}
                   for s in rows]
            click.echo(json.dumps({"period": period.label, "units": out}, ensure_ascii=False, indent=1))
            return
        click.echo(f"{period.label} 积分（1分 = {book.points.yuan_per_point:g} 元，按季度兑现）")
        for s in rows:
            place = f"{s.rank:>3}" if s.rank else "  —"
            if s.points or s.ranked:
                click.echo(f"{place} {s.full_name:<16} {s.points:8.1f} 分 {s.yuan(book):8.1f} 元"
                           f"{'' if s.ranked else '（只计数不排名）'}")


@points_group.command("deduct")
@click.argument("unit")
@click.option("--reason", required=True, type=click.Choice([r.value for r in points.DEDUCTIONS]),
              help="false_information (虚假) or inaccurate_information (失实): the only deductions of 2006 §四")
@click.option("--why", required=True, help="what was false or inaccurate")
@click.option("--evidence", required=True, help="link to the evidence")
@click.option("--by", "who", required=True, help="the duty officer entering it")
@pass_context
def points_deduct(context: Context, unit: str, reason: str, why: str, evidence: str, who: str) -> None:
    """Deduct for false or inaccurate information (约束机制), once per unit and evidence."""
    book = context.playbook()
    with store_session(context) as session:
        entry = points.deduct(session, book, unit, points.Reason(reason), why=why, evidence=evidence, now=utcnow(),
                              who=who)
        label = points.LABELS[points.Reason(reason)]
        click.echo(f"{unit}「{label}」已登记过，未重复扣分" if entry is None
                   else f"{unit}「{label}」{entry.points:+g} 分（记录 {entry.id}）")


@points_group.command("local")
@click.argument("unit")
@click.option("--rule", required=True, help="a key of the playbook's points.local_rules")
@click.option("--why", required=True)
@click.option("--ref", required=True, help="稿件编号 or link, so it counts once")
@click.option("--by", "who", required=True)
@pass_context
def points_local(context: Context, unit: str, rule: str, why: str, ref: str, who: str) -> None:
    """Record a local rule of the office (本办规则; the default playbook declares none)."""
    book = context.playbook()
    with store_session(context) as session:
        entry = points.award_local(session, book, unit, rule, why=why, ref=ref, now=utcnow(), who=who)
        click.echo(f"{unit} 本办规则「{rule}」已登记过" if entry is None
                   else f"{unit} {entry.points:+g} 分（本办规则）")


points_group.name = "points"
COMMANDS = [submit, adopt, decline, points_group]
