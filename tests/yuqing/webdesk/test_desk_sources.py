"""*Sources*: health from the store, and the duty desk adding, testing, disabling and enabling sources.

The feed a source points at is a real RSS document served on 127.0.0.1; the actions write the same
sources file ``yuqing sources add`` writes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from desk_support import RunningDesk, SignIn, csrf_of
from support.serving import serve_in_thread

from monitor.config import load_sources
from store.database import session_scope
from store.models import Source
from store.types import utcnow

TITLES = ("长春市某小学乱收费问题回应", "吉林市城区积水已排除", "延吉市公交线路调整公告")


def _rss() -> bytes:
    when = format_datetime(dt.datetime(2026, 12, 7, 8, 0, tzinfo=dt.UTC))
    items = "".join(f"<item><title>{title}</title><link>http://example.gov.cn/m/{i}</link>"
                    f"<guid>http://example.gov.cn/m/{i}</guid><pubDate>{when}</pubDate>"
                    f"<description>{title}，详情见正文。</description></item>" for i, title in enumerate(TITLES))
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>留言</title>'
            f"<link>http://example.gov.cn/</link><description>d</description>{items}</channel></rss>").encode()


@pytest.fixture
def feed_url() -> Iterator[str]:
    """An RSS feed of three items on 127.0.0.1."""
    body = _rss()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_args: object) -> None:
            pass

        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    serve_in_thread(server)
    yield f"http://127.0.0.1:{server.server_address[1]}/feed.xml"
    server.shutdown()
    server.server_close()


def test_duty_adds_a_source_and_it_appears(desk_server: RunningDesk, sign_in: SignIn, feed_url: str) -> None:
    client = sign_in("lizhiban")
    answer = client.post("/sources", data={"csrf": csrf_of(client, "/sources"), "name": "jl-liuyan",
                                           "kind": "feed", "url": feed_url})
    assert answer.status_code == 303, answer.text
    page = client.get("/sources").text
    assert "已添加信息源 jl-liuyan" in page and 'data-source="jl-liuyan"' in page
    assert desk_server.site.settings is not None
    spec = load_sources(desk_server.site.settings.effective_sources_file).get("jl-liuyan")
    assert spec is not None and spec.url == feed_url and spec.kind == "feed"
    with session_scope(desk_server.site.sessions) as session:  # the store follows the file at once
        assert session.query(Source).filter_by(name="jl-liuyan").one().enabled


@pytest.mark.parametrize(("url", "why"), [
    ("http://169.254.169.254/latest/meta-data/", "link-local"),
    ("http://100.100.100.200/latest/meta-data/", "cloud metadata address"),
    ("http://metadata.google.internal/computeMetadata/v1/", "cloud metadata service"),
    ("file:///etc/passwd", "only http and https"),
])
def test_a_refused_url_is_a_clear_message_naming_the_source(desk_server: RunningDesk, sign_in: SignIn,
                                                             url: str, why: str) -> None:
    client = sign_in("wangzhiban")
    answer = client.post("/sources", data={"csrf": csrf_of(client, "/sources"), "name": "meta", "kind": "feed",
                                           "url": url})
    assert answer.status_code == 400
    assert "未添加。信息源 meta：" in answer.text and why in answer.text
    assert "Traceback" not in answer.text
    assert desk_server.site.settings is not None
    assert load_sources(desk_server.site.settings.effective_sources_file).get("meta") is None


def test_an_import_source_cannot_be_added_from_the_web(sign_in: SignIn) -> None:
    client = sign_in("wangzhiban")
    answer = client.post("/sources", data={"csrf": csrf_of(client, "/sources"), "name": "local", "kind": "import",
                                           "url": "/etc/passwd"})
    assert answer.status_code == 400 and "信息源 local：类型只能是" in answer.text


def test_a_test_fetch_shows_the_items_found(sign_in: SignIn, feed_url: str) -> None:
    client = sign_in("wangzhiban")
    assert client.post("/sources", data={"csrf": csrf_of(client, "/sources"), "name": "jl-liuyan", "kind": "feed",
                                         "url": feed_url}).status_code == 303
    answer = client.post("/sources/jl-liuyan/test", data={"csrf": csrf_of(client, "/sources")})
    assert answer.status_code == 200
    assert "信息源 jl-liuyan：抓到 3 条" in answer.text
    for title in TITLES:
        assert title in answer.text
    assert "<script" not in answer.text.split("<main>")[1]  # feed text is escaped, never markup


def test_a_failing_test_names_the_source(sign_in: SignIn, feed_url: str) -> None:
    client = sign_in("wangzhiban")
    gone = feed_url.rsplit(":", 1)[0] + ":1/feed.xml"  # nothing listens on port 1
    assert client.post("/sources", data={"csrf": csrf_of(client, "/sources"), "name": "gone", "kind": "feed",
                                         "url": gone}).status_code == 303
    failed = client.post("/sources/gone/test", data={"csrf": csrf_of(client, "/sources")}).text
    assert "信息源 gone：" in failed and "Traceback" not in failed
    unknown = client.post("/sources/no-such/test", data={"csrf": csrf_of(client, "/sources")}).text
    assert "信息源 no-such：" in unknown and "no source named" in unknown


def test_duty_disables_and_enables_a_source(desk_server: RunningDesk, sign_in: SignIn, feed_url: str) -> None:
    client = sign_in("wangzhiban")
    assert client.post("/sources", data={"csrf": csrf_of(client, "/sources"), "name": "jl-liuyan", "kind": "feed",
                                         "url": feed_url}).status_code == 303
    assert client.post("/sources/jl-liuyan/disable", data={"csrf": csrf_of(client, "/sources")}).status_code == 303
    assert "已停用信息源 jl-liuyan" in client.get("/sources").text
    settings = desk_server.site.settings
    assert settings is not None
    spec = load_sources(settings.effective_sources_file).get("jl-liuyan")
    assert spec is not None and not spec.enabled
    with session_scope(desk_server.site.sessions) as session:
        assert not session.query(Source).filter_by(name="jl-liuyan").one().enabled
    assert client.post("/sources/jl-liuyan/enable", data={"csrf": csrf_of(client, "/sources")}).status_code == 303
    spec = load_sources(settings.effective_sources_file).get("jl-liuyan")
    assert spec is not None and spec.enabled
    missing = client.post("/sources/no-such/disable", data={"csrf": csrf_of(client, "/sources")})
    assert "信息源 no-such：no source named" in client.get(missing.headers["location"]).text


def test_health_shows_failing_and_silent_sources(desk_server: RunningDesk, sign_in: SignIn) -> None:
    now = utcnow()
    with session_scope(desk_server.site.sessions) as session:
        session.add_all([
            Source(name="broken", kind="feed", url="https://broken.example.cn/rss", consecutive_failures=5,
                   last_error="[broken] https://broken.example.cn/rss: HTTP 503", last_error_at=now,
                   last_success_at=now - dt.timedelta(days=1), created_at=now - dt.timedelta(days=30)),
            Source(name="quiet", kind="feed", url="https://quiet.example.cn/rss", last_success_at=now,
                   last_new_item_at=now - dt.timedelta(days=20), created_at=now - dt.timedelta(days=30)),
            Source(name="fine", kind="feed", url="https://fine.example.cn/rss", last_success_at=now,
                   last_new_item_at=now, created_at=now - dt.timedelta(days=30)),
        ])
    page = sign_in("wuzhuren").get("/sources").text  # a leader reads it, without the forms
    assert page.index('data-source="broken"') < page.index('data-source="quiet"') < page.index('data-source="fine"')
    assert "连续失败" in page and "HTTP 503" in page and "长时间无新条目" in page
    assert "添加信息源" not in page and "/sources/broken/test" not in page


@pytest.mark.parametrize("login", ["chenjiaoyu", "wuzhuren"])
def test_a_non_duty_post_is_403(desk_server: RunningDesk, sign_in: SignIn, feed_url: str, login: str) -> None:
    client = sign_in(login)
    assert client.get("/sources").status_code == 200
    token = csrf_of(client, "/sources")
    for path, data in [("/sources", {"name": "x", "kind": "feed", "url": feed_url}), ("/sources/x/test", {}),
                       ("/sources/x/disable", {}), ("/sources/x/enable", {})]:
        assert client.post(path, data={"csrf": token, **data}).status_code == 403, path
    assert desk_server.site.settings is not None
    assert not desk_server.site.settings.effective_sources_file.exists()
