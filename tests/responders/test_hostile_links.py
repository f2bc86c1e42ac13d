"""Only http/https become links in chat messages; credentials never reach a message."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from monitor.urls import is_link, redact_url, safe_link
from responders.intake import process_event
from responders.messages import safe_links
from store.database import session_scope
from store.models import Event, OutboxMessage


@pytest.mark.parametrize("url", ["javascript:alert(4)", "JaVaScRiPt:alert(1)", "data:text/html,<b>x</b>",
                                 "file:///etc/passwd", "vbscript:x", "http://", "//evil.example/x", ""])
def test_only_http_and_https_are_links(url):
    assert not is_link(url) and safe_link(url) is None


def test_links_keep_no_credentials():
    assert safe_link("https://officer:hunter2@www.jl.gov.cn/a?b=1") == "https://www.jl.gov.cn/a?b=1"
    assert redact_url("http://u@host:8080/") == "http://host:8080/"
    assert redact_url("http://plain.example/x") == "http://plain.example/x"


def test_rendered_anchors_with_other_schemes_become_flagged_text(templates):
    out = safe_links('<a href="javascript:alert(4)">原文1</a> <a href="https://u:p@x.cn/1?a=1&amp;b=2">原文2</a>',
                     templates.not_a_link)
    assert "href=\"javascript" not in out and "原文1（非网页地址，未作链接：javascript:alert(4)）" in out
    assert '<a href="https://x.cn/1?a=1&amp;b=2">原文2</a>' in out


@pytest.mark.parametrize("url", ["javascript:alert(4)", "http://officer:hunter2@bbs.example.cn/t/9"])
def test_alerts_and_notices_never_link_script_or_print_credentials(url, sessions, playbook, members, templates,
                                                                    make_event, clock):
    event_id = make_event("长春市某小学强制补课收费", "家长反映每月收费800元", heat=30, url=url)
    with session_scope(sessions) as session:
        process_event(session, session.get(Event, event_id), playbook, members, templates, clock())
        texts = [a.text for a in session.scalars(select(OutboxMessage))]
    assert texts
    if url.startswith("javascript"):
        assert any("非网页地址，未作链接：javascript:alert(4)" in text for text in texts)
    for text in texts:
        assert 'href="javascript' not in text and "hunter2" not in text and "officer" not in text
