"""*Cases*: the board, one case, and the department's actions through the shared Desk, with every refusal."""

from __future__ import annotations

import datetime as dt
import re

import httpx
from desk_support import RunningDesk, Seed, SignIn, case_of, csrf_of
from sqlalchemy import select

from store.database import session_scope
from store.models import Case, CaseAudit
from store.types import utcnow


def state_of(desk: RunningDesk, case_id: int) -> str:
    with session_scope(desk.site.sessions) as session:
        a = session.get(Case, case_id)
        assert a is not None
        return a.state


def shown_state(page: str) -> str:
    found = re.search(r'id="case-state">([^<]+)<', page)
    assert found, page
    return found.group(1)


def test_a_liaison_sees_only_its_own_cases(desk_server: RunningDesk, sign_in: SignIn, seed: Seed) -> None:
    mine = case_of(desk_server, seed("某小学乱收费", departments=("省教育厅",)), "省教育厅")
    other = case_of(desk_server, seed("公交线路调整", departments=("省交通厅",)), "省交通厅")
    liaison = sign_in("chenjiaoyu")
    board = liaison.get("/cases").text
    assert f'data-case="{mine}"' in board and f'data-case="{other}"' not in board
    assert liaison.get("/cases", params={"department": "省交通厅"}).status_code == 403
    duty = sign_in("wangzhiban").get("/cases").text
    assert f'data-case="{mine}"' in duty and f'data-case="{other}"' in duty
    assert "剩" in duty  # the clocks' time left


def test_acknowledge_on_the_desk_changes_the_clock_and_says_web(desk_server: RunningDesk, sign_in: SignIn,
                                                                seed: Seed) -> None:
    case = case_of(desk_server, seed(departments=("省教育厅",)), "省教育厅")
    liaison = sign_in("chenjiaoyu")
    before = liaison.get(f"/cases/{case}").text
    assert 'data-clock="acknowledge"' in before and 'data-clock="respond"' in before
    pressed = liaison.post(f"/cases/{case}/acknowledge", data={"csrf": csrf_of(liaison, f"/cases/{case}")})
    assert pressed.status_code == 303 and pressed.headers["location"] == f"/cases/{case}"
    after = liaison.get(f"/cases/{case}").text
    assert shown_state(after) == "已签收"
    assert 'data-clock="acknowledge"' not in after and 'data-clock="respond"' in after
    assert '<td class="chat">web</td>' in after
    with session_scope(desk_server.site.sessions) as session:
        row = session.scalars(select(CaseAudit).where(CaseAudit.case_id == case,
                                                            CaseAudit.action == "acknowledge")).one()
        assert row.chat_id == "web" and row.actor == "陈教育"
    liaison.post(f"/cases/{case}/acknowledge", data={"csrf": csrf_of(liaison, f"/cases/{case}")})
    again = liaison.get(f"/cases/{case}").text
    assert "本次未作改动" in again and shown_state(again) == "已签收"
    with session_scope(desk_server.site.sessions) as session:
        assert len(session.scalars(select(CaseAudit).where(CaseAudit.case_id == case,
                                                                 CaseAudit.action == "acknowledge")).all()) == 1


def test_extend_and_respond_through_the_shared_actions(desk_server: RunningDesk, sign_in: SignIn, seed: Seed) -> None:
    case = case_of(desk_server, seed(departments=("省教育厅",)), "省教育厅")
    liaison = sign_in("chenjiaoyu")
    token = csrf_of(liaison, f"/cases/{case}")
    liaison.post(f"/cases/{case}/acknowledge", data={"csrf": token})
    refused = liaison.post(f"/cases/{case}/extend", data={"csrf": token, "reason": ""})
    assert refused.status_code == 303 and state_of(desk_server, case) == "acknowledged"
    assert 'class="flash refused"' in liaison.get(f"/cases/{case}").text
    liaison.post(f"/cases/{case}/extend", data={"csrf": token, "reason": "涉及多个部门，情况复杂"})
    assert shown_state(liaison.get(f"/cases/{case}").text) == "已延期"
    liaison.post(f"/cases/{case}/respond", data={"csrf": token, "response": "https://jyt.jl.gov.cn/notice/1"})
    assert state_of(desk_server, case) == "responded"


def test_a_liaison_asks_for_reassignment_and_duty_reassigns(desk_server: RunningDesk, sign_in: SignIn,
                                                            seed: Seed) -> None:
    event = seed(departments=("省教育厅",))
    case = case_of(desk_server, event, "省教育厅")
    liaison = sign_in("chenjiaoyu")
    liaison.post(f"/cases/{case}/reassign", data={"csrf": csrf_of(liaison, f"/cases/{case}"),
                                                  "department": "长春市政府", "reason": "属地事项"})
    assert state_of(desk_server, case) == "new"  # a request for the duty desk, not a move
    assert 'data-action="reassign_requested"' in liaison.get(f"/cases/{case}").text
    duty = sign_in("wangzhiban")
    duty.post(f"/cases/{case}/reassign", data={"csrf": csrf_of(duty, f"/cases/{case}"),
                                               "department": "长春市政府", "reason": "属地事项"})
    assert state_of(desk_server, case) == "reassigned"
    case_of(desk_server, event, "长春市政府")


def test_another_departments_case_is_403_for_every_url(desk_server: RunningDesk, sign_in: SignIn,
                                                        seed: Seed) -> None:
    other = case_of(desk_server, seed("公交线路调整", departments=("省交通厅",)), "省交通厅")
    mine = case_of(desk_server, seed(departments=("省教育厅",)), "省教育厅")
    liaison = sign_in("chenjiaoyu")
    token = csrf_of(liaison)
    assert liaison.get(f"/cases/{other}").status_code == 403
    for action in ("acknowledge", "extend", "respond", "explain", "reassign"):
        answer = liaison.post(f"/cases/{other}/{action}", data={"csrf": token, "reason": "x", "response": "x",
                                                                "text": "x", "department": "省教育厅"})
        assert answer.status_code == 403, action
    assert state_of(desk_server, other) == "new"
    forged = liaison.post(f"/cases/{mine}/acknowledge", data={"csrf": "forged"})
    assert forged.status_code == 403 and "CSRF" in forged.text and state_of(desk_server, mine) == "new"
    assert liaison.get("/cases/999999").status_code == 404
    with httpx.Client(base_url=desk_server.base) as stranger:
        answer = stranger.get(f"/cases/{other}")
        assert answer.status_code == 303 and answer.headers["location"].startswith("/signin?next=")
        assert stranger.post(f"/cases/{other}/acknowledge", data={"csrf": token}).status_code == 401
    assert state_of(desk_server, other) == "new"


def test_a_leader_reads_but_cannot_act(desk_server: RunningDesk, sign_in: SignIn, seed: Seed) -> None:
    case = case_of(desk_server, seed(departments=("省教育厅",)), "省教育厅")
    leader = sign_in("wuzhuren")
    page = leader.get(f"/cases/{case}")
    assert page.status_code == 200 and f'action="/cases/{case}/acknowledge"' not in page.text
    assert leader.post(f"/cases/{case}/acknowledge", data={"csrf": csrf_of(leader)}).status_code == 403
    assert state_of(desk_server, case) == "new"


def test_an_overdue_clock_shows_in_red(desk_server: RunningDesk, sign_in: SignIn, seed: Seed) -> None:
    late = case_of(desk_server, seed("逾期未签收的事件", departments=("省教育厅",)), "省教育厅")
    on_time = case_of(desk_server, seed("刚刚交办的事件", departments=("省交通厅",)), "省交通厅")
    with session_scope(desk_server.site.sessions) as session:
        a = session.get(Case, late)
        assert a is not None
        a.acknowledge_due_at = utcnow() - dt.timedelta(hours=3)
    duty = sign_in("wangzhiban")
    board = duty.get("/cases").text
    row = re.search(rf'<tr data-case="{late}".*?</tr>', board, re.S)
    assert row and 'class="clock overdue"' in row.group(0) and "超时" in row.group(0)
    fine = re.search(rf'<tr data-case="{on_time}".*?</tr>', board, re.S)
    assert fine and "overdue" not in fine.group(0)
    assert 'class="clock overdue"' in duty.get(f"/cases/{late}").text


def test_the_board_filters_by_state_and_pages(desk_server: RunningDesk, sign_in: SignIn, seed: Seed) -> None:
    first = case_of(desk_server, seed(departments=("省教育厅",)), "省教育厅")
    duty = sign_in("wangzhiban")
    duty.post(f"/cases/{first}/acknowledge", data={"csrf": csrf_of(duty)})
    assert f'data-case="{first}"' in duty.get("/cases", params={"state": "acknowledged"}).text
    assert f'data-case="{first}"' not in duty.get("/cases", params={"state": "notified"}).text
    assert f'data-case="{first}"' not in duty.get("/cases", params={"page": "2"}).text
