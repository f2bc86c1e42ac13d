"""Duplicates across a restart and reprints across two sites (near-duplicate and link)."""

from __future__ import annotations

import datetime as dt

from mon_builders import records, rss2
from mon_helpers import Item, Reprint, Source, cycle, stored
from mon_server import Reply

from monitor.config import DedupeSection
from monitor.dedupe import ReprintFinder
from store.database import make_engine, session_factory, session_scope


def test_duplicates_across_a_restart(server, make_monitor):
    url = server.static("/feed.xml", rss2(records("gov-messages-hot")[:8]))
    sources = [{"name": "hot", "kind": "feed", "url": url}]
    assert cycle(make_monitor(sources))["hot"].new == 8
    restarted = make_monitor(sources)  # new engine, fetcher and pipeline on the same database file
    result = cycle(restarted)["hot"]
    assert (result.new, result.unchanged) == (0, 8)
    assert len(stored(restarted, Item)) == 8


def test_same_content_under_new_ids_is_a_duplicate(server, make_monitor):
    rows = list(records("gov-messages-hot")[:3])
    first = server.static("/f1.xml", rss2(rows, base="http://a.gov.cn/m/"))
    monitor = make_monitor([{"name": "s", "kind": "feed", "url": first}])
    cycle(monitor)
    server.static("/f1.xml", rss2(rows, base="http://a.gov.cn/renumbered/"))
    result = cycle(monitor)["s"]
    assert (result.new, result.duplicates) == (0, 3)


def _perturbed(text: str) -> str:
    chars = [c for i, c in enumerate(text) if i % 23 != 7]  # drop ~4% of characters
    return "【转载】" + "".join(chars).replace("，", ",") + "（来源：某网 编辑：李四）"


def test_reprint_across_two_sites(server, make_monitor, clock):
    rows = [r for r in records("gov-messages-hot") if len(r["text"]) > 120][:3]
    copies = [dict(r, id=f"c{r['id']}", title=r["title"] + "（转）", text=_perturbed(r["text"])) for r in rows]
    unrelated = [r for r in records("gov-messages-hot")[200:203]]
    a = server.static("/orig.xml", rss2(rows, base="http://www.site-a.gov.cn/n/"))
    b = server.static("/copy.xml", rss2(copies + unrelated, base="http://news.people.com.cn/r/"), host="localhost")
    b = server.url("/copy.xml", host="localhost")
    monitor = make_monitor([{"name": "a", "kind": "feed", "url": a}])
    cycle(monitor)
    monitor = make_monitor([{"name": "a", "kind": "feed", "url": a}, {"name": "b", "kind": "feed", "url": b}])
    result = cycle(monitor, "b")["b"]
    assert result.new == 6 and result.reprints == 3
    items = {i.external_id: i for i in stored(monitor, Item)}
    reprints = stored(monitor, Reprint)
    assert len(reprints) == 3
    for row, copy in zip(rows, copies, strict=False):
        original = items[f"http://www.site-a.gov.cn/n/{row['id']}"]
        reprint = items[f"http://news.people.com.cn/r/{copy['id']}"]
        assert reprint.reprint_of_id == original.id
        link = next(r for r in reprints if r.reprint_id == reprint.id)
        assert (link.original_id, link.method, link.host, link.weight) == (
            original.id, "near_duplicate", "news.people.com.cn", 1.0)
        assert 0.6 <= link.similarity < 1.0
    for row in unrelated:
        assert items[f"http://news.people.com.cn/r/{row['id']}"].reprint_of_id is None


def test_reprint_by_link(server, make_monitor):
    row = records("gov-messages-replies")[3]
    original_url = f"http://www.site-a.gov.cn/n/{row['id']}"
    a = server.static("/orig.xml", rss2([row], base="http://www.site-a.gov.cn/n/"))
    comment = dict(row, id="x1", title="网友评论", text=f"这件事说明问题。原文：<a href=\"{original_url}\">链接</a>")
    b = server.route("/b.xml", lambda _r: Reply(200, rss2([comment], base="http://bbs.example.com/t/")))
    monitor = make_monitor([{"name": "a", "kind": "feed", "url": a}, {"name": "b", "kind": "feed", "url": b}])
    cycle(monitor, "a")
    cycle(monitor, "b")
    [link] = stored(monitor, Reprint)
    assert link.method == "link" and link.host == "bbs.example.com" and link.weight == 0.5


def test_short_texts_match_only_exactly(server, make_monitor):
    policy = DedupeSection()
    assert policy.min_chars > len("谣言已辟谣")
    short = {"id": 1, "title": "", "text": "谣言已辟谣", "time": "2019/1/1 10:00:00"}
    other = dict(short, id=2, text="谣言已辟谣了")
    a = server.static("/a.xml", rss2([short], base="http://a.cn/"))
    b = server.static("/b.xml", rss2([other], base="http://b.cn/"))
    monitor = make_monitor([{"name": "a", "kind": "feed", "url": a}, {"name": "b", "kind": "feed", "url": b}])
    cycle(monitor, "a")
    cycle(monitor, "b")
    assert stored(monitor, Reprint) == []


def test_weight_by_host(playbook):
    weights = playbook.source_weights
    assert weights.weight("www.gov.cn", "auto") == weights.major
    assert weights.weight("sh.people.com.cn", "auto") == weights.major
    assert weights.weight("bbs.example.com", "auto") == weights.other
    assert weights.weight("bbs.example.com", "major") == weights.major
    assert weights.weight("www.gov.cn", "other") == weights.other  # the source's own class wins


def test_the_reprint_index_holds_only_the_dedupe_window(store_url):
    """The index reads originals stored inside the window, and forgets them as the window moves on:
    a store of a year's items does not sit in memory to find this week's reprints."""
    policy = DedupeSection(window=dt.timedelta(days=30))
    now = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC)
    engine = make_engine(store_url)
    try:
        with session_scope(session_factory(engine)) as session:
            src = Source(name="s", kind="feed", url="http://a.gov.cn/")
            session.add(src)
            session.flush()
            for n, age in enumerate((40, 20, 5, 1)):  # days before now
                session.add(Item(source_id=src.id, external_id=f"x{n}", title="", text=f"t{n}",
                                 content_hash=f"h{n}", signature=1000 + n, fetched_at=now - dt.timedelta(days=age)))
            session.flush()
            finder = ReprintFinder(policy)
            finder.refresh(session, now)
            assert len(finder) == 3  # the 40-day-old item was never read
            finder.refresh(session, now + dt.timedelta(days=12))
            assert len(finder) == 2  # the 20-day-old one left the window
            finder.refresh(session, now + dt.timedelta(days=40))
            assert len(finder) == 0
    finally:
        engine.dispose()
