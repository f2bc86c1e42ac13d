"""Department points (2006 §四): a ledger with one reason per row; 1 point = 1 yuan, paid quarterly.

Amounts come from the playbook's ``points`` section, never from code. Every
row has a ``dedupe_key`` (unique in the store), so awarding the same thing
twice — a second button press, a restart mid-run, a re-scan of reprints —
adds nothing. Units the playbook marks as counted-but-not-ranked (附件3
直报单位, the office's own divisions) keep their ledger but stay out of rankings.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from enum import Enum

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from monitor.store.models import Assignment, Clarification, Department, Item, PointsEntry, Reprint, Source
from playbooks.schema import Playbook
from responders.assignments import OPEN_STATES, State
from responders.errors import BadCommand, ResponderError, UnknownDepartment
from responders.periods import Period


class Reason(str, Enum):
    adopted = "adopted"
    special_or_interview = "special_or_interview"
    special_commentary = "special_commentary"
    video = "video"
    headline_or_picture = "headline_or_picture"
    reprint_major = "reprint_major"
    reprint_other = "reprint_other"
    digest_adopted = "digest_adopted"
    digest_leader_instruction = "digest_leader_instruction"
    false_information = "false_information"
    inaccurate_information = "inaccurate_information"
    missed_acknowledge = "missed_acknowledge"
    missed_response = "missed_response"
    missed_policy_reprint = "missed_policy_reprint"


LABELS = {
    Reason.adopted: "信息采用",
    Reason.special_or_interview: "特约/访谈信息",
    Reason.special_commentary: "特约网评",
    Reason.video: "视频信息",
    Reason.headline_or_picture: "标题/图片新闻",
    Reason.reprint_major: "重点网站转载",
    Reason.reprint_other: "其他网站转载",
    Reason.digest_adopted: "《网络信息摘要》采用",
    Reason.digest_leader_instruction: "领导批示",
    Reason.false_information: "虚假信息扣分",
    Reason.inaccurate_information: "失实信息扣分",
    Reason.missed_acknowledge: "逾期签收扣分",
    Reason.missed_response: "逾期回应扣分",
    Reason.missed_policy_reprint: "政策转载逾期扣分",
}

# Reasons a person records by hand (the rest are computed by the service).
MANUAL = (Reason.adopted, Reason.special_or_interview, Reason.special_commentary, Reason.video,
          Reason.headline_or_picture, Reason.false_information, Reason.inaccurate_information)


class PointsError(ResponderError):
    """A points row could not be recorded; the message says why."""


def amount(reason: Reason, playbook: Playbook) -> float:
    """The playbook's points for *reason* (deductions are negative)."""
    p = playbook.points
    if reason.value in type(p.bonus).model_fields:
        return float(getattr(p.bonus, reason.value))
    if reason.value in type(p.deductions).model_fields:
        return float(getattr(p.deductions, reason.value))
    return float(getattr(p, reason.value))


def parse_reason(text: str) -> Reason:
    try:
        return Reason(text.strip())
    except ValueError:
        names = ", ".join(r.value for r in Reason)
        raise BadCommand(f"未知加减分事由「{text}」（可用：{names}）") from None


def _require_department(session: Session, key: str) -> None:
    if session.get(Department, key) is None:
        raise UnknownDepartment(f"「{key}」不是已登记的部门（先运行 yuqing init）")


def award(session: Session, playbook: Playbook, department: str, reason: Reason, *, dedupe_key: str,
          now: dt.datetime, detail: str = "", item_id: int | None = None, assignment_id: int | None = None,
          who: str = "system") -> PointsEntry | None:
    """Record one ledger row; ``None`` when the same dedupe key was recorded before."""
    _require_department(session, department)
    if session.scalar(select(PointsEntry.id).where(PointsEntry.dedupe_key == dedupe_key)) is not None:
        return None
    entry = PointsEntry(department_key=department, at=now, points=amount(reason, playbook), reason=reason.value,
                        detail=detail, item_id=item_id, assignment_id=assignment_id, dedupe_key=dedupe_key,
                        recorded_by=who)
    try:
        with session.begin_nested():
            session.add(entry)
    except IntegrityError:  # a concurrent writer recorded the same key first
        return None
    return entry


def award_manual(session: Session, playbook: Playbook, department: str, reason: Reason, *, now: dt.datetime,
                 who: str, item_id: int | None = None, ref: str | None = None, detail: str = "") -> PointsEntry | None:
    """A hand-recorded award or deduction, keyed by the item or a reference so it counts once."""
    if reason not in MANUAL:
        raise BadCommand(f"「{LABELS[reason]}」由系统自动计分，不能手工登记")
    if item_id is None and not (ref or "").strip():
        raise BadCommand("请给出 --item（条目编号）或 --ref（稿件编号或链接），以免重复计分")
    if item_id is not None and session.get(Item, item_id) is None:
        raise PointsError(f"没有编号为 {item_id} 的条目")
    anchor = f"item:{item_id}" if item_id is not None else f"ref:{(ref or '').strip()}"
    return award(session, playbook, department, reason, dedupe_key=f"{reason.value}:{department}:{anchor}",
                 now=now, detail=detail or (ref or ""), item_id=item_id, who=who)


# --------------------------------------------------------------------------- computed rows


def reprint_owner(session: Session, reprint: Reprint) -> str | None:
    """The department whose item was reprinted: the clarification's, else the original's source."""
    if reprint.clarification_id is not None:
        clarification = session.get(Clarification, reprint.clarification_id)
        if clarification is not None:
            return clarification.department_key
    return session.scalar(select(Source.department_key).join(Item, Item.source_id == Source.id)
                          .where(Item.id == reprint.original_id))


def award_reprints(session: Session, playbook: Playbook, now: dt.datetime) -> list[PointsEntry]:
    """+1 per major-site reprint, +0.5 per other, for every department-owned original."""
    done = set(session.scalars(select(PointsEntry.dedupe_key).where(PointsEntry.dedupe_key.like("reprint:%"))))
    added = []
    for reprint in session.scalars(select(Reprint).order_by(Reprint.id)):
        key = f"reprint:{reprint.id}"
        owner = None if key in done else reprint_owner(session, reprint)
        if owner is None:
            continue
        reason = Reason.reprint_major if reprint.weight >= playbook.source_weights.major else Reason.reprint_other
        entry = award(session, playbook, owner, reason, dedupe_key=key, now=now, item_id=reprint.original_id,
                      detail=f"{reprint.host}（{reprint.method}）")
        if entry is not None:
            added.append(entry)
    return added


def _missed(a: Assignment, now: dt.datetime) -> list[Reason]:
    """Deadlines this assignment has missed, by the on-time flags or by the clock."""
    state = State(a.state)
    if state in (State.reassigned, State.dismissed):
        return []
    missed = []
    ack_overdue = a.acknowledged_at is None and a.acknowledge_due_at is not None and now > a.acknowledge_due_at
    if a.acknowledged_on_time is False or ack_overdue:
        missed.append(Reason.missed_acknowledge)
    due = a.first_information_due_at or a.respond_due_at
    resp_overdue = state in OPEN_STATES and a.responded_at is None and due is not None and now > due
    if a.responded_on_time is False or resp_overdue:
        missed.append(Reason.missed_response)
    return missed


def deduct_missed_deadlines(session: Session, playbook: Playbook, now: dt.datetime) -> list[PointsEntry]:
    """One deduction per assignment and missed deadline (签收, 回应), never twice."""
    added = []
    for a in session.scalars(select(Assignment).order_by(Assignment.id)):
        for reason in _missed(a, now):
            entry = award(session, playbook, a.department_key, reason, now=now, assignment_id=a.id,
                          dedupe_key=f"{reason.value}:assignment:{a.id}", detail=f"事件 {a.event_id}")
            if entry is not None:
                added.append(entry)
    return added


# --------------------------------------------------------------------------- totals and rankings


@dataclass
class Standing:
    """One unit's points over a period, with the breakdown by reason."""

    department_key: str
    full_name: str
    ranked: bool
    points: float = 0.0
    by_reason: dict[str, float] = field(default_factory=dict)
    rank: int | None = None

    def yuan(self, playbook: Playbook) -> float:
        return self.points * playbook.points.yuan_per_point


def standings(session: Session, period: Period) -> list[Standing]:
    """Every unit with ledger rows in *period*, best first; ranks only for ranked units."""
    rows = session.execute(
        select(PointsEntry.department_key, PointsEntry.reason, func.sum(PointsEntry.points))
        .where(PointsEntry.at >= period.start, PointsEntry.at < period.end)
        .group_by(PointsEntry.department_key, PointsEntry.reason)
    ).all()
    by_dept: dict[str, dict[str, float]] = defaultdict(dict)
    for key, reason, total in rows:
        by_dept[key][reason] = float(total or 0)
    units = {d.key: d for d in session.scalars(select(Department).where(Department.key.in_(list(by_dept))))}
    result = [Standing(key, units[key].full_name or key, bool(units[key].ranked), sum(reasons.values()), reasons)
              for key, reasons in by_dept.items()]
    return rank(result)


def rank(rows: list[Standing]) -> list[Standing]:
    """Ranked units by points with places 1, 2, 2, 4 … (ties share), then the unranked ones without."""
    rows.sort(key=lambda s: (not s.ranked, -s.points, s.department_key))
    position, last, last_rank = 0, None, 0
    for s in rows:
        if not s.ranked:
            s.rank = None
            continue
        position += 1
        last_rank = last_rank if s.points == last else position
        s.rank, last = last_rank, s.points
    return rows


def ledger(session: Session, department: str, period: Period) -> list[PointsEntry]:
    return list(session.scalars(
        select(PointsEntry).where(PointsEntry.department_key == department,
                                  PointsEntry.at >= period.start, PointsEntry.at < period.end)
        .order_by(PointsEntry.at, PointsEntry.id)))
