"""Hostile sources: the fetch policy (SSRF) and the total deadline, against real servers on 127.0.0.1.

The SSRF cases assert the refusal happens before any connection: the refused targets are
either never resolved and connected (address literals, metadata names, schemes) or are a
loopback server whose hit log stays empty. No packet leaves this machine.
"""

from __future__ import annotations

import asyncio
import time

import pytest
from click.testing import CliRunner
from mon_builders import records, rss2
from mon_helpers import cycle
from mon_server import LoopbackServer, Reply

from monitor.errors import FetchTimeout, RefusedURL
from monitor.fetch import Fetcher, FetchLimits
from monitor.netpolicy import NEVER, FetchPolicy
from monitor.urls import redact_url
from yuqing.cli import main


def _get(url: str, **limits: object):
    async def run():
        async with Fetcher(FetchLimits(connect_timeout=2, read_timeout=2, per_host_min_delay=0, **limits)) as f:
            return await f.get(url, source="hostile")
    return asyncio.run(run())


@pytest.mark.parametrize("url, reason", [
    ("http://169.254.169.254/latest/meta-data/", "link-local"),
    ("http://[fe80::1]/", "link-local"),
    ("http://[::ffff:169.254.169.254]/", "link-local"),
    ("http://0.0.0.0/", "not a host address"),
    ("http://224.0.0.1/", "not a host address"),
    ("http://100.100.100.200/latest/meta-data/", "metadata"),
    ("http://metadata.google.internal/computeMetadata/v1/", "metadata"),
    ("file:///etc/passwd", "not file:"),
    ("ftp://127.0.0.1/x", "not ftp:"),
    ("gopher://127.0.0.1/x", "not gopher:"),
    ("javascript:alert(1)", "not javascript:"),
    ("data:,hello", "not data:"),
    ("http://", "no host"),
])
def test_never_fetchable_urls_are_refused_before_anything_is_sent(url, reason):
    with pytest.raises(RefusedURL) as info:
        _get(url)
    assert reason in str(info.value) and "[hostile]" in str(info.value)
    with pytest.raises(RefusedURL):
        NEVER.check_url(url)


def test_loopback_and_private_are_allowed_by_default_and_each_can_be_switched_off():
    import ipaddress

    default = FetchPolicy()
    assert default.address_problem(ipaddress.ip_address("127.0.0.1")) is None
    assert default.address_problem(ipaddress.ip_address("10.1.2.3")) is None
    assert "loopback" in FetchPolicy(allow_loopback=False).address_problem(ipaddress.ip_address("::1"))
    assert "private" in FetchPolicy(allow_private=False).address_problem(ipaddress.ip_address("192.168.1.9"))
    assert FetchPolicy(allow_private=False).address_problem(ipaddress.ip_address("127.0.0.1")) is None


def test_a_name_resolving_to_a_refused_address_is_refused_at_connect_time(server):
    url = server.static("/feed.xml", rss2(records("gov-messages")[:1]))
    named = url.replace("127.0.0.1", "localhost")
    with pytest.raises(RefusedURL) as info:
        _get(named, allow_loopback=False)
    assert "localhost resolves to a refused address" in str(info.value)
    assert server.hits == []  # refused after DNS, before connecting
    assert _get(named).status == 200  # allowed by default


def test_redirects_to_metadata_other_schemes_or_other_local_services_are_refused(server):
    with LoopbackServer() as other:
        other.static("/admin", b"secret")
        hops = {
            "/to-metadata": "http://169.254.169.254/latest/meta-data/",
            "/to-file": "file:///etc/passwd",
            "/to-other-port": other.url("/admin"),
            "/to-other-port-by-name": other.url("/admin", host="localhost"),
        }
        for path, target in hops.items():
            server.route(path, lambda _r, t=target: Reply(302, b"", {"Location": t}))
            with pytest.raises(RefusedURL) as info:
                _get(server.url(path))
            assert "[hostile]" in str(info.value), path
        assert other.hits == []
    body = rss2(records("gov-messages")[:1])
    server.static("/feed.xml", body)
    server.route("/moved", lambda _r: Reply(301, b"", {"Location": "/feed.xml"}))
    assert _get(server.url("/moved")).content == body  # a redirect on the same origin is followed


def test_credentials_never_appear_in_errors(server):
    url = server.url("/missing").replace("http://", "http://officer:hunter2@")
    with pytest.raises(Exception) as info:
        _get(url)
    assert "hunter2" not in str(info.value) and "officer" not in str(info.value)
    assert redact_url("https://u:p@example.org:8443/a?b=1") == "https://example.org:8443/a?b=1"


def test_a_slow_drip_source_is_cut_off_by_the_total_deadline(server):
    drip = server.route("/drip", lambda _r: Reply(200, (b"x" for _ in range(600)), chunk_delay=0.05))
    with pytest.raises(FetchTimeout) as info:
        _get(drip, total_timeout=0.5)
    assert "in total" in str(info.value) and drip in str(info.value)


def test_poll_once_prints_its_table_while_one_source_drips(server, tmp_path):
    good = server.static("/good.xml", rss2(records("gov-messages")[:2]))
    server.route("/drip", lambda _r: Reply(200, (b"<" for _ in range(600)), chunk_delay=0.05))
    env = {"YUQING_DATA_DIR": str(tmp_path), "YUQING_MODELS_DIR": str(tmp_path / "none"),
           "YUQING_FETCH_DEADLINE": "1"}
    runner = CliRunner()
    for name, url in (("good", good), ("drip", server.url("/drip"))):
        assert runner.invoke(main, ["sources", "add", "--kind", "feed", "--url", url, "--name", name],
                             env=env).exit_code == 0
    started = time.monotonic()
    polled = runner.invoke(main, ["poll", "--once"], env=env)
    assert time.monotonic() - started < 25  # a bound far above the deadline, not a timing assert
    assert polled.exit_code == 0, polled.output
    assert "good" in polled.output and "gave up after 1 s in total" in polled.output


def test_sources_add_refuses_what_can_never_be_fetched(tmp_path):
    env = {"YUQING_DATA_DIR": str(tmp_path)}
    runner = CliRunner()
    for url in ("http://169.254.169.254/latest/meta-data/", "file:///etc/passwd", "ftp://x.example/",
                "gopher://x.example/", "javascript:alert(1)", "data:,x", "http://"):
        added = runner.invoke(main, ["sources", "add", "--kind", "feed", "--url", url, "--name", "bad"], env=env)
        assert added.exit_code == 1 and "sources.0.url" in added.output, (url, added.output)
    assert not (tmp_path / "sources.yaml").exists()


def test_a_refused_source_in_a_cycle_is_an_error_row_not_a_crash(make_monitor, server):
    good = server.static("/good.xml", rss2(records("gov-messages")[:2]))
    server.route("/evil", lambda _r: Reply(302, b"", {"Location": "http://169.254.169.254/"}))
    monitor = make_monitor([{"name": "good", "kind": "feed", "url": good},
                            {"name": "evil", "kind": "feed", "url": server.url("/evil")}])
    results = cycle(monitor)
    assert results["good"].new == 2
    assert results["evil"].status == "error" and "link-local" in results["evil"].error


def test_one_poll_of_a_source_has_its_own_deadline(make_monitor, server):
    server.route("/drip", lambda _r: Reply(200, (b"<" for _ in range(600)), chunk_delay=0.05))
    good = server.static("/good.xml", rss2(records("gov-messages")[:1]))
    monitor = make_monitor([{"name": "drip", "kind": "feed", "url": server.url("/drip")},
                            {"name": "good", "kind": "feed", "url": good}],
                           fetch={"source_timeout": 0.5, "total_timeout": 60})
    results = cycle(monitor)
    assert results["good"].new == 1
    assert results["drip"].status == "error" and "the poll took more than 0.5 s" in results["drip"].error


def test_plain_text_in_a_feed_is_kept_as_written(make_monitor, server):
    from mon_helpers import Item, stored

    written = "1 < 2 && 3 > 2 <i 教育 收费 </b>"
    escaped = written.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    atom = (f'<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>t</title>'
            f'<entry><id>p1</id><title type="text">{escaped}</title><content type="text">{escaped}</content>'
            f'<updated>2026-11-23T08:00:00Z</updated></entry></feed>').encode()
    url = server.static("/plain.xml", atom, "application/atom+xml")
    monitor = make_monitor([{"name": "plain", "kind": "feed", "url": url}])
    assert cycle(monitor)["plain"].new == 1
    [item] = stored(monitor, Item)
    assert item.title == written and item.text == written
