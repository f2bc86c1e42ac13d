"""Policy-reprint compliance (2015 §六): 力争一个小时内 (the aim), 最迟不得滞后一个工作日 (the deadline),
important policy by issuer and 发文字号, sector and regional policies chased on the concerned sites only."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.orm import Session

from monitor.policy_carriage import ReprintStatus, check_policy, deadlines, important_policies, is_important_policy
from store.database import make_engine, session_factory, session_scope, sync_departments
from store.models import Item, Source

CST = ZoneInfo("Asia/Shanghai")
PUBLISHED = dt.datetime(2026, 11, 20, 10, 0, tzinfo=CST)  # a Friday
POLICY_TITLE = "国务院关于进一步优化营商环境的实施意见"  # issuer named in the title: 国务院关于…
POLICY_TEXT = ("为深入贯彻落实党中央决策部署，进一步优化营商环境，激发市场主体活力，现提出如下意见："
               "一、持续深化简政放权；二、加强事中事后监管；三、优化政务服务。")


@pytest.fixture
def session(store_url: str, playbook) -> Iterator[Session]:
    engine = make_engine(store_url)
    with session_scope(session_factory(engine)) as s:
        sync_departments(s, playbook)
        yield s
    engine.dispose()


def _source(s: Session, name: str, host: str, dept: str | None) -> Source:
    row = Source(name=name, kind="portal", url=f"https://{host}/", host=host, department_key=dept)
    s.add(row)
    s.flush()
    return row


def _item(s: Session, src: Source, title: str, text: str, when: dt.datetime, n: int) -> Item:
    row = Item(source_id=src.id, external_id=f"p{n}", url=f"https://{src.host}/c/{n}.html", title=title, text=text,
               content_hash=f"c{n}", published_at=when, fetched_at=when)
    s.add(row)
    s.flush()
    return row


def test_policy_is_known_by_issuer_and_document_number_not_by_a_title_word(playbook):
    rules = playbook.important_policy
    assert is_important_policy(POLICY_TITLE, "", "gov-cn-policy", "https://www.gov.cn/zhengce/1.htm", rules)
    assert is_important_policy("关于做好冬季供暖工作的通知", "吉政办发〔2026〕12号\n各市（州）人民政府：……", "x",
                               "https://www.jl.gov.cn/a", rules)
    assert is_important_policy("关于印发稳就业若干措施的通知", "国办发[2026]7号", "gov-cn-policy", None, rules)
    # a title word alone is not a policy: 通知/办法/决定 appear in every notice
    assert not is_important_policy("关于召开运动会的通知", "各单位：……", "jl-gov-policy", None, rules)
    # a city's document number is not the province's (吉市政办发 is not 吉政办发)
    assert not is_important_policy("关于做好供暖工作的通知", "吉市政办发〔2026〕3号", "jl-gov-policy", None, rules)
    assert not is_important_policy(POLICY_TITLE, "", "some-blog", "https://blog.example.cn/1", rules)
    assert not is_important_policy("今日天气晴", "", "gov-cn-policy", None, rules)


def test_deadlines_one_hour_and_one_working_day(playbook):
    due = deadlines(PUBLISHED, playbook)
    assert due.target == PUBLISHED + dt.timedelta(hours=1)
    assert due.latest.astimezone(CST).date() == dt.date(2026, 11, 23)  # Monday, the next working day


def test_each_site_gets_its_status(session, playbook):
    gov = _source(session, "gov-cn-policy", "www.gov.cn", None)
    policy = _item(session, gov, POLICY_TITLE, POLICY_TEXT, PUBLISHED, 1)
    fast = _source(session, "cc-gov", "www.changchun.gov.cn", "长春市政府")
    slow = _source(session, "jl-city", "www.jlcity.gov.cn", "吉林市政府")
    linker = _source(session, "sp-gov", "www.siping.gov.cn", "四平市政府")
    _source(session, "none", "www.liaoyuan.gov.cn", "辽源市政府")
    _source(session, "direct-unit", "www.jlxf.gov.cn", "省信访局")  # 附件3 unit: not a subordinate site here
    _item(session, fast, POLICY_TITLE, POLICY_TEXT, PUBLISHED + dt.timedelta(minutes=40), 2)
    _item(session, slow, "转载：" + POLICY_TITLE, POLICY_TEXT, PUBLISHED + dt.timedelta(hours=5), 3)
    _item(session, linker, "重要政策", f"详见 {policy.url}", PUBLISHED + dt.timedelta(minutes=30), 4)
    monday_noon = dt.datetime(2026, 11, 23, 12, 0, tzinfo=CST)
    statuses = {s.source_name: s for s in check_policy(session, policy, playbook, monday_noon)}
    assert set(statuses) == {"cc-gov", "jl-city", "sp-gov", "none"}
    assert statuses["cc-gov"].status is ReprintStatus.within_hour
    assert statuses["sp-gov"].status is ReprintStatus.within_hour and statuses["sp-gov"].method == "link"
    # +5 h on a working day: after the 1-hour aim, within the 1-working-day deadline
    assert statuses["jl-city"].status is ReprintStatus.within_deadline and not statuses["jl-city"].breached
    assert statuses["none"].status is ReprintStatus.pending and not statuses["none"].breached
    tuesday = dt.datetime(2026, 11, 24, 9, 0, tzinfo=CST)
    later = {s.source_name: s for s in check_policy(session, policy, playbook, tuesday)}
    assert later["none"].status is ReprintStatus.missing and later["none"].breached
    assert [p.id for p in important_policies(session, playbook, PUBLISHED - dt.timedelta(days=1), tuesday)] == [
        policy.id
    ]


def test_reprint_after_the_deadline_is_late(session, playbook):
    gov = _source(session, "gov-cn-policy", "www.gov.cn", None)
    policy = _item(session, gov, POLICY_TITLE, POLICY_TEXT, PUBLISHED, 1)
    slow = _source(session, "jl-city", "www.jlcity.gov.cn", "吉林市政府")
    _item(session, slow, POLICY_TITLE, POLICY_TEXT, dt.datetime(2026, 11, 24, 9, 0, tzinfo=CST), 2)
    status = check_policy(session, policy, playbook, dt.datetime(2026, 11, 25, 9, 0, tzinfo=CST))[0]
    assert status.status is ReprintStatus.late and status.breached


def test_sector_and_regional_policies_chase_only_the_concerned_sites(session, playbook):
    gov = _source(session, "jl-gov-policy", "www.jl.gov.cn", None)
    _source(session, "edu", "www.jledu.gov.cn", "省教育厅")
    _source(session, "traffic", "www.jljt.gov.cn", "省交通厅")
    _source(session, "cc-gov", "www.changchun.gov.cn", "长春市政府")
    _source(session, "nongan", "www.nongan.gov.cn", "农安县")
    _source(session, "jl-city", "www.jlcity.gov.cn", "吉林市政府")
    schools = _item(session, gov, "关于做好2026年普通高校招生工作的通知", "吉政办发〔2026〕20号 ……", PUBLISHED, 1)
    assert {s.source_name for s in check_policy(session, schools, playbook, PUBLISHED)} == {"edu"}
    region = _item(session, gov, "关于支持长春市建设现代化都市圈的意见", "吉政发〔2026〕4号 ……", PUBLISHED, 2)
    assert {s.source_name for s in check_policy(session, region, playbook, PUBLISHED)} == {"cc-gov", "nongan"}
    general = _item(session, gov, "吉林省人民政府关于进一步优化营商环境的意见", "……", PUBLISHED, 3)
    assert len(check_policy(session, general, playbook, PUBLISHED)) == 5


def test_policies_are_found_by_source_name_item_address_or_source_address(session, playbook):
    """The store narrows to policy sources and policy hosts before the rules run: each way in still finds
    its policy (a source named as one, an item on a policy host from any source, an item with no address
    from a source on one, a host in capitals), and a policy-like text elsewhere is not one."""
    named = _source(session, "gov-cn-policy", "mirror.example.cn", None)
    blog = _source(session, "some-blog", "blog.example.cn", None)
    on_host = _source(session, "jl-portal", "WWW.JL.GOV.CN", None)
    by_name = _item(session, named, POLICY_TITLE, POLICY_TEXT, PUBLISHED, 1)
    by_item_url = _item(session, blog, POLICY_TITLE, POLICY_TEXT, PUBLISHED, 2)
    by_item_url.url = "https://Www.Gov.Cn/zhengce/2.htm"
    by_source_url = _item(session, on_host, POLICY_TITLE, POLICY_TEXT, PUBLISHED, 3)
    by_source_url.url = ""
    _item(session, blog, POLICY_TITLE, POLICY_TEXT, PUBLISHED, 4)  # a blog quoting the policy
    _item(session, named, "今日天气晴", "多云转晴", PUBLISHED, 5)  # a policy source's non-policy item
    session.flush()
    found = important_policies(session, playbook, PUBLISHED - dt.timedelta(days=1), PUBLISHED + dt.timedelta(days=1))
    assert [p.id for p in found] == [by_name.id, by_item_url.id, by_source_url.id]
