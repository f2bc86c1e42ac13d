from __future__ import annotations

from sqlalchemy import select

from monitor.health import HealthFinding
from responders.health_alerts import queue_source_health
from store.database import session_scope
from store.models import OutboxMessage


def finding(problem: str, source: str = "长春论坛") -> HealthFinding:
    return HealthFinding(source=source, url="https://bbs.example.cn/<x>", problem=problem,  # type: ignore[arg-type]
                         message="连续 5 次抓取失败：HTTP 502", consecutive_failures=5, last_success_at=None,
                         last_error="502", items_per_day=3.0)


def test_problems_go_to_the_duty_chat_once(sessions, members, templates, clock) -> None:
    with session_scope(sessions) as session:
        assert queue_source_health(session, [finding("failing"), finding("ok", "other")], members, templates,
                                   clock()) == 1
        assert queue_source_health(session, [finding("failing")], members, templates, clock()) == 0
    with session_scope(sessions) as session:
        alert = session.scalar(select(OutboxMessage))
        assert alert.kind == "source_health" and alert.chat_id == str(members.duty.chat_id)
        assert "长春论坛" in alert.text and "&lt;x&gt;" in alert.text and "HTTP 502" in alert.text
