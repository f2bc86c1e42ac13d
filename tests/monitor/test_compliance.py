"""Policy-reprint compliance (2015 §六): on time within 1 hour, late, pending, missing after 1 working day."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.orm import Session

from monitor.compliance import ReprintStatus, check_policy, deadlines, important_policies, is_important_policy
from monitor.store.database import make_engine, migrate, session_factory, session_scope, sync_departments
from monitor.store.models import Item, Source

CST = ZoneInfo("Asia/Shanghai")
PUBLISHED = dt.datetime(2026, 11, 20, 10, 0, tzinfo=CST)  # a Friday
POLICY_TITLE = "国务院关于进一步优化营商环境的实施意见"
POLICY_TEXT = ("为深入贯彻落实党中央决策部署，进一步优化营商环境，激发市场主体活力，现提出如下意见："
               "一、持续深化简政放权；二、加强事中事后监管；三、优化政务服务。")


@pytest.fixture
def session(database_url: str, playbook) -> Iterator[Session]:
    engine = make_engine(database_url)
    migrate(engine)
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


def test_policy_rules_need_source_and_title(playbook):
    rules = playbook.important_policy
    assert is_important_policy(POLICY_TITLE, "gov-cn-policy", "https://www.gov.cn/zhengce/1.htm", rules)
    assert is_important_policy("关于做好冬季供暖工作的通知", "x", "https://www.jl.gov.cn/a", rules)
    assert not is_important_policy(POLICY_TITLE, "some-blog", "https://blog.example.cn/1", rules)
    assert not is_important_policy("今日天气晴", "gov-cn-policy", None, rules)


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
    assert statuses["cc-gov"].status is ReprintStatus.on_time
    assert statuses["sp-gov"].status is ReprintStatus.on_time and statuses["sp-gov"].method == "link"
    assert statuses["jl-city"].status is ReprintStatus.late and not statuses["jl-city"].breached
    assert statuses["none"].status is ReprintStatus.pending and not statuses["none"].breached
    tuesday = dt.datetime(2026, 11, 24, 9, 0, tzinfo=CST)
    later = {s.source_name: s for s in check_policy(session, policy, playbook, tuesday)}
    assert later["none"].status is ReprintStatus.missing and later["none"].breached
    assert [p.id for p in important_policies(session, playbook, PUBLISHED - dt.timedelta(days=1), tuesday)] == [policy.id]
