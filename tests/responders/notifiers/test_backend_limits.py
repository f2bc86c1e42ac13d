"""Each chat backend clips a long message and a long caption by its own documented limits, and what it
sends is still well-formed: Telegram's HTML with every tag closed, the vendors' cards as JSON within
their size with only the text fields cut."""

from __future__ import annotations

import asyncio
import json
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from responders.messages import utf16_len
from responders.notifiers import Button, Outgoing, dingtalk, feishu, telegram, wecom

LINE = '<b>【舆情预警】事件 7</b> <a href="https://x.cn/1?a=1&amp;b=2">原文</a> 网传 &lt;某校&gt; 😀 情况\n'
LONG = LINE * 400  # ~25 000 characters: over every backend's limit
BUTTONS = ((Button("签收" * 20, "case:acknowledge:7"), Button("转办", "case:reassign:7")),)


class _Tags(HTMLParser):
    """The open-tag stack of an HTML fragment; a closing tag that closes nothing open is an error."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(tag)
        else:
            self.stack.pop()


def assert_balanced(html_text: str) -> None:
    parser = _Tags()
    parser.feed(html_text)
    parser.close()
    assert not parser.errors and not parser.stack, (parser.errors, parser.stack)
    assert "<" not in html_text.rsplit(">", 1)[-1]  # no tag cut in half at the end


class _Sent:
    def __init__(self, message_id: int) -> None:
        self.message_id = message_id


class FakeBot:
    """Records what the Telegram notifier asks the Bot API to send."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    async def send_message(self, chat_id: str, text: str, **kw: Any) -> _Sent:
        self.calls.append(("send_message", {"text": text, **kw}))
        return _Sent(1)

    async def send_document(self, chat_id: str, data: bytes, **kw: Any) -> _Sent:
        self.calls.append(("send_document", kw))
        return _Sent(2)

    async def edit_message_text(self, text: str, **kw: Any) -> None:
        self.calls.append(("edit_message_text", {"text": text, **kw}))


def test_telegram_clips_text_and_caption_by_its_limits_and_closes_the_tags(tmp_path: Path) -> None:
    bot = FakeBot()
    notifier = telegram.TelegramNotifier(bot)  # type: ignore[arg-type]
    report = tmp_path / "weekly.pdf"
    report.write_bytes(b"%PDF-1.4")

    async def scenario() -> None:
        await notifier.send(Outgoing("-1", LONG))
        await notifier.send(Outgoing("-1", LONG, attachment_path=str(report)))
        await notifier.edit("-1", "1", LONG)

    asyncio.run(scenario())
    (_, text), (_, document), (_, edited) = bot.calls
    for sent, limit in ((text["text"], telegram.TEXT_LIMIT), (document["caption"], telegram.CAPTION_LIMIT),
                        (edited["text"], telegram.TEXT_LIMIT)):
        assert utf16_len(sent) <= limit and "…" in sent[-8:]
        assert_balanced(sent)
    assert utf16_len(document["caption"]) > telegram.CAPTION_LIMIT - 100  # clipped near the limit, not emptied


class FakeMembers:
    def vendor_chat(self, vendor: str, chat_id: str) -> str:
        return "vendor-chat"


def _capture(notifier: Any, name: str) -> list[Any]:
    seen: list[Any] = []

    async def record(*args: Any) -> dict[str, Any]:
        seen.append(args)
        return {}

    setattr(notifier, name, record)
    return seen


def test_wecom_text_and_caption_fit_2048_bytes_and_its_card_fields(tmp_path: Path) -> None:
    config = wecom.WeComConfig("http://127.0.0.1:9", "ww", 1, "s", "t", "a" * 43)
    notifier = wecom.WeComNotifier(config, FakeMembers())  # type: ignore[arg-type]
    seen = _capture(notifier, "_api")
    missing = tmp_path / "none.pdf"

    async def scenario() -> None:
        await notifier.send(Outgoing("-1", LONG))
        with pytest.raises(Exception, match="attachment not found"):  # the caption goes first, then the file
            await notifier.send(Outgoing("-1", LONG, attachment_path=str(missing)))
        await notifier.aclose()

    asyncio.run(scenario())
    for _path, payload, _what in seen:
        content = payload["text"]["content"]
        assert len(content.encode("utf-8")) <= wecom.TEXT_BYTES and content.endswith("…") and "<b>" not in content
    card = wecom.card(LONG, BUTTONS, "task")
    assert json.loads(json.dumps(card, ensure_ascii=False)) == card
    assert len(card["main_title"]["title"]) <= wecom.TITLE_CHARS
    assert len(card["sub_title_text"].encode("utf-8")) <= wecom.BODY_BYTES
    assert all(len(b["text"]) <= wecom.BUTTON_CHARS for b in card["button_list"])


def test_feishu_text_and_card_stay_within_its_request_limits() -> None:
    notifier = feishu.FeishuNotifier(feishu.FeishuConfig("http://127.0.0.1:9", "a", "s", "t"),
                                     FakeMembers())  # type: ignore[arg-type]
    seen = _capture(notifier, "_message")
    huge = LONG * 10  # a caption or a text longer than even Feishu's text limit

    async def scenario() -> None:
        await notifier.send(Outgoing("-1", huge))
        await notifier.aclose()

    asyncio.run(scenario())
    (_type, _chat, kind, content, _what), = seen
    assert kind == "text" and len(content["text"].encode("utf-8")) <= feishu.TEXT_BYTES
    card = feishu.card(huge, BUTTONS)
    raw = json.dumps(card, ensure_ascii=False)
    assert len(raw.encode("utf-8")) <= feishu.CARD_BYTES and json.loads(raw) == card
    body = card["elements"][0]["text"]["content"]
    assert body.endswith("…") and len(body) > 1000  # the body was clipped, the card kept whole
    assert [b["value"]["data"] for b in card["elements"][1]["actions"]] == ["case:acknowledge:7", "case:reassign:7"]


def test_dingtalk_text_and_card_are_clipped_and_the_card_is_json() -> None:
    config = dingtalk.DingTalkConfig("http://127.0.0.1:9", "k", "s", "r")
    notifier = dingtalk.DingTalkNotifier(config, FakeMembers())  # type: ignore[arg-type]
    seen = _capture(notifier, "_api")

    async def scenario() -> None:
        await notifier.send(Outgoing("-1", LONG))
        await notifier.aclose()

    asyncio.run(scenario())
    (_method, _path, payload, _what), = seen
    content = json.loads(payload["msgParam"])["content"]
    assert len(content) <= dingtalk.TEXT_CHARS and content.endswith("…")
    card = dingtalk.card(LONG, BUTTONS)
    raw = json.dumps(card, ensure_ascii=False)
    assert len(raw.encode("utf-8")) <= dingtalk.CARD_BYTES and json.loads(raw) == card
    assert len(card["contents"][0]["text"]) <= dingtalk.BODY_CHARS
