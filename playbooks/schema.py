"""Typed shape of a playbook: the office's policy written as data.

Every rule the service enforces (who answers which category, how long they
have, how points are counted, when to escalate) is a field here, so that a
policy change is a YAML edit that this schema validates, never a code change.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable
from enum import Enum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|min|h|d)\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "min": 60, "h": 3600, "d": 86400}


MAX_DURATION = dt.timedelta(days=366)  # no policy duration of ours is longer than a year
MAX_WORKING_DAYS = 250  # about a year of working days


def parse_duration(value: Any) -> dt.timedelta:
    """Accept '30m', '4h', '2d', a number of seconds or a timedelta, up to a year."""
    if isinstance(value, bool):
        raise ValueError(f"invalid duration {value!r} (use e.g. 30m, 4h, 2d)")
    if isinstance(value, dt.timedelta):
        seconds = value.total_seconds()
    elif isinstance(value, (int, float)):
        seconds = float(value)
    elif isinstance(value, str) and (match := _DURATION.match(value)):
        seconds = float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    else:
        raise ValueError(f"invalid duration {value!r} (use e.g. 30m, 4h, 2d)")
    if math.isnan(seconds):
        raise ValueError(f"invalid duration {value!r} (use e.g. 30m, 4h, 2d)")
    if seconds < 0:
        raise ValueError(f"duration must not be negative, got {value!r}")
    if seconds > MAX_DURATION.total_seconds():
        raise ValueError(f"duration {value!r} is longer than a year ({MAX_DURATION.days}d at most)")
    return dt.timedelta(seconds=seconds)


def parse_clock(value: Any) -> dt.timedelta:
    """A deadline clock: a duration that is more than zero (``acknowledge: 0h`` would be overdue at once)."""
    duration = parse_duration(value)
    if duration <= dt.timedelta(0):
        raise ValueError(f"a deadline must be longer than zero, got {value!r}")
    return duration


Duration = Annotated[dt.timedelta, BeforeValidator(parse_duration)]
ClockDuration = Annotated[dt.timedelta, BeforeValidator(parse_clock)]


def _parse_clock_time(value: Any) -> dt.time:
    if isinstance(value, dt.time):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        # YAML 1.1 reads 17:00 as a sexagesimal int (1020); turn it back.
        return dt.time(value // 60, value % 60)
    if isinstance(value, str):
        try:
            return dt.time.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ValueError(f"invalid time of day {value!r} (use HH:MM, e.g. 08:30)")


ClockTime = Annotated[dt.time, BeforeValidator(_parse_clock_time)]


# The word segmenters a playbook may choose (``classifiers.tokenizer`` implements both; a model records
# the one it was trained with).
TokenizerName = Literal["jieba", "rjieba"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class UnitKind(str, Enum):
    """Reporting-unit kinds of the 2006 document's attachments."""

    city = "city"  # 市（州）政府
    county = "county"  # 县（市）政府
    provincial = "provincial"  # 省政府工作部门
    direct = "direct"  # 附件3 信息直报单位: counted, not ranked
    office_division = "office_division"  # 省政府办公厅处室: counted, not ranked


RANKED_KINDS = frozenset({UnitKind.city, UnitKind.county, UnitKind.provincial})


class Department(_Strict):
    """A reporting unit: a department that can be asked to answer."""

    kind: UnitKind
    full_name: str | None = None
    places: list[str] = Field(default_factory=list, description="place names routing to it")
    parent: str | None = Field(None, description="for counties: the city or prefecture")
    ranked: bool | None = Field(None, description="defaults by kind (attachment 3 units are not ranked)")

    @property
    def is_ranked(self) -> bool:
        return self.ranked if self.ranked is not None else self.kind in RANKED_KINDS


class Category(_Strict):
    """A hot-issue category and who answers for it (joint spokesperson mechanism)."""

    keywords: list[str] = Field(min_length=1)
    sensitivity: float = Field(ge=0, le=5)
    lead: str
    co: list[str] = Field(default_factory=list)
    description: str = ""


class RelabelRule(_Strict):
    """Carve a playbook category out of a native dataset label by keywords."""

    category: str
    from_labels: list[str] = Field(min_length=1)
    keywords: list[str] = Field(min_length=1)
    min_hits: int = Field(1, ge=1, le=100)


class Training(_Strict):
    """How the native labels of the training data become playbook categories."""

    label_map: dict[str, str]
    relabel: list[RelabelRule] = Field(default_factory=list)


class FirstResponse(_Strict):
    acknowledge: ClockDuration
    first_information: ClockDuration


class PolicyReprint(_Strict):
    target: ClockDuration
    latest_working_days: int = Field(ge=0, le=MAX_WORKING_DAYS)


class ClockCount(str, Enum):
    office_hours = "office_hours"  # only office time on working days counts
    calendar = "calendar"  # around the clock


class Clocks(_Strict):
    """Deadlines of the 2015 document, in hours or working days."""

    acknowledge: ClockDuration
    acknowledge_counts: ClockCount = ClockCount.calendar
    respond_working_days: int = Field(ge=1, le=MAX_WORKING_DAYS)
    respond_extended_working_days: int = Field(ge=1, le=MAX_WORKING_DAYS)
    rumour: FirstResponse
    emergency: FirstResponse
    policy_reprint: PolicyReprint


class OfficeHours(_Strict):
    start: ClockTime
    end: ClockTime

    @field_validator("end")
    @classmethod
    def _end_after_start(cls, end: dt.time, info: Any) -> dt.time:
        start = info.data.get("start")
        if start is not None and end <= start:
            raise ValueError("office day must end after it starts")
        return end


class QuietHours(_Strict):
    start: ClockTime
    end: ClockTime


class WorkCalendar(_Strict):
    """Holidays and make-up working days for years the library does not know."""

    holidays: list[dt.date] = Field(default_factory=list)
    workdays: list[dt.date] = Field(default_factory=list)


class PointsBonus(_Strict):
    special_or_interview: float
    special_commentary: float
    video: float
    headline_or_picture: float


class PointsDeductions(_Strict):
    """2006 §四 约束机制 deducts only for false or inaccurate information, entered by duty staff."""

    false_information: float = Field(le=0, ge=-1000)
    inaccurate_information: float = Field(le=0, ge=-1000)


class LocalPointsRule(_Strict):
    """An award or deduction the documents do not name: the office's own, labelled 本办规则 in reports."""

    label: str = Field(min_length=1, description="what the ledger and reports call it")
    points: float = Field(ge=-1000, le=1000)
    why: str = Field(min_length=1, description="the office's decision that adopted it")


class Points(_Strict):
    """The 2006 document §四 incentive scheme (1 point = 1 yuan, paid quarterly)."""

    adopted: float
    bonus: PointsBonus
    reprint_major: float
    reprint_other: float
    digest_adopted: float
    digest_leader_instruction: float
    deductions: PointsDeductions
    local_rules: dict[str, LocalPointsRule] = Field(
        default_factory=dict, description="entered by duty staff by hand; none in the default playbook")
    yuan_per_point: float = 1.0
    payout: str = "quarterly"


class MajorSite(_Strict):
    """One of 国内外影响较大的中文网站 (2006 §四) with the hosts it publishes on."""

    name: str
    hosts: list[str] = Field(min_length=1)


def _under(host: str | None, sites: Iterable[str]) -> bool:
    """Whether *host* is, or is under, one of *sites* (``www.`` aside)."""
    if not host:
        return False
    host = host.lower().strip().rstrip(".").removeprefix("www.")
    for site in sites:
        site = site.lower().removeprefix("www.")
        if host == site or host.endswith("." + site):
            return True
    return False


class SourceWeights(_Strict):
    major: float = Field(ge=0)
    other: float = Field(ge=0)
    major_sites: list[MajorSite] = Field(default_factory=list, description="国内外影响较大的中文网站")
    portal_hosts: list[str] = Field(default_factory=list,
                                    description="the provincial portal: carrying an item is adoption")
    microblog_hosts: list[str] = Field(default_factory=list,
                                       description="microblogs: a repost is engagement, not a reprint")

    @property
    def major_hosts(self) -> list[str]:
        return [host for site in self.major_sites for host in site.hosts]

    def is_major(self, host: str | None) -> bool:
        """A host is major when it is, or is under, one of the major sites' hosts."""
        return _under(host, self.major_hosts)

    def is_portal(self, host: str | None) -> bool:
        return _under(host, self.portal_hosts)

    def is_microblog(self, host: str | None) -> bool:
        return _under(host, self.microblog_hosts)

    def weight(self, host: str | None, weight_class: str | None = None) -> float:
        """Reach weight of a site (2006 §四: major 1.0, other 0.5); a source's own class wins."""
        if weight_class == "major":
            return self.major
        if weight_class == "other":
            return self.other
        return self.major if self.is_major(host) else self.other


class EscalationWhen(str, Enum):
    before_due = "before_due"
    after_due = "after_due"


class EscalationTarget(str, Enum):
    department = "department"
    department_head = "department_head"
    duty_chat = "duty_chat"
    duty_chief = "duty_chief"


class EscalationStep(_Strict):
    """One step of the escalation ladder, relative to a deadline."""

    name: str
    when: EscalationWhen
    offset: Duration
    notify: list[EscalationTarget] = Field(min_length=1)
    repeat_every: Duration | None = None
    urgent: bool = False


class RumourPolicy(_Strict):
    """Probabilities inside [verify_low, verify_high) get the verdict 需核实.

    ``source_kinds`` are the kinds of source whose posts the rumour model judges: it
    learnt from microblog posts and their reposts, and a citizen's letter to the
    mayor or a news report is not a rumour candidate in that sense.
    """

    verify_low: float = Field(ge=0, le=1)
    verify_high: float = Field(ge=0, le=1)
    source_kinds: list[str] = Field(default_factory=lambda: ["weibo"])

    @field_validator("verify_high")
    @classmethod
    def _band_ordered(cls, high: float, info: Any) -> float:
        low = info.data.get("verify_low")
        if low is not None and high < low:
            raise ValueError("verify_high must not be below verify_low")
        return high


HEAT_PARTS = frozenset({"volume", "velocity", "engagement", "reprints"})


class HeatPolicy(_Strict):
    """Heat-score weights and thresholds; the formula lives in classifiers.heat."""

    alert_threshold: float = Field(ge=0)
    major_threshold: float = Field(ge=0, description="heat of a major event (重大政务舆情): opens a 会商")
    alert_budget_per_day: int = Field(20, ge=1, le=1000, description="heat alerts a day, at the busiest replayed "
                                                                     "day, alert_threshold is calibrated for")
    major_budget_per_day: int = Field(2, ge=1, le=1000, description="major events a day, at the busiest replayed "
                                                                    "day, major_threshold is calibrated for")
    rumour_consultation_min_reach: int = Field(
        1, ge=0, description="reposts + comments a 疑似谣言 needs before it opens a 会商")
    half_life: Duration
    weights: dict[str, float] = Field(default_factory=dict)
    # each attention part saturates: cap · x / (x + half), so `half` worth of x gives half the cap
    caps: dict[str, float] = Field(default_factory=lambda: {"volume": 25.0, "velocity": 20.0,
                                                            "engagement": 15.0, "reprints": 15.0})
    halves: dict[str, float] = Field(default_factory=lambda: {"volume": 10.0, "velocity": 5.0,
                                                              "engagement": 20.0, "reprints": 5.0})
    rumour_cap: float = Field(25.0, ge=0, description="risk points of a certain rumour")
    reach_half: float = Field(10.0, gt=0, description="clarification reach that halves the rumour risk")
    velocity_window: Duration = dt.timedelta(hours=1)

    @field_validator("halves")
    @classmethod
    def _same_parts(cls, halves: dict[str, float], info: Any) -> dict[str, float]:
        caps = info.data.get("caps")
        for name, parts in (("caps", caps), ("halves", halves)):
            if parts is not None and set(parts) != HEAT_PARTS:
                raise ValueError(f"{name} must name exactly the parts {sorted(HEAT_PARTS)}, got {sorted(parts)}")
        if any(h <= 0 for h in halves.values()):
            raise ValueError("every half must be positive")
        return halves


class KeywordOverride(_Strict):
    """Route to extra departments whenever a keyword appears."""

    keywords: list[str] = Field(min_length=1)
    departments: list[str] = Field(min_length=1)
    reason: str


class SpreadPolicy(_Strict):
    """When a rumour counts as answered: clarification coverage and a quiet spell (2015 §三)."""

    coverage_threshold: float = Field(gt=0, description="clarification reach / rumour reach to close")
    quiet_period: Duration = Field(description="no new rumour items for this long to close")
    bucket: Duration = Field(description="width of one point of the spread curves")
    repost_weight: float = Field(ge=0, description="reach per repost")
    comment_weight: float = Field(ge=0, description="reach per comment")
    like_weight: float = Field(ge=0, description="reach per like")


class Issuer(_Strict):
    """A body whose policies subordinate sites must carry, known by its name and document numbers."""

    names: list[str] = Field(min_length=1, description="how titles name it, e.g. 国务院, 吉林省人民政府")
    document_prefixes: list[str] = Field(min_length=1, description="发文字号 prefixes, e.g. 国发, 吉政办发")


class PolicySector(_Strict):
    """A sector whose policies only its own departments' sites must carry (2015 §六 相关行业)."""

    keywords: list[str] = Field(min_length=1, description="title words naming the sector")
    departments: list[str] = Field(min_length=1)


class ImportantPolicy(_Strict):
    """2015 §六: which State Council / provincial items subordinate sites must reprint.

    A policy is important when a policy source publishes it and it is issued by one of
    ``issuers`` (the document number, e.g. 国发〔2026〕3号, or a title such as 国务院关于…).
    A policy for one sector or one region is chased only on that sector's departments'
    sites or that region's sites (相关行业和地区政府网站); any other goes to every site of
    ``site_kinds``.
    """

    source_names: list[str] = Field(default_factory=list, description="sources that publish policy")
    hosts: list[str] = Field(default_factory=list, description="or their host names")
    issuers: dict[str, Issuer] = Field(min_length=1)
    sectors: dict[str, PolicySector] = Field(default_factory=dict)
    site_kinds: list[UnitKind] = Field(min_length=1, description="units whose sites must reprint")


class EmergencySignals(_Strict):
    """Words that mark a report of a sudden incident (2015 §三 重大突发事件、应急事件).

    An item is an emergency when it names one of the ``classes`` that is not only
    ``supporting`` (deaths alone in a hospital complaint are not an incident) and no
    ``negations`` word (辟谣, 演练 …) says it did not happen or was a drill.
    """

    classes: dict[str, list[str]] = Field(min_length=1)
    supporting: list[str] = Field(default_factory=list, description="classes that count only beside another")
    negations: list[str] = Field(default_factory=list)

    @field_validator("supporting")
    @classmethod
    def _supporting_known(cls, supporting: list[str], info: Any) -> list[str]:
        classes = info.data.get("classes") or {}
        unknown = [c for c in supporting if c not in classes]
        if unknown:
            raise ValueError(f"unknown emergency classes {unknown}")
        if classes and set(supporting) >= set(classes):
            raise ValueError("at least one emergency class must count on its own")
        return supporting


class BurstSignals(_Strict):
    """When an event is rising (classifiers.burst: Poisson test against its own baseline)."""

    window: Duration = dt.timedelta(hours=1)
    baseline: Duration = dt.timedelta(hours=24)
    alpha: float = Field(0.01, gt=0, lt=1)
    min_count: int = Field(5, ge=1, le=1_000_000)
    min_ratio: float = Field(2.0, ge=1)
    prior_rate: float = Field(0.5, gt=0)


class Signals(_Strict):
    """What the pipeline marks on an event besides its category: emergencies, unverified claims, bursts."""

    emergency: EmergencySignals
    unverified: list[str] = Field(default_factory=list, description="words of an unverified claim: 网传, 据传 …")
    burst: BurstSignals = BurstSignals()


class Provenance(_Strict):
    """Where each clock and threshold comes from: a document and clause, or the office's own rule."""

    local: str = Field("本办规则", description="label shown for local rules in reports")
    values: dict[str, str] = Field(default_factory=dict,
                                   description="dotted playbook path → 'YEAR §clause …' or 'local: why'")

    def of(self, path: str) -> str | None:
        return self.values.get(path)

    def is_local(self, path: str) -> bool:
        return (self.values.get(path) or "").startswith("local")


class SignOff(_Strict):
    """Who signs a clarification off (审签) before it is published, and what the sign-off records."""

    department: str = Field(description="who signs for a department, e.g. 本单位办公室负责人")
    office: str = Field(description="who signs for the news office")
    confidentiality_review: bool = Field(True, description="审签 records that 保密审查 was done (2015 §十一)")


class ReportPolicy(_Strict):
    """When the weekly report goes out and how much it shows."""

    weekly_weekday: int = Field(ge=1, le=7, description="ISO weekday (1 = Monday) it is posted")
    weekly_at: ClockTime
    monthly_day: int = Field(1, ge=1, le=28, description="day of the month the 通报 for last month is posted")
    monthly_at: ClockTime = Field(dt.time(9, 0), description="local time of day it is posted")
    top_events: int = Field(ge=1, le=100)
    new_topic_min_items: int = Field(ge=1, le=100_000, description="items a new event needs to count as a hot topic")


DESK_REPLIES = (  # the answers responders give (responders/desk.py, desk_commands.py, auth.py, errors.py)
    "usage", "bad_id", "not_a_command", "unknown_command", "too_long", "unknown_button", "not_done", "apology",
    "prompt", "duty_only", "reviewers_only", "editors_only", "not_a_member", "other_department",
    "invalid_transition", "already_done",
    "unknown_department", "case_done", "note", "case_to_duty", "reassigned", "reassigned_note",
    "reassign_needs_reason", "reassign_requested", "confirmed", "ignored_before", "ignored", "ignored_note",
    "ignore_reason", "assigned", "assigned_note", "assign_reason", "consult_reason", "consulted_before", "consulted",
    "approved_before", "approved", "rejected", "digested_before", "digested", "instructed", "line_recorded",
    "not_a_liaison", "liaison_of_many", "real_name", "submitted", "adopted_before", "adopted", "adopted_note",
    "declined_to_unit", "declined",
)
CASE_REPLIES: tuple[str, ...] = (  # cases, clocks, clarifications, points, routing (responders core modules)
    "heat_part",
    "no_such", "not_a_link", "duration", "handler_failed", "bad_period", "no_such_week", "consult_by_duty",
    "line_needs_text", "no_consultation", "routed_lead", "routed_co", "routed_local", "routed_parent",
    "routed_keyword", "consult_emergency", "consult_rumour", "consult_heat", "policy_reprint", "portal_replied",
    "portal_answered_by", "not_in_playbook", "unknown_action", "fill_in", "respond_needs_text", "already_there",
    "reassigned_from", "target_has_case", "clarification_needs_text", "case_of_other", "many_departments",
    "only_submitted", "not_approved", "bad_publish_url", "answered_by_lead", "reject_needs_reason",
    "submission_notice", "not_registered", "local_rule_label", "not_a_deduction", "deduction_needs_reason",
    "deduction_needs_evidence", "deduction_detail", "unknown_local_rule", "local_rule_needs_reason", "not_a_bonus",
    "adoption_detail", "reprint_detail", "unknown_bonus", "submission_needs_title", "submission_needs_name",
    "submission_too_long", "submission_bad_url", "submission_state", "decline_needs_reason", "undo_needs_reason",
    "portal_actor", "digest_needs_one", "instruction_needs_text", "digest_detail", "digest_title",
    "digest_event_summary",
)
REPORT_REPLIES: tuple[str, ...] = (  # the reports and the chat backends (responders/reports, responders/notifiers)
)
WEB_REPLIES: tuple[str, ...] = (  # the web desk's flashes, refusals and labels (yuqing/webdesk)
    "web_sign_in_first", "web_forbidden", "web_read_only", "web_stale_form", "web_sign_in_failed",
    "web_sign_in_wait", "web_own_units_only", "web_no_such_case", "web_case_of_other", "web_event_not_yours",
    "web_missing", "web_duty_acts", "web_reviewers_sign", "web_editors_act", "web_curve_title",
    "web_event_sparkline", "web_no_report", "web_bad_period", "web_no_such_unit", "web_no_sources_file",
    "web_sources_duty_only", "web_sources_file_error", "web_source_refused", "web_source_timeout",
    "web_source_fetched", "web_source_bad_kind", "web_source_not_added", "web_source_added", "web_source_switched",
)
REQUIRED_REPLIES = DESK_REPLIES + CASE_REPLIES + REPORT_REPLIES + WEB_REPLIES
CITED_SECTIONS = (
    "clocks", "points", "heat.alert_threshold", "heat.major_threshold", "heat.rumour_consultation_min_reach",
)


def _cited_paths(data: dict[str, Any]) -> set[str]:
    """Dotted paths of the values that must say where they come from: every clock and alert threshold."""
    out: set[str] = set()

    def walk(node: Any, path: str) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                walk(value, f"{path}.{key}")
        else:
            out.add(path)

    for section in CITED_SECTIONS:
        node: Any = data
        for part in section.split("."):
            node = node.get(part) if isinstance(node, dict) else None
        if node is not None:
            walk(node, section)
    return out


class Playbook(_Strict):
    name: str
    timezone: str = "Asia/Shanghai"
    office_hours: OfficeHours
    quiet_hours: QuietHours
    calendar: WorkCalendar = WorkCalendar()
    departments: dict[str, Department] = Field(min_length=1)
    news_office: str = Field(description="the department that runs the duty desk")
    categories: dict[str, Category] = Field(min_length=1)
    fallback_category: str
    training: Training
    clocks: Clocks
    points: Points
    source_weights: SourceWeights
    escalation: list[EscalationStep] = Field(min_length=1)
    rumour: RumourPolicy
    heat: HeatPolicy
    keyword_overrides: list[KeywordOverride] = Field(default_factory=list)
    stopwords: list[str] = Field(default_factory=list)
    tokenizer: TokenizerName = Field(
        "rjieba", description="word segmenter: rjieba (jieba's algorithm and dictionary in Rust) or jieba"
    )
    templates: dict[str, str] = Field(default_factory=dict)
    replies: dict[str, str] = Field(default_factory=dict, description="what the bot answers a person")
    spread: SpreadPolicy | None = None
    important_policy: ImportantPolicy | None = None
    reports: ReportPolicy | None = None
    signals: Signals | None = None
    provenance: Provenance = Provenance()
    sign_off: SignOff | None = None

    @field_validator("templates", "replies")
    @classmethod
    def _templates_compile(cls, templates: dict[str, str]) -> dict[str, str]:
        """A broken message template is a playbook error at load time, not a crash mid-alert."""
        import jinja2

        env = jinja2.Environment()
        for name, source in templates.items():
            try:
                env.parse(source)
            except jinja2.TemplateSyntaxError as exc:
                raise ValueError(f"template {name!r} line {exc.lineno}: {exc.message}") from None
        return templates

    def cross_reference_problems(self) -> list[tuple[tuple[str | int, ...], str]]:
        """Every name that points at a department or category must exist."""
        problems: list[tuple[tuple[str | int, ...], str]] = []

        def need_department(path: tuple[str | int, ...], name: str) -> None:
            if name not in self.departments:
                problems.append((path, f"unknown department {name!r}"))

        def need_category(path: tuple[str | int, ...], name: str) -> None:
            if name not in self.categories:
                problems.append((path, f"unknown category {name!r}"))

        problems.extend((("replies",), f"missing reply template {name!r}") for name in REQUIRED_REPLIES
                        if name not in self.replies)
        need_department(("news_office",), self.news_office)
        need_category(("fallback_category",), self.fallback_category)
        for key, dept in self.departments.items():
            if dept.parent is not None:
                need_department(("departments", key, "parent"), dept.parent)
        for key, cat in self.categories.items():
            need_department(("categories", key, "lead"), cat.lead)
            for i, co in enumerate(cat.co):
                need_department(("categories", key, "co", i), co)
        for label, cat_name in self.training.label_map.items():
            need_category(("training", "label_map", label), cat_name)
        for i, rule in enumerate(self.training.relabel):
            need_category(("training", "relabel", i, "category"), rule.category)
        for i, override in enumerate(self.keyword_overrides):
            for j, dept_name in enumerate(override.departments):
                need_department(("keyword_overrides", i, "departments", j), dept_name)
        if self.important_policy is not None:
            for name, sector in self.important_policy.sectors.items():
                for j, dept_name in enumerate(sector.departments):
                    need_department(("important_policy", "sectors", name, "departments", j), dept_name)
        problems.extend(self._provenance_problems())
        return problems

    def _provenance_problems(self) -> list[tuple[tuple[str | int, ...], str]]:
        """Every provenance entry names a real value, and every clock and threshold has one."""
        problems: list[tuple[tuple[str | int, ...], str]] = []
        data = self.model_dump(mode="json")
        for path in self.provenance.values:
            node: Any = data
            for part in path.split("."):
                if not isinstance(node, dict) or part not in node:
                    problems.append((("provenance", "values", path), "names no value of this playbook"))
                    break
                node = node[part]
        if not self.provenance.values:
            return problems
        for path in sorted(_cited_paths(data)):
            if not any(path == p or path.startswith(p + ".") for p in self.provenance.values):
                problems.append(
                    (
                        ("provenance", "values"),
                        f"{path} has no source: cite the document and clause, or mark it 'local: …'",
                    )
                )
        return problems

    # -- small conveniences used by every stage ---------------------------

    def source_of(self, path: str) -> str:
        """Where the value at *path* comes from, for `playbook show` and reports (本办规则 for local rules)."""
        cited = next(
            (
                v
                for p, v in sorted(self.provenance.values.items(), key=lambda kv: -len(kv[0]))
                if path == p or path.startswith(p + ".")
            ),
            None,
        )
        if cited is None:
            return "未注明出处"
        if cited.startswith("local"):
            return f"{self.provenance.local}{cited[5:].replace(':', '：', 1)}"
        return cited

    def place_index(self) -> dict[str, str]:
        """Map each routing place name to its department, longest names first."""
        pairs = [(place, key) for key, dept in self.departments.items() for place in dept.places]
        pairs.sort(key=lambda pair: -len(pair[0]))
        return dict(pairs)

    def user_words(self) -> list[str]:
        """Words a tokenizer should keep whole: departments, places, keywords."""
        words: set[str] = set(self.departments)
        for dept in self.departments.values():
            words.update(dept.places)
            if dept.full_name:
                words.add(dept.full_name)
        for cat in self.categories.values():
            words.update(cat.keywords)
        return sorted(words)
