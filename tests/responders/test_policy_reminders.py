"""Policy-reprint reminders and deductions: one per step, never repeated; timeliness counts per unit."""

from __future__ import annotations

import datetime as dt

from responders_support import item, local, source
from sqlalchemy import select

from responders import policy_reminders
from store.models import OutboxMessage, PointsEntry

PUBLISHED = local(2026, 11, 20, 10, 0)
TITLE = "国务院关于进一步优化营商环境的实施意见"
TEXT = "为深入贯彻落实党中央决策部署，进一步优化营商环境，激发市场主体活力，现提出如下意见：持续深化简政放权。"


def _setup(session):
    gov = source(session, "www.gov.cn", name="gov-cn-policy")
    item(session, gov, TEXT, PUBLISHED, title=TITLE)
    source(session, "www.changchun.gov.cn", department="长春市政府", name="cc-gov")


def test_reminder_then_breach_then_nothing_more(session, playbook):
    _setup(session)
    chats = {"长春市政府": "-200"}
    kwargs = dict(since=PUBLISHED - dt.timedelta(days=1), duty_chat_id="-100", department_chats=chats)
    assert policy_reminders.remind(session, playbook, PUBLISHED + dt.timedelta(minutes=30), **kwargs) == []
    first = policy_reminders.remind(session, playbook, PUBLISHED + dt.timedelta(hours=2), **kwargs)
    assert [(a.chat_id, a.kind) for a in first] == [("-200", "policy_reprint")] and "cc-gov" in first[0].text
    assert policy_reminders.remind(session, playbook, PUBLISHED + dt.timedelta(hours=3), **kwargs) == []
    tuesday = local(2026, 11, 24, 9, 0)
    breach = policy_reminders.remind(session, playbook, tuesday, **kwargs)
    assert sorted(a.chat_id for a in breach) == ["-100", "-200"] and "逾期" in breach[0].text
    assert policy_reminders.remind(session, playbook, tuesday + dt.timedelta(hours=1), **kwargs) == []
    # a breach is reported to the duty chat, never turned into points (2006 §四 deducts only for false information)
    assert list(session.scalars(select(PointsEntry))) == []
    assert len(list(session.scalars(select(OutboxMessage)))) == 3


def test_timeliness_counts_statuses(session, playbook):
    from monitor.policy_carriage import check_all

    _setup(session)
    statuses = check_all(session, playbook, PUBLISHED - dt.timedelta(days=1), local(2026, 11, 24, 9, 0))
    table = policy_reminders.timeliness(statuses)
    assert (table["长春市政府"].missing, table["长春市政府"].rate) == (1, 0.0)
