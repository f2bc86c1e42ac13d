"""The desk in a real browser: Debian's headless Chromium driven by Playwright (no browser download).

Set ``YUQING_SCREENSHOTS_DIR`` to keep a screenshot of each page visited (the README's pictures).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from desk_support import RunningDesk, Seed, case_of, password_of
from playwright.sync_api import Browser, Page, expect, sync_playwright
from sqlalchemy import select

from store.database import session_scope
from store.models import CaseAudit

CHROMIUM = os.environ.get("YUQING_CHROMIUM", "/usr/bin/chromium")
SHOTS = os.environ.get("YUQING_SCREENSHOTS_DIR")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists() and shutil.which(CHROMIUM) is None:
        pytest.fail(f"Chromium not found at {CHROMIUM}: `make test` installs Debian's chromium package")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture
def open_page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def sign_in_as(page: Page, desk: RunningDesk, login: str, path: str = "/now") -> None:
    page.goto(f"{desk.base}{path}")
    expect(page).to_have_url(f"{desk.base}/signin?next={path}")
    page.get_by_label("用户名").fill(login)
    page.get_by_label("密码").fill(password_of(login))
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(f"{desk.base}{path}")


def shoot(page: Page, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)


def test_duty_staff_see_a_new_event_appear_without_reloading(open_page: Page, desk_server: RunningDesk,
                                                             seed: Seed) -> None:
    seed("长春市某小学乱收费", heat=32.0, items=6, departments=("省教育厅",))
    sign_in_as(open_page, desk_server, "lizhiban")
    live = open_page.locator("#live")
    expect(live).to_have_attribute("data-live", "on")
    shoot(open_page, "now")
    new = seed("网传某化工厂爆炸泄漏", category="环保", heat=88.0, items=4, emergency=True)
    expect(open_page.locator(f'tr[data-event="{new}"]')).to_be_visible()
    assert open_page.locator("tbody tr").first.get_attribute("data-event") == str(new)  # hottest first


def test_a_wrong_password_keeps_the_person_out(open_page: Page, desk_server: RunningDesk) -> None:
    open_page.goto(f"{desk_server.base}/signin")
    open_page.get_by_label("用户名").fill("chenjiaoyu")
    open_page.get_by_label("密码").fill("not-the-password")
    open_page.get_by_role("button", name="登录").click()
    expect(open_page.get_by_role("alert")).to_contain_text("用户名或密码不正确")
    open_page.goto(f"{desk_server.base}/now")
    expect(open_page.get_by_role("button", name="登录")).to_be_visible()


def test_a_liaison_sees_only_its_cases_acknowledges_one_and_is_refused_another(
        open_page: Page, desk_server: RunningDesk, seed: Seed) -> None:
    school = seed("长春市某小学强制补课收费", heat=35.0, items=3, departments=("省教育厅",))
    bus = seed("公交线路调整引发不满", category="交通", heat=22.0, departments=("省交通厅",))
    mine, theirs = case_of(desk_server, school, "省教育厅"), case_of(desk_server, bus, "省交通厅")
    sign_in_as(open_page, desk_server, "chenjiaoyu", "/cases")
    expect(open_page.locator(f'tr[data-case="{mine}"]')).to_be_visible()
    expect(open_page.locator(f'tr[data-case="{theirs}"]')).to_have_count(0)
    shoot(open_page, "cases")

    open_page.locator(f'tr[data-case="{mine}"] a').first.click()
    expect(open_page).to_have_url(f"{desk_server.base}/cases/{mine}")
    acknowledge_clock = open_page.locator('#clocks [data-clock="acknowledge"]')
    expect(acknowledge_clock).to_have_count(1)
    shoot(open_page, "case")
    open_page.get_by_role("button", name="签收").click()
    expect(open_page.locator("#case-state")).to_have_text("已签收")
    expect(acknowledge_clock).to_have_count(0)  # the 签收 clock stopped; the answer's clock runs on
    expect(open_page.locator('#clocks [data-clock="respond"]')).to_have_count(1)
    with session_scope(desk_server.site.sessions) as session:
        trail = session.scalars(select(CaseAudit).where(CaseAudit.case_id == mine,
                                                              CaseAudit.action == "acknowledge")).all()
    assert [(row.actor, row.chat_id) for row in trail] == [("陈教育", "web")]

    answer = open_page.goto(f"{desk_server.base}/cases/{theirs}")
    assert answer is not None and answer.status == 403
    expect(open_page.get_by_role("alert")).to_be_visible()


def test_duty_staff_confirm_an_alert_from_the_event_page(open_page: Page, desk_server: RunningDesk,
                                                        seed: Seed) -> None:
    event = seed("网传长春自来水有毒", category="市政", heat=61.0, rumour=0.82, items=5,
                 departments=("长春市政府",))
    sign_in_as(open_page, desk_server, "lizhiban", f"/events/{event}")
    shoot(open_page, "event")
    open_page.get_by_role("button", name="确认", exact=True).click()
    expect(open_page.locator(".flash.ok")).to_be_visible()
    open_page.get_by_role("button", name="确认", exact=True).click()
    expect(open_page.locator(".flash")).to_contain_text("本次未作改动")  # a second press changes nothing


def test_the_other_pages_render_for_a_leader(open_page: Page, desk_server: RunningDesk, seed: Seed) -> None:
    seed("某县政府网站信息更新不及时", category="市政", heat=15.0, departments=("农安县",))
    sign_in_as(open_page, desk_server, "wuzhuren", "/units")
    expect(open_page.locator("h1")).to_be_visible()
    shoot(open_page, "units")
    for path, name in (("/sources", "sources"), ("/reports", "reports"), ("/submissions", "submissions")):
        answer = open_page.goto(f"{desk_server.base}{path}")
        assert answer is not None and answer.status in (200, 403), path
        if answer.status == 200:
            shoot(open_page, name)
