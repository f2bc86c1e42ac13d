from __future__ import annotations

import asyncio
import io

import pytest

from responders.messages import TELEGRAM_LIMIT, TemplateMissing, Templates, clip_html, utf16_len
from responders.notifiers import Button, Outgoing
from responders.notifiers.console import ConsoleNotifier, read_commands


def test_short_text_is_untouched() -> None:
    assert clip_html("<b>x</b>") == "<b>x</b>"


def test_clip_keeps_tags_balanced_and_entities_whole() -> None:
    text = "<b>" + "舆情&amp;" * 2000 + "</b>"
    clipped = clip_html(text)
    assert utf16_len(clipped) <= TELEGRAM_LIMIT
    assert clipped.endswith("…</b>") and clipped.count("<b>") == clipped.count("</b>")
    assert "&am…" not in clipped and "&…" not in clipped


def test_clip_counts_emoji_as_two_units() -> None:
    clipped = clip_html("😀" * 3000)
    assert utf16_len(clipped) <= TELEGRAM_LIMIT


def test_item_text_is_escaped(playbook, templates) -> None:
    text = templates.render("source_health", source="<i>论坛</i>", message="a & <b>", url=None)
    assert "&lt;i&gt;论坛&lt;/i&gt;" in text and "a &amp; &lt;b&gt;" in text


def test_missing_template_is_named() -> None:
    with pytest.raises(TemplateMissing, match="duty_alert"):
        Templates({"case_notice": "x"})


def test_playbook_refuses_a_broken_template(playbook) -> None:
    from pydantic import ValidationError

    from playbooks.schema import Playbook

    data = playbook.model_dump()
    data["templates"] = {**data["templates"], "help": "{% if %}"}
    with pytest.raises(ValidationError, match="template 'help' line 1"):
        Playbook.model_validate(data)


def test_console_backend_prints_and_reads_commands() -> None:
    out = io.StringIO()

    async def scenario() -> None:
        notifier = ConsoleNotifier(out)
        mid = await notifier.send(Outgoing("-1", "<b>预警</b> &lt;x&gt;", ((Button("签收", "case:acknowledge:7"),),)))
        assert mid == "1"
        seen = []

        async def handle(line: str) -> str:
            seen.append(line)
            return "<b>ok</b>"

        await read_commands(handle, io.StringIO("/acknowledge 7\n\n/status\n"), out)
        assert seen == ["/acknowledge 7", "/status"]

    asyncio.run(scenario())
    printed = out.getvalue()
    assert "预警 <x>" in printed and "[签收: /acknowledge 7]" in printed and printed.count("ok") == 2


def test_console_shows_link_addresses_and_unescapes() -> None:
    from responders.notifiers.console import plain

    text = '原文<a href="http://x.cn/1?a=1&amp;b=2">1</a> <b>粗</b> &lt;script&gt;'
    assert plain(text) == "原文1 http://x.cn/1?a=1&b=2 粗 <script>"


def test_a_missing_reply_is_a_load_error_with_file_and_line(tmp_path) -> None:
    from playbooks.loader import DEFAULT_PLAYBOOK, PolicyFileError, load_playbook

    text = DEFAULT_PLAYBOOK.read_text(encoding="utf-8").replace("\n  prompt: |", "\n  prompt_renamed: |")
    copy = tmp_path / "jilin.yaml"
    copy.write_text(text, encoding="utf-8")
    line = text[: text.index("\nreplies:")].count("\n") + 2
    with pytest.raises(PolicyFileError, match=rf"jilin.yaml:{line}: replies: missing reply template 'prompt'"):
        load_playbook(copy)


def test_replies_escape_values_and_read_policy_from_the_playbook(playbook, templates) -> None:
    said = templates.reply("prompt", action="extend", n=3)
    assert f"{playbook.clocks.respond_extended_working_days}个工作日" in said
    assert "&lt;b&gt;" in templates.reply("unknown_department", department="<b>")
