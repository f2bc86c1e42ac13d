"""Who must answer an event, and whether it needs a joint consultation (会商). Pure.

Routing takes the facts of an event and the playbook and returns intents with
their reasons; it reads no database and no clock, so the same facts always
route the same way and a test can state the whole policy.

Rules, in order (a department is listed once, under its first reason):

1. the category's lead department, then its co-responsible departments
   (新闻发言人联席会议制度: the lead answers, co departments join the reply);
2. the local government of every city or county named in the text or tagged
   on the event (department ``places``). A county also brings its parent city
   or prefecture: the 2006 reporting scheme makes the city answerable for its
   counties, and a county office alone rarely speaks for a city-wide issue;
3. ``keyword_overrides`` (e.g. 网传 → 省公安厅 to check a rumour).

A joint consultation (会商) is reserved for 重大政务舆情 (2014 §七): an emergency,
a rumour judged 疑似谣言 that is spreading (``heat.rumour_consultation_min_reach``
reposts and comments), or heat at or above ``heat.major_threshold``. The number
of departments alone opens none: every county message involves three.

The profile (which clocks apply) follows the event's signals: an emergency gets
``clocks.emergency``; a 疑似谣言 or an unverified claim (网传 …) ``clocks.rumour``;
an important policy ``clocks.policy_reprint``; anything else the ordinary clocks.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import Enum

from classifiers.signals import EMERGENCY, POLICY, UNVERIFIED, find_places
from classifiers.verdicts import VERDICT_CLEAR, VERDICT_RUMOUR, VERDICT_VERIFY, event_verdict
from playbooks.schema import Playbook
from responders.messages import Templates

RUMOUR_LIKELY = VERDICT_RUMOUR
RUMOUR_VERIFY = VERDICT_VERIFY
RUMOUR_UNLIKELY = VERDICT_CLEAR
__all__ = ["RUMOUR_LIKELY", "RUMOUR_VERIFY", "RUMOUR_UNLIKELY", "find_places", "route", "rumour_verdict"]


class Role(str, Enum):
    lead = "lead"
    co = "co"
    local = "local"
    override = "override"
    manual = "manual"  # added by duty staff (指派) or by an approved 转办


class Profile(str, Enum):
    """Which clock applies (playbook ``clocks``): ordinary messages or 第一时间 cases."""

    ordinary = "ordinary"
    rumour = "rumour"
    emergency = "emergency"
    policy_reprint = "policy_reprint"


@dataclass(frozen=True)
class EventFacts:
    """What routing needs to know about an event; built by the shell from the store."""

    title: str
    texts: tuple[str, ...] = ()
    category: str | None = None
    heat: float = 0.0
    rumour_probability: float | None = None
    is_emergency: bool = False
    places: tuple[str, ...] = ()
    signals: tuple[str, ...] = ()  # kinds from classifiers.signals: emergency, unverified, burst, policy
    reach: int = 0  # reposts + comments of the event's items: is a rumour spreading?

    @property
    def text(self) -> str:
        return "\n".join((self.title, *self.texts))


@dataclass(frozen=True)
class RouteIntent:
    department: str
    role: Role
    reason: str


@dataclass(frozen=True)
class Routing:
    intents: tuple[RouteIntent, ...]
    category: str
    profile: Profile
    rumour_verdict: str | None
    consult: bool
    consult_reasons: tuple[str, ...] = field(default=())

    @property
    def departments(self) -> list[str]:
        return [i.department for i in self.intents]


def rumour_verdict(probability: float | None, playbook: Playbook, signals: Iterable[str] = ()) -> str | None:
    """The playbook's three-way verdict (None when unscored); an unverified claim is at least 需核实."""
    return event_verdict(probability, playbook.rumour, unverified_claim=UNVERIFIED in set(signals))


def _profile(facts: EventFacts, verdict: str | None) -> Profile:
    signals = set(facts.signals)
    if facts.is_emergency or EMERGENCY in signals:
        return Profile.emergency
    if verdict == RUMOUR_LIKELY or UNVERIFIED in signals:
        return Profile.rumour
    if POLICY in signals:
        return Profile.policy_reprint
    return Profile.ordinary


class _Collector:
    def __init__(self) -> None:
        self.intents: list[RouteIntent] = []

    def add(self, department: str, role: Role, reason: str) -> None:
        if all(i.department != department for i in self.intents):
            self.intents.append(RouteIntent(department, role, reason))


def _place_intents(out: _Collector, places: Iterable[tuple[str, str]], playbook: Playbook) -> None:
    said = Templates.of(playbook).plain
    for place, key in places:
        dept = playbook.departments[key]
        out.add(key, Role.local, said("routed_local", place=place))
        if dept.parent is not None:
            out.add(dept.parent, Role.local, said("routed_parent", place=place, parent=dept.parent))


def route(facts: EventFacts, playbook: Playbook) -> Routing:
    """Departments that must answer *facts*, each with the reason, and the 会商 decision."""
    category = facts.category if facts.category in playbook.categories else playbook.fallback_category
    rule = playbook.categories[category]
    said = Templates.of(playbook).plain
    out = _Collector()
    out.add(rule.lead, Role.lead, said("routed_lead", category=category))
    for co in rule.co:
        out.add(co, Role.co, said("routed_co", category=category))
    text = facts.text
    tagged = [(p, playbook.place_index()[p]) for p in facts.places if p in playbook.place_index()]
    _place_intents(out, [*find_places(text, playbook), *tagged], playbook)
    for override in playbook.keyword_overrides:
        hits = [k for k in override.keywords if k in text]
        if hits:
            for dept in override.departments:
                out.add(dept, Role.override, said("routed_keyword", reason=override.reason, hits=hits))
    verdict = rumour_verdict(facts.rumour_probability, playbook, facts.signals)
    reasons = consult_reasons(facts, verdict, playbook)
    return Routing(
        intents=tuple(out.intents),
        category=category,
        profile=_profile(facts, verdict),
        rumour_verdict=verdict,
        consult=bool(reasons),
        consult_reasons=tuple(reasons),
    )


def consult_reasons(facts: EventFacts, verdict: str | None, playbook: Playbook) -> list[str]:
    """Why this event is a 重大政务舆情 that needs a 会商 (2014 §七); empty when it is not."""
    policy = playbook.heat
    said = Templates.of(playbook).plain
    reasons = []
    if facts.is_emergency or EMERGENCY in facts.signals:
        reasons.append(said("consult_emergency"))
    if verdict == RUMOUR_LIKELY and facts.reach >= policy.rumour_consultation_min_reach:
        reasons.append(said("consult_rumour", reach=facts.reach))
    if facts.heat >= policy.major_threshold:
        reasons.append(said("consult_heat", heat=facts.heat, threshold=policy.major_threshold))
    return reasons
