"""*Units*: the 通报's groups and numbers, the ledger rows behind them, and 采用/退回 of submissions."""

from __future__ import annotations

import re

from desk_support import RunningDesk, SignIn, csrf_of
from sqlalchemy import select

from playbooks.schema import RANKED_KINDS
from responders.cases import Actor
from store.database import session_scope
from store.models import Submission


def submitted(desk: RunningDesk, title: str = "省教育厅部署秋季开学安全检查") -> int:
    """A submission by 省教育厅's liaison, through the shared /submit action."""
    desk.site.desk.submit(Actor("陈教育", 200101, "test"), f"{title}｜全省各级教育部门开展开学安全检查")
    with session_scope(desk.site.sessions) as session:
        found = session.scalar(select(Submission.id).where(Submission.title == title))
        assert found is not None
        return found


def unit_row(page: str, key: str) -> str:
    found = re.search(rf'<tr data-unit="{key}">.*?</tr>', page, re.S)
    assert found, key
    return found.group(0)


def test_the_units_page_lists_every_unit_of_the_three_groups(desk_server: RunningDesk, sign_in: SignIn) -> None:
    page = sign_in("wuzhuren").get("/units")
    assert page.status_code == 200
    ranked = [k for k, d in desk_server.site.playbook.departments.items() if d.kind in RANKED_KINDS]
    assert ranked
    for key in ranked:
        assert f'data-unit="{key}"' in page.text, key
    for group in ("city", "county", "provincial"):
        assert f'data-group="{group}"' in page.text


def test_adopting_a_submission_adds_five_points_linked_to_its_ledger(desk_server: RunningDesk,
                                                                      sign_in: SignIn) -> None:
    submission = submitted(desk_server)
    chief = sign_in("wangzhiban")
    assert ">5</a>" not in unit_row(chief.get("/units").text, "省教育厅")  # seen before: the tables are kept…
    listing = chief.get("/submissions").text
    assert f'action="/submissions/{submission}/adopt"' in listing
    answer = chief.post(f"/submissions/{submission}/adopt", data={"csrf": csrf_of(chief, "/submissions"),
                                                                  "bonus": ""})
    assert answer.status_code == 303
    assert 'data-state="adopted"' in chief.get("/submissions").text
    page = chief.get("/units").text  # …and counted again once the ledger changed
    row = unit_row(page, "省教育厅")
    link = re.search(r'<td class="num points"><a href="([^"]+)">5</a>', row)
    assert link, row
    ledger = chief.get(link.group(1).replace("&amp;", "&"))
    assert ledger.status_code == 200 and "信息采用" in ledger.text and "+5" in ledger.text
    again = chief.post(f"/submissions/{submission}/adopt", data={"csrf": csrf_of(chief, "/submissions")})
    assert again.status_code == 303
    assert '<a href="' in unit_row(chief.get("/units").text, "省教育厅")
    assert ">5</a>" in unit_row(chief.get("/units").text, "省教育厅")  # a second press adds nothing


def test_a_liaison_reads_every_ranking_but_only_its_own_ledger(desk_server: RunningDesk, sign_in: SignIn) -> None:
    submission = submitted(desk_server)
    chief = sign_in("wangzhiban")
    chief.post(f"/submissions/{submission}/adopt", data={"csrf": csrf_of(chief, "/submissions")})
    other = sign_in("sunnongan")
    row = unit_row(other.get("/units").text, "省教育厅")
    assert "5" in row and "<a " not in row  # the number, without the link behind it
    assert other.get("/units/省教育厅/ledger").status_code == 403
    assert other.get("/units/农安县/ledger").status_code == 200
    assert other.get("/submissions", params={"department": "省教育厅"}).status_code == 403
    assert f'data-submission="{submission}"' not in other.get("/submissions").text
    own = sign_in("chenjiaoyu")
    assert "信息采用" in own.get("/units/省教育厅/ledger").text
    assert f'data-submission="{submission}"' in own.get("/submissions").text
    assert f'action="/submissions/{submission}' not in own.get("/submissions").text


def test_only_duty_and_editors_adopt_or_decline(desk_server: RunningDesk, sign_in: SignIn) -> None:
    submission = submitted(desk_server)
    for login in ("chenjiaoyu", "wuzhuren"):
        client = sign_in(login)
        answer = client.post(f"/submissions/{submission}/decline", data={"csrf": csrf_of(client), "reason": "x"})
        assert answer.status_code == 403, login
    staff = sign_in("lizhiban")
    staff.post(f"/submissions/{submission}/decline", data={"csrf": csrf_of(staff), "reason": "内容重复"})
    with session_scope(desk_server.site.sessions) as session:
        row = session.get(Submission, submission)
        assert row is not None and row.state == "declined" and row.decline_reason == "内容重复"


def test_a_quarter_and_a_bad_period(desk_server: RunningDesk, sign_in: SignIn) -> None:
    submission = submitted(desk_server)
    chief = sign_in("wangzhiban")
    chief.post(f"/submissions/{submission}/adopt", data={"csrf": csrf_of(chief, "/submissions"), "bonus": "video"})
    month = re.search(r'name="period" value="([^"]+)"', chief.get("/units").text)
    assert month
    year, number = month.group(1).split("-")
    quarter = f"{year}-Q{(int(number) - 1) // 3 + 1}"
    page = chief.get("/units", params={"period": quarter})
    assert page.status_code == 200 and quarter in page.text
    assert re.search(r">\d+(\.\d+)?</a>", unit_row(page.text, "省教育厅"))
    assert chief.get("/units", params={"period": "2026-13"}).status_code == 400
