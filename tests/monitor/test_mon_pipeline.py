"""The pipeline's cluster and store steps: events persisted with heat and centroid; reprints join them."""

from __future__ import annotations

import datetime as dt

from mon_builders import records

from monitor.items import NormalisedItem
from monitor.store import session_scope
from monitor.store.models import Event, Item, Source


def _item(source: str, row: dict, **changes) -> NormalisedItem:
    base = dict(source=source, external_id=str(row["id"]), title=row["title"], text=row["text"],
                url=f"http://{source}.example.com/{row['id']}",
                published_at=dt.datetime(2026, 11, 23, 1, 0, tzinfo=dt.UTC), likes=row.get("likes", 0))
    base.update(changes)
    return NormalisedItem(**base)


def test_events_are_persisted_and_reprints_join_the_original_event(make_monitor, clock):
    monitor = make_monitor([])
    hot = records("gov-messages-hot", 600)
    by_body: dict[str, list[dict]] = {}
    for row in hot:
        by_body.setdefault(row["text"], []).append(row)
    twins = next(group for group in by_body.values() if len(group) > 1 and len(group[0]["text"]) > 60)
    other = next(r for r in hot if r["text"] != twins[0]["text"] and len(r["text"]) > 60)
    with session_scope(monitor.sessions) as session:
        a = Source(name="a", kind="feed", url="http://a.example.com/")
        b = Source(name="b", kind="feed", url="http://b.example.com/")
        session.add_all([a, b])
        session.flush()
        first = monitor.pipeline.process(session, a, [_item("a", twins[0]), _item("a", other)], clock())
        second = monitor.pipeline.process(
            session, b, [_item("b", twins[1], title=twins[1]["title"] + "（转载）")], clock()
        )
    assert first.new == 2 and second.reprints == 1
    with session_scope(monitor.sessions) as session:
        items = {(i.source_id, i.external_id): i for i in session.query(Item)}
        original = items[(1, str(twins[0]["id"]))]
        reprint = items[(2, str(twins[1]["id"]))]
        assert reprint.reprint_of_id == original.id
        assert reprint.event_id == original.event_id is not None
        event = session.get(Event, original.event_id)
        assert event.item_count == 2 and event.heat > 0
        assert event.heat_breakdown["parts"] and event.centroid["centroid"]
        assert items[(1, str(other["id"]))].event_id != event.id


def test_rumour_model_judges_only_the_playbook_source_kinds(make_monitor, clock, playbook):
    monitor = make_monitor([])
    post = records("weibo-rumours", 5)[0]
    row = {"id": "p1", "title": "", "text": post["text"]}
    with session_scope(monitor.sessions) as session:
        weibo = Source(name="w", kind="weibo", url="http://w.example.com/")
        board = Source(name="m", kind="portal", url="http://m.example.com/")
        session.add_all([weibo, board])
        session.flush()
        monitor.pipeline.process(session, weibo, [_item("w", row)], clock())
        monitor.pipeline.process(session, board, [_item("m", row)], clock())
    with session_scope(monitor.sessions) as session:
        judged = {i.source.kind: (i.rumour_probability, i.rumour_verdict, i.category) for i in session.query(Item)}
    assert playbook.rumour.source_kinds == ["weibo"]
    assert judged["weibo"][0] is not None and judged["weibo"][1] is not None
    assert judged["portal"][:2] == (None, None) and judged["portal"][2] is not None  # still categorised


def test_a_repost_joins_its_originals_event(make_monitor, clock):
    monitor = make_monitor([])
    original = {
        "id": "o1",
        "title": "",
        "text": "听说长春市自来水被化工厂污染了，全市要停水三天，大家赶紧去超市抢桶装水",
    }
    repost = {"id": "o1r", "title": "", "text": "真的假的？已经去超市了"}
    with session_scope(monitor.sessions) as session:
        weibo = Source(name="w", kind="weibo", url="http://w.example.com/")
        session.add(weibo)
        session.flush()
        monitor.pipeline.process(session, weibo, [_item("w", original)], clock())
        monitor.pipeline.process(session, weibo, [_item("w", repost, repost_of_external_id="o1")], clock())
    with session_scope(monitor.sessions) as session:
        rows = {i.external_id: i for i in session.query(Item)}
        assert rows["o1r"].repost_of_id == rows["o1"].id
        assert rows["o1r"].event_id == rows["o1"].event_id is not None


def test_reposts_doubting_a_post_are_read_into_its_rumour_probability(make_monitor, clock):
    monitor = make_monitor([])
    original = {
        "id": "r1",
        "title": "",
        "text": "紧急扩散！听说市区自来水被化工厂污染了，全市要停水三天，大家赶紧去超市抢桶装水",
    }
    doubts = ["谣言吧，官方已经辟谣了", "假的，别传了", "求证一下，真的吗？", "已辟谣，不实信息", "别信谣言"]
    with session_scope(monitor.sessions) as session:
        weibo = Source(name="w", kind="weibo", url="http://w.example.com/")
        session.add(weibo)
        session.flush()
        monitor.pipeline.process(session, weibo, [_item("w", original)], clock())
    with session_scope(monitor.sessions) as session:
        before = session.query(Item).one().rumour_probability
        weibo = session.query(Source).one()
        reposts = [
            _item(
                "w",
                {"id": f"r1-{n}", "title": "", "text": text},
                repost_of_external_id="r1",
                published_at=dt.datetime(2026, 11, 23, 1, 5 + n, tzinfo=dt.UTC),
            )
            for n, text in enumerate(doubts)
        ]
        monitor.pipeline.process(session, weibo, reposts, clock())
    with session_scope(monitor.sessions) as session:
        after = session.query(Item).filter(Item.external_id == "r1").one()
        assert before is not None and after.rumour_probability > before
        assert session.get(Event, after.event_id).rumour_probability >= after.rumour_probability


def test_after_a_restart_items_join_a_routed_event(make_monitor, clock):
    """The clusterer is rebuilt from the store: an event already assigned keeps gathering its items."""
    text = "长春市南关区多个小区连续三天停暖，室内温度只有十度，居民多次拨打热线无人处理，请尽快解决"
    first = make_monitor([])
    with session_scope(first.sessions) as session:
        source = Source(name="w", kind="weibo", url="http://w.example.com/")
        session.add(source)
        session.flush()
        first.pipeline.process(session, source, [_item("w", {"id": "a", "title": "", "text": text})], clock())
        session.query(Event).one().status = "assigned"
    again = make_monitor([])  # a new process: same store, fresh clusterer
    with session_scope(again.sessions) as session:
        source = session.query(Source).one()
        again.pipeline.process(session, source, [_item("w", {"id": "b", "title": "", "text": text + "！"})], clock())
    with session_scope(again.sessions) as session:
        assert session.query(Item).count() == 2 and session.query(Event).count() == 1
        assert {i.event_id for i in session.query(Item)} == {session.query(Event).one().id}
