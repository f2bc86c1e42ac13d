"""``yuqing chat check`` against each vendor's fake API: the test message reaches the duty chat, or the
vendor's refusal is printed in plain words (retry or not)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from fake_vendors import FakeDingTalk, FakeFeishu, FakeVendor, FakeWeCom

from yuqing.cli import main

VENDORS = {
    "feishu": (FakeFeishu, "oc_duty0001", lambda url: {
        "YUQING_FEISHU_API_URL": url, "YUQING_FEISHU_APP_ID": "cli_test", "YUQING_FEISHU_APP_SECRET": "s",
        "YUQING_FEISHU_VERIFICATION_TOKEN": "t"}),
    "dingtalk": (FakeDingTalk, "cidDUTY0000000001==", lambda url: {
        "YUQING_DINGTALK_API_URL": url, "YUQING_DINGTALK_APP_KEY": "k", "YUQING_DINGTALK_APP_SECRET": "s",
        "YUQING_DINGTALK_ROBOT_CODE": "r"}),
    "wecom": (FakeWeCom, "wangzhiban|lizhiban", lambda url: {
        "YUQING_WECOM_API_URL": url, "YUQING_WECOM_CORP_ID": "ww", "YUQING_WECOM_AGENT_ID": "1000002",
        "YUQING_WECOM_SECRET": "s", "YUQING_WECOM_TOKEN": "t", "YUQING_WECOM_AES_KEY": "a" * 43}),
}


@pytest.fixture(params=sorted(VENDORS))
def vendor(request, tmp_path: Path):  # type: ignore[no-untyped-def]
    make, duty, settings = VENDORS[request.param]
    fake: FakeVendor = make().start()
    env = {"YUQING_CHAT_BACKEND": request.param, "YUQING_DATA_DIR": str(tmp_path), **settings(fake.url)}
    yield request.param, fake, duty, env
    fake.stop()


def test_check_sends_a_test_message_to_the_duty_chat(vendor) -> None:  # type: ignore[no-untyped-def]
    name, fake, duty, env = vendor
    result = CliRunner().invoke(main, ["chat", "check"], env=env)
    assert result.exit_code == 0, result.output
    assert "delivered" in result.output
    [sent] = fake.sent
    assert sent.kind == "text" and sent.to == duty and "连通测试" in sent.text and name in sent.text


@pytest.mark.parametrize("how, says", [("permanent", "refused, retrying will not help"),
                                       ("transient", "a temporary failure, try again later")])
def test_check_prints_the_vendors_refusal(vendor, how: str, says: str) -> None:  # type: ignore[no-untyped-def]
    name, fake, duty, env = vendor
    fake.fail_next("text", how)
    result = CliRunner().invoke(main, ["chat", "check"], env=env)
    assert result.exit_code == 1
    assert f"{name}: the test message was not delivered ({says})" in result.output
    assert "Traceback" not in result.output and fake.sent == []


def test_check_names_missing_secrets(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["chat", "check"], env={"YUQING_CHAT_BACKEND": "feishu",
                                                            "YUQING_DATA_DIR": str(tmp_path)})
    assert result.exit_code == 1
    assert "YUQING_FEISHU_APP_ID" in result.output
