"""Unit points (2006 §四): a ledger with one reason per row; 1 point = 1 yuan, paid quarterly.

What earns points is what §四 names, and nothing else: information a unit submitted and the
portal adopted (+5, with the bonus for its kind), reprints of that adopted item (+1 by a major
site, +0.5 by another), and the digest adopting the unit's submission (+3, +6 with a leader's
批示). The only deductions are for false or inaccurate information, entered by duty staff with
a reason and the evidence. Missed clocks are reported as on-time rates and overdue lists, never
turned into points. A playbook may add local rules (``points.local_rules``, none by default),
labelled 本办规则 wherever they show.

Amounts come from the playbook's ``points`` section, never from code. Every row has a
``dedupe_key`` (unique in the store), so awarding the same thing twice — a second button press,
a restart mid-run, a re-scan of reprints — adds nothing. Units the playbook marks as
counted-but-not-ranked (附件3 直报单位, the office's own divisions) keep their ledger but stay
out of rankings.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from enum import Enum

from sqlalchemy import delete, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from playbooks.schema import Playbook, UnitKind
from responders.errors import BadCommand, ResponderError, UnknownDepartment
from responders.messages import Templates
from responders.periods import Period
from store.models import Department, Item, PointsEntry, Reprint, Source, Submission


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


LABELS = {  # what each reason is called (words, not sentences)
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
}

# The only deductions of 2006 §四 (约束机制): entered by duty staff with a reason and the evidence.
DEDUCTIONS = (Reason.false_information, Reason.inaccurate_information)
LOCAL_PREFIX = "local:"


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


def label_of(reason: str, playbook: Playbook) -> str:
    """What a ledger row's reason is called; a local rule carries its 本办规则 label."""
    if reason.startswith(LOCAL_PREFIX):
        rule = playbook.points.local_rules.get(reason.removeprefix(LOCAL_PREFIX))
        name = rule.label if rule else reason.removeprefix(LOCAL_PREFIX)
        return Templates.of(playbook).plain("local_rule_label", rule=name, local=playbook.provenance.local)
    try:
        return LABELS[Reason(reason)]
    except ValueError:
        return reason  # a row written under an older playbook keeps its own name


def is_local(reason: str) -> bool:
    return reason.startswith(LOCAL_PREFIX)


def _require_department(session: Session, key: str) -> None:
    if session.get(Department, key) is None:
        raise UnknownDepartment(reply="not_registered", department=key, submitting=False)


def _record(session: Session, department: str, reason: str, value: float, *, dedupe_key: str, now: dt.datetime,
            detail: str = "", item_id: int | None = None, case_id: int | None = None,
            who: str = "system") -> PointsEntry | None:
    """Write one ledger row unless its dedupe key is there already (then ``None``)."""
    _require_department(session, department)
    if session.scalar(select(PointsEntry.id).where(PointsEntry.dedupe_key == dedupe_key)) is not None:
        return None
    entry = PointsEntry(department_key=department, at=now, points=value, reason=reason, detail=detail,
                        item_id=item_id, case_id=case_id, dedupe_key=dedupe_key, recorded_by=who)
    try:
        with session.begin_nested():
            session.add(entry)
    except IntegrityError:  # a concurrent writer recorded the same key first
        return None
    return entry


def award(session: Session, playbook: Playbook, department: str, reason: Reason, *, dedupe_key: str,
          now: dt.datetime, detail: str = "", item_id: int | None = None, case_id: int | None = None,
          who: str = "system") -> PointsEntry | None:
    """Record one ledger row of a 2006 §四 reason; ``None`` when the same dedupe key was recorded before."""
    return _record(session, department, reason.value, amount(reason, playbook), dedupe_key=dedupe_key, now=now,
                   detail=detail, item_id=item_id, case_id=case_id, who=who)


def deduct(session: Session, playbook: Playbook, department: str, reason: Reason, *, why: str, evidence: str,
           now: dt.datetime, who: str) -> PointsEntry | None:
    """约束机制: a deduction for false or inaccurate information, with the reason and the evidence link."""
    if reason not in DEDUCTIONS:
        raise BadCommand(reply="not_a_deduction", reason=LABELS[reason])
    if not why.strip():
        raise BadCommand(reply="deduction_needs_reason")
    if not evidence.strip().startswith(("http://", "https://")):
        raise BadCommand(reply="deduction_needs_evidence")
    detail = Templates.of(playbook).plain("deduction_detail", why=why.strip(), evidence=evidence.strip())
    return award(session, playbook, department, reason, dedupe_key=f"{reason.value}:{department}:{evidence.strip()}",
                 now=now, detail=detail, who=who)


def award_local(session: Session, playbook: Playbook, department: str, rule: str, *, why: str, ref: str,
                now: dt.datetime, who: str) -> PointsEntry | None:
    """A local rule of the office (declared in the playbook, none by default), once per reference."""
    local = playbook.points.local_rules.get(rule)
    if local is None:
        raise BadCommand(reply="unknown_local_rule", rule=rule, names=list(playbook.points.local_rules))
    if not ref.strip() or not why.strip():
        raise BadCommand(reply="local_rule_needs_reason")
    return _record(session, department, f"{LOCAL_PREFIX}{rule}", local.points, now=now, who=who,
                   dedupe_key=f"{LOCAL_PREFIX}{rule}:{department}:{ref.strip()}",
                   detail=f"{why.strip()}　{ref.strip()}")


# --------------------------------------------------------------------------- adoption and its reprints


def _submission_keys(submission: Submission) -> list[str]:
    return [f"{r.value}:submission:{submission.id}" for r in (Reason.adopted, *BONUS_KINDS)]


BONUS_KINDS = (Reason.special_or_interview, Reason.special_commentary, Reason.video, Reason.headline_or_picture)


def award_adoption(
    session: Session,
    playbook: Playbook,
    submission: Submission,
    *,
    now: dt.datetime,
    who: str,
    bonus: Reason | None = None,
) -> list[PointsEntry]:
    """+adopted to the submitting unit, plus the bonus for the kind of item; each once per submission."""
    if bonus is not None and bonus not in BONUS_KINDS:
        raise BadCommand(reply="not_a_bonus", reason=LABELS[bonus])
    detail = Templates.of(playbook).plain("adoption_detail", submission=submission.id, title=submission.title[:60])
    rows = []
    for reason in (Reason.adopted, *([bonus] if bonus else [])):
        entry = award(
            session,
            playbook,
            submission.department_key,
            reason,
            now=now,
            who=who,
            dedupe_key=f"{reason.value}:submission:{submission.id}",
            item_id=submission.adopted_item_id,
            detail=detail,
        )
        if entry is not None:
            rows.append(entry)
    return rows


def revoke_adoption(session: Session, submission: Submission) -> int:
    """Remove the points an adoption earned (its award, bonus and reprints); the number of rows removed."""
    keys = _submission_keys(submission)
    if submission.adopted_item_id is not None:
        reprints = session.scalars(select(Reprint.id).where(Reprint.original_id == submission.adopted_item_id))
        keys += [f"reprint:{rid}" for rid in reprints]
    result = session.execute(
        delete(PointsEntry).where(PointsEntry.dedupe_key.in_(keys)).execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def _counts_as_reprint(playbook: Playbook, reprint: Reprint, source: Source) -> bool:
    """The portal carrying an item is its adoption, a microblog repost is engagement: neither is a reprint."""
    weights = playbook.source_weights
    return not (weights.is_portal(reprint.host) or weights.is_microblog(reprint.host) or source.kind == "weibo")


def award_reprints(session: Session, playbook: Playbook, now: dt.datetime) -> list[PointsEntry]:
    """+1 per major-site reprint, +0.5 per other, of each adopted submission's published item."""
    done = set(session.scalars(select(PointsEntry.dedupe_key).where(PointsEntry.dedupe_key.like("reprint:%"))))
    rows = session.execute(
        select(Reprint, Submission, Source)
        .join(Submission, Submission.adopted_item_id == Reprint.original_id)
        .join(Item, Item.id == Reprint.reprint_id)
        .join(Source, Source.id == Item.source_id)
        .where(Submission.state == "adopted")
        .order_by(Reprint.id)
    ).all()
    added = []
    templates = Templates.of(playbook)
    for reprint, submission, source in rows:
        key = f"reprint:{reprint.id}"
        if key in done or not _counts_as_reprint(playbook, reprint, source):
            continue
        reason = Reason.reprint_major if reprint.weight >= playbook.source_weights.major else Reason.reprint_other
        entry = award(
            session,
            playbook,
            submission.department_key,
            reason,
            dedupe_key=key,
            now=now,
            item_id=reprint.reprint_id,
            detail=templates.plain("reprint_detail", submission=submission.id, host=reprint.host),
        )
        if entry is not None:
            added.append(entry)
    return added


# --------------------------------------------------------------------------- totals and rankings


GROUP_LABELS = {  # the 2006 document's groups of units (附件2, 附件3), as the 通报 heads them
    UnitKind.city: "市（州）政府",
    UnitKind.county: "县（市）政府",
    UnitKind.provincial: "省政府工作部门",
    UnitKind.direct: "信息直报单位（不参与排名）",
    UnitKind.office_division: "省政府办公厅信息报送处室（不参与排名）",
}
GROUP_ORDER = (UnitKind.city, UnitKind.county, UnitKind.provincial, UnitKind.direct, UnitKind.office_division)


@dataclass
class Standing:
    """One unit's points over a period, with the breakdown by reason."""

    department_key: str
    full_name: str
    ranked: bool
    points: float = 0.0
    by_reason: dict[str, float] = field(default_factory=dict)
    rank: int | None = None
    group: str = ""

    def yuan(self, playbook: Playbook) -> float:
        return self.points * playbook.points.yuan_per_point


def standings(session: Session, period: Period) -> list[Standing]:
    """Every registered unit, zeros included, best first within the ranked ones; ranks per group."""
    rows = session.execute(
        select(PointsEntry.department_key, PointsEntry.reason, func.sum(PointsEntry.points))
        .where(PointsEntry.at >= period.start, PointsEntry.at < period.end)
        .group_by(PointsEntry.department_key, PointsEntry.reason)
    ).all()
    by_dept: dict[str, dict[str, float]] = defaultdict(dict)
    for key, reason, total in rows:
        by_dept[key][reason] = float(total or 0)
    units = session.scalars(
        select(Department).where(or_(Department.active.is_(True), Department.key.in_(list(by_dept))))
    )
    result = [
        Standing(
            d.key,
            d.full_name or d.key,
            bool(d.ranked),
            sum(by_dept[d.key].values()),
            dict(by_dept[d.key]),
            group=d.kind,
        )
        for d in units
    ]
    out: list[Standing] = []
    for kind in [*GROUP_ORDER, None]:
        members = [s for s in result if (s.group == kind.value if kind else s.group not in _KINDS)]
        out += rank(members)
    return out


_KINDS = {k.value for k in GROUP_ORDER}


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
    return list(
        session.scalars(
            select(PointsEntry)
            .where(
                PointsEntry.department_key == department, PointsEntry.at >= period.start, PointsEntry.at < period.end
            )
            .order_by(PointsEntry.at, PointsEntry.id)
        )
    )
