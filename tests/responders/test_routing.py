from __future__ import annotations

from playbooks.schema import Playbook
from responders.routing import (
    RUMOUR_LIKELY,
    RUMOUR_UNLIKELY,
    RUMOUR_VERIFY,
    EventFacts,
    Profile,
    Role,
    find_places,
    route,
    rumour_verdict,
)


def roles(routing) -> dict[str, Role]:
    return {i.department: i.role for i in routing.intents}


def test_category_routes_lead_then_co(playbook: Playbook) -> None:
    r = route(EventFacts(title="学校补课收费", category="教育", heat=10), playbook)
    assert r.departments == ["省教育厅", "省财政厅", "省人事厅"]
    assert roles(r)["省教育厅"] is Role.lead and roles(r)["省财政厅"] is Role.co
    assert all(i.reason for i in r.intents)
    assert r.profile is Profile.ordinary and not r.consult


def test_unknown_category_falls_back(playbook: Playbook) -> None:
    r = route(EventFacts(title="一般咨询", category="不存在"), playbook)
    assert r.category == playbook.fallback_category
    assert r.departments[0] == playbook.categories[playbook.fallback_category].lead


def test_city_named_in_text_brings_local_government(playbook: Playbook) -> None:
    r = route(EventFacts(title="长春市公交线路调整", category="交通"), playbook)
    assert roles(r)["长春市政府"] is Role.local


def test_county_brings_its_parent_city(playbook: Playbook) -> None:
    r = route(EventFacts(title="投诉", texts=("延吉市一小区停暖",), category="市政"), playbook)
    assert roles(r)["延吉市"] is Role.local
    assert roles(r)["延边州政府"] is Role.local
    parent = next(i for i in r.intents if i.department == "延边州政府")
    assert "延吉市" in parent.reason


def test_places_do_not_match_twice_inside_a_longer_name(playbook: Playbook) -> None:
    assert find_places("长春市南关区", playbook) == [("长春市", "长春市政府")]
    assert find_places("通化县快大茂镇", playbook) == [("通化县", "通化县")]


def test_places_tagged_by_the_monitor_count_too(playbook: Playbook) -> None:
    r = route(EventFacts(title="无地名", category="环保", places=("松原",)), playbook)
    assert "松原市政府" in r.departments


def test_keyword_override_adds_department_with_reason(playbook: Playbook) -> None:
    r = route(EventFacts(title="网传某地化工厂爆炸", category="环保"), playbook)
    assert roles(r)["省公安厅"] is Role.override
    assert roles(r)["省政府应急办"] is Role.override
    police = next(i for i in r.intents if i.department == "省公安厅")
    assert "网传" in police.reason


def test_department_listed_once_under_first_reason(playbook: Playbook) -> None:
    # 省食品药品监督管理局 is a co department of 医疗 and the food-safety override
    r = route(EventFacts(title="医院食堂食物中毒", category="医疗"), playbook)
    assert r.departments.count("省食品药品监督管理局") == 1
    assert roles(r)["省食品药品监督管理局"] is Role.co


def test_consultation_by_heat(playbook: Playbook) -> None:
    threshold = playbook.heat.major_threshold
    assert not route(EventFacts(title="收费", category="教育", heat=threshold - 1), playbook).consult
    r = route(EventFacts(title="收费", category="教育", heat=threshold), playbook)
    assert r.consult and "热度" in r.consult_reasons[0]


def test_number_of_departments_alone_opens_no_consultation(playbook: Playbook) -> None:
    # 2014 §七 reserves 会商 for 重大政务舆情: lead + county + city is an ordinary county message
    r = route(EventFacts(title="农安县学校收费", category="教育", heat=1), playbook)
    assert {"农安县", "长春市政府", "省教育厅"} <= set(r.departments)
    assert not r.consult and r.consult_reasons == ()


def test_emergency_opens_a_consultation(playbook: Playbook) -> None:
    r = route(EventFacts(title="农安县化工厂爆炸", category="环保", heat=1, is_emergency=True,
                         signals=("emergency",)), playbook)
    assert r.consult and any("突发" in x for x in r.consult_reasons) and r.profile is Profile.emergency


def test_consultation_and_clock_profile_for_rumours(playbook: Playbook) -> None:
    quiet = route(EventFacts(title="学校传言", category="教育", rumour_probability=0.9), playbook)
    assert quiet.rumour_verdict == RUMOUR_LIKELY and quiet.profile is Profile.rumour
    assert not quiet.consult  # not spreading yet
    r = route(EventFacts(title="学校传言", category="教育", rumour_probability=0.9, reach=30), playbook)
    assert r.consult and any("疑似谣言" in x for x in r.consult_reasons)


def test_unverified_claim_is_at_least_to_verify(playbook: Playbook) -> None:
    r = route(EventFacts(title="网传学校停课", category="教育", signals=("unverified",)), playbook)
    assert r.rumour_verdict == RUMOUR_VERIFY and r.profile is Profile.rumour
    low = route(EventFacts(title="网传学校停课", category="教育", rumour_probability=0.01,
                           signals=("unverified",)), playbook)
    assert low.rumour_verdict == RUMOUR_VERIFY


def test_rumour_verdict_band(playbook: Playbook) -> None:
    assert rumour_verdict(None, playbook) is None
    assert rumour_verdict(playbook.rumour.verify_low - 0.01, playbook) == RUMOUR_UNLIKELY
    assert rumour_verdict(playbook.rumour.verify_low, playbook) == RUMOUR_VERIFY
    assert rumour_verdict(playbook.rumour.verify_high, playbook) == RUMOUR_LIKELY


def test_emergency_and_policy_reprint_profiles(playbook: Playbook) -> None:
    assert (
        route(EventFacts(title="x", is_emergency=True, rumour_probability=0.9), playbook).profile is Profile.emergency
    )
    assert route(EventFacts(title="x", signals=("policy",)), playbook).profile is Profile.policy_reprint
