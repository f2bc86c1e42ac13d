"""Does one item carry another? Links, near-duplicates confirmed by overlap, and refusals."""

from __future__ import annotations

from monitor.carrying import Text, carries
from monitor.config import DedupeSection

ORIGINAL = ("近日网传长春市自来水被化工污染、全市停止供水三天的消息不实。经水务集团和环保部门联合检测，"
            "全市出厂水和管网水各项指标均符合国家生活饮用水卫生标准，供水正常，请市民不信谣、不传谣。")


def test_light_edit_is_a_near_duplicate() -> None:
    edited = ORIGINAL.replace("近日", "").replace("请市民不信谣、不传谣。", "")
    found = carries(Text("http://a.example/1", ORIGINAL), Text("http://b.example/9", edited), DedupeSection())
    assert found is not None and found.method == "near_duplicate"
    assert found.similarity >= DedupeSection().min_jaccard


def test_a_different_story_on_the_same_topic_is_not_a_reprint() -> None:
    other = ("长春市水务集团发布通知，因管网改造，南关区部分小区明日停水八小时，请居民提前储水，"
             "恢复供水后如水质浑浊请放水几分钟，如有问题可拨打服务热线反映。")
    assert carries(Text("http://a.example/1", ORIGINAL), Text("http://b.example/9", other), DedupeSection()) is None


def test_a_link_to_the_original_counts() -> None:
    candidate = Text("http://b.example/9", "官方说明见 https://www.jl.gov.cn/notice/42 ，请以官方发布为准。")
    found = carries(Text("http://jl.gov.cn/notice/42", ORIGINAL), candidate, DedupeSection())
    assert found is not None and found.method == "link"


def test_the_same_page_is_not_its_own_reprint() -> None:
    assert carries(Text("http://a.example/1", ORIGINAL), Text("http://a.example/1/", ORIGINAL), DedupeSection()) is None


def test_a_reprint_under_a_rewritten_headline_is_still_a_candidate() -> None:
    """Reprinting sites rewrite headlines: signatures are taken on the body."""
    from classifiers.signatures import distance, match_basis, simhash

    policy = DedupeSection()
    original = match_basis("关于“长春市自来水被污染不能饮用”网传信息的说明", ORIGINAL, policy.min_chars)
    reprint = match_basis("长春回应传言：检测合格 供水正常", ORIGINAL, policy.min_chars)
    assert distance(simhash(original), simhash(reprint)) <= policy.near_duplicate_max_distance
    assert match_basis("标题", "短", policy.min_chars) == "标题\n短"  # a short body keeps its title
