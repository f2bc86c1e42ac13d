"""The desk in a real browser: Debian's headless Chromium driven by Playwright (no browser download).

Set ``YUQING_SCREENSHOTS_DIR`` to keep a screenshot of each page visited (the README's pictures).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import RunningDesk, Seed, password_of
from playwright.sync_api import Browser, Page, expect, sync_playwright

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
