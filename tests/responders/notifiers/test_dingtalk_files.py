"""DingTalk delivers a report as a file, like the other backends: the caption, then the PDF uploaded through
the media API and posted by the robot; a refused upload is a typed delivery error the outbox records."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from fake_vendors import FakeDingTalk  # beside tests/responders/conftest.py

from playbooks.members import Members
from responders.errors import DeliveryError
from responders.notifiers import Outgoing
from responders.notifiers.dingtalk import DingTalkConfig, DingTalkNotifier


@pytest.fixture
def fake() -> Iterator[FakeDingTalk]:
    server = FakeDingTalk()
    server.start()
    yield server
    server.stop()


def _notifier(fake: FakeDingTalk, members: Members) -> DingTalkNotifier:
    return DingTalkNotifier(DingTalkConfig(fake.url, "key", "secret", "robot-1", oapi_url=fake.url), members)


def test_a_report_goes_as_its_caption_then_the_uploaded_file(fake: FakeDingTalk, members: Members,
                                                             tmp_path: Path) -> None:
    report = tmp_path / "weekly-2026-W50.pdf"
    report.write_bytes(b"%PDF-1.4 weekly report")
    notifier = _notifier(fake, members)

    async def scenario() -> None:
        await notifier.send(Outgoing(str(members.duty.chat_id), "<b>本周舆情周报</b>", attachment_path=str(report)))
        await notifier.aclose()

    asyncio.run(scenario())
    caption, file = fake.sent
    assert (caption.kind, caption.to, caption.text) == ("text", "cidDUTY0000000001==", "本周舆情周报")
    assert (file.kind, file.to, file.text) == ("file", "cidDUTY0000000001==", "weekly-2026-W50.pdf @media1")
    assert b"%PDF-1.4 weekly report" in fake.uploads[0]


def test_a_refused_upload_is_a_permanent_delivery_error(fake: FakeDingTalk, members: Members,
                                                       tmp_path: Path) -> None:
    report = tmp_path / "monthly-2026-11.pdf"
    report.write_bytes(b"%PDF-1.4")
    fake.fail_next("upload", "permanent")
    notifier = _notifier(fake, members)

    async def scenario() -> None:
        try:
            await notifier.send(Outgoing(str(members.duty.chat_id), "通报", attachment_path=str(report)))
        finally:
            await notifier.aclose()

    with pytest.raises(DeliveryError, match="upload file failed") as refused:
        asyncio.run(scenario())
    assert refused.value.permanent
    assert [s.kind for s in fake.sent] == ["text"]  # the caption went; the file did not
