"""The pipeline's cluster and store steps: events persisted with heat and centroid; reprints join them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import pytest
from mon_builders import records

from monitor.config import parse_sources
from monitor.items import NormalisedItem
from monitor.pipeline import Annotation, Annotator, Reaction
from monitor.wiring import build_monitor
from store import session_scope
from store.models import Event, Item, Source


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


class KeywordAnnotator(Annotator):
    """A light stand-in for the models (its annotate_many is the protocol's loop): a category from a
    keyword, a rumour probability from the doubting reposts."""

    def annotate(self, item: NormalisedItem | Item, reactions: Sequence[Reaction] = ()) -> Annotation:
        category = "医疗" if "医" in (item.text or "") else "其他"
        p = min(1.0, 0.2 + 0.3 * sum("谣" in text or "假" in text for text, _ in reactions))
        return Annotation(category, {category: 1.0}, p, "待核实" if p >= 0.5 else "非谣言", (category,))


def test_a_batch_stores_what_one_item_at_a_time_stores(tmp_path, playbook, clock):
    """Duplicates and a repeated id inside the page, reposts of posts in the same page and of stored
    ones, events joined by several items: the batch leaves the rows that item-by-item processing does."""
    hot = records("gov-messages-hot", 60)
    first = [_item("w", r) for r in hot[:8]]
    page = [_item("w", r) for r in hot[8:40]]
    page.insert(5, _item("w", hot[9], external_id="again"))  # the same words under a new id: a duplicate
    page.insert(9, _item("w", hot[10], likes=40))  # the same id again, more likes: an update
    reposts = zip((1, 1, 12, 12, 30), ("谣言吧", "假的", "转发", "谣言", "求证"), strict=True)  # stored and new
    page += [_item("w", {"id": f"r{n}", "title": "", "text": text}, repost_of_external_id=str(hot[k]["id"]))
             for n, (k, text) in enumerate(reposts)]
    page += [_item("w", {"id": f"t{k}", "title": "", "text": hot[k]["text"] + "！"}) for k in (2, 3, 14)]

    def ingest(name: str, pages: list[list[NormalisedItem]]) -> tuple[list[int], list[tuple], list[tuple]]:
        config = parse_sources({"sources": []}, {}, "test-sources.yaml")
        monitor = build_monitor(f"sqlite:///{tmp_path / name}", config, playbook, annotator=KeywordAnnotator(),
                                clock=clock)
        with session_scope(monitor.sessions) as session:
            source = Source(name="w", kind="weibo", url="http://w.example.com/")
            session.add(source)
            session.flush()
            counts = [0, 0, 0, 0]
            for batch in pages:
                result = monitor.pipeline.process(session, source, batch, clock())
                for k, n in enumerate((result.new, result.updated, result.unchanged, result.duplicates)):
                    counts[k] += n
        with session_scope(monitor.sessions) as session:
            items = [(i.id, i.external_id, i.event_id, i.repost_of_id, i.likes, i.category, i.rumour_probability,
                      i.rumour_verdict) for i in session.query(Item).order_by(Item.id)]
            events = [(e.id, e.item_count, e.heat, e.category, e.rumour_probability, e.signals, e.places,
                       e.centroid, e.first_seen_at, e.last_seen_at) for e in session.query(Event).order_by(Event.id)]
        monitor.engine.dispose()
        return counts, items, events

    batched = ingest("batch.sqlite3", [first, page])
    single = ingest("single.sqlite3", [[item] for item in first + page])
    assert batched[0] == single[0] == [len(first) + len(page) - 2, 1, 0, 1]
    assert batched == single
    assert any(count > 1 for _, count, *_ in batched[2])  # some events gathered several items


def test_the_clusterer_holds_only_the_window_it_can_still_match(tmp_path, playbook, clock):
    """As time moves on the clusterer forgets clusters last seen before the window, as a restart would
    not load them; a similar item after that opens a new event, as it would after a restart."""
    config = parse_sources({"sources": []}, {}, "test-sources.yaml")
    monitor = build_monitor(f"sqlite:///{tmp_path / 'w.sqlite3'}", config, playbook, annotator=KeywordAnnotator(),
                            clock=clock)
    heating = "幸福小区冬季供暖温度不达标，暖气不热，居民多次反映无人处理"
    school = "实验小学周末违规补课收费，老师强制学生参加，家长不满"
    start = dt.datetime(2026, 11, 20, 1, 0, tzinfo=dt.UTC)

    def put(n: int, text: str, when: dt.datetime) -> int:
        with session_scope(monitor.sessions) as session:
            source = session.query(Source).one_or_none() or Source(name="w", kind="feed", url="http://w.example/")
            session.add(source)
            session.flush()
            monitor.pipeline.process(session, source, [_item("w", {"id": n, "title": "", "text": text},
                                                             published_at=when)], when)
            return session.query(Item).filter(Item.external_id == str(n)).one().event_id

    try:
        assigner = monitor.pipeline.events
        first = put(1, heating, start)
        assert put(2, heating + "！", start + dt.timedelta(days=1)) == first  # inside the window: joins
        put(3, school, start + dt.timedelta(days=3))
        assert len(assigner.clusterer) == 2
        later = put(4, heating + "。", start + dt.timedelta(days=5))  # heating last seen 4 days before
        assert later != first and len(assigner.clusterer) == 2  # heating forgot, school kept, new heating
    finally:
        monitor.engine.dispose()


def test_monitors_of_one_process_share_the_loaded_models_and_a_retrained_model_is_loaded_anew(
        playbook, tmp_path) -> None:
    import shutil

    from classifiers.modelio import DEFAULT_MODELS_DIR
    from monitor.annotate import default_annotator

    bundled = default_annotator(playbook, None)
    assert bundled is not None and default_annotator(playbook, None) is bundled  # loaded once, then shared
    assert default_annotator(playbook, tmp_path) is None  # no models there: items stored unannotated
    shutil.copytree(DEFAULT_MODELS_DIR, tmp_path, dirs_exist_ok=True)  # models trained into that folder
    loaded = default_annotator(playbook, tmp_path)
    assert loaded is not None and loaded is not bundled
    assert default_annotator(playbook, tmp_path) is loaded
    assert default_annotator(playbook, None) is bundled  # the failed load above did not push it out


def test_models_cut_with_another_tokenizer_stop_the_service_at_start(playbook, tmp_path) -> None:
    """Models not trained yet: items are stored unannotated. Models of another tokenizer than the playbook's
    are a mistake that would do the same to every item silently: the service refuses to start."""
    from monitor.config import SourcesFile
    from monitor.errors import ModelsMismatch

    other = playbook.model_copy(update={"tokenizer": "jieba" if playbook.tokenizer == "rjieba" else "rjieba"})
    monitor = build_monitor(f"sqlite:///{tmp_path / 'store.sqlite3'}", SourcesFile(), other)
    try:
        with pytest.raises(ModelsMismatch, match="yuqing train topic"):
            monitor.load_models()
    finally:
        monitor.engine.dispose()
    untrained = build_monitor(f"sqlite:///{tmp_path / 'other.sqlite3'}", SourcesFile(), playbook,
                              models_dir=tmp_path / "no-models")
    untrained.load_models()  # starts, storing items without a category until models are trained
    untrained.engine.dispose()


def test_a_poll_with_models_of_another_tokenizer_stores_nothing_and_says_why(server, playbook, tmp_path) -> None:
    """Not only the service: a one-off poll (or a worker) refuses to store items it cannot classify; each
    source's result names the command that fixes it, and the page is fetched again next poll."""
    import asyncio

    from mon_builders import rss2
    from mon_helpers import sources_config
    from mon_server import Reply

    body = rss2(records("gov-messages", 3))
    url = server.route("/feed", lambda _r: Reply(200, body, {"Content-Type": "application/rss+xml"}))
    other = playbook.model_copy(update={"tokenizer": "jieba" if playbook.tokenizer == "rjieba" else "rjieba"})
    monitor = build_monitor(f"sqlite:///{tmp_path / 'store.sqlite3'}",
                            sources_config([{"name": "feed", "kind": "feed", "url": url}]), other)

    async def poll() -> list:
        try:
            return await monitor.poller.poll_cycle()
        finally:
            await monitor.aclose()

    [result] = asyncio.run(poll())
    assert result.status == "error" and result.new == 0
    assert "yuqing train" in (result.error or "") and "fetched again next poll" in (result.error or "")
    with session_scope(monitor.sessions) as session:
        assert session.query(Item).count() == 0
