"""Store batches: the pages of many sources go through the pipeline together (one classification call for
all their new items), and a page the store refuses costs only its own source's poll."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Sequence
from typing import Any

from mon_builders import records, rss2
from mon_helpers import sources_config
from mon_server import Reply

from monitor.fetch import Fetcher
from monitor.items import NormalisedItem
from monitor.pipeline import Annotation, Annotator, Reaction, SourceBatch
from monitor.poll import PollResult
from monitor.wiring import build_monitor
from store import session_scope
from store.models import Item, Source


class CountingAnnotator:
    """The bundled models, with a record of each batch they were asked to classify; optionally refusing
    one text (as a model that fails on an input would)."""

    def __init__(self, models: Annotator, refuse: str | None = None) -> None:
        self.models = models
        self.refuse = refuse
        self.batches: list[int] = []

    def annotate(self, item: NormalisedItem | Item, reactions: Sequence[Reaction] = ()) -> Annotation:
        return self.annotate_many([item], [reactions])[0]

    def annotate_many(self, items: Sequence[NormalisedItem | Item],
                      reactions: Sequence[Sequence[Reaction]] | None = None) -> list[Annotation]:
        if self.refuse is not None and any(self.refuse in (item.text or "") for item in items):
            raise ValueError("the model cannot read this text")
        self.batches.append(len(items))
        return self.models.annotate_many(items, reactions)


def _item(source: str, row: dict[str, Any], **changes: Any) -> NormalisedItem:
    base = dict(source=source, external_id=str(row["id"]), title=row["title"], text=row["text"],
                url=f"http://{source}.example.com/{row['id']}",
                published_at=dt.datetime(2026, 11, 23, 1, 0, tzinfo=dt.UTC))
    base.update(changes)
    return NormalisedItem(**base)


def test_many_sources_pages_are_classified_in_one_call_and_a_reprint_across_them_is_found(
        db_url, playbook, clock, trained_annotator):
    annotator = CountingAnnotator(trained_annotator)
    monitor = build_monitor(db_url, sources_config([]), playbook, clock=clock, annotator=annotator)
    hot = records("gov-messages-hot", 600)
    by_body: dict[str, list[dict[str, Any]]] = {}
    for row in hot:
        by_body.setdefault(row["text"], []).append(row)
    twins = next(group for group in by_body.values() if len(group) > 1 and len(group[0]["text"]) > 60)
    others = [r for r in hot if r["text"] != twins[0]["text"] and len(r["text"]) > 60][:3]
    with session_scope(monitor.sessions) as session:
        a, b, c = (Source(name=n, kind="feed", url=f"http://{n}.example.com/") for n in "abc")
        session.add_all([a, b, c])
        session.flush()
        results = monitor.pipeline.process_many(session, [
            SourceBatch(a, [_item("a", twins[0]), _item("a", others[0])]),
            SourceBatch(b, [_item("b", twins[1], title=twins[1]["title"] + "（转载）")]),
            SourceBatch(c, [_item("c", others[1]), _item("c", others[2])]),
        ], clock())
    assert [(r.new, r.reprints) for r in results] == [(2, 0), (1, 1), (2, 0)]
    assert annotator.batches == [5]  # every new item of the batch in one call
    with session_scope(monitor.sessions) as session:
        items = {(i.source.name, i.external_id): i for i in session.query(Item)}
        original, reprint = items[("a", str(twins[0]["id"]))], items[("b", str(twins[1]["id"]))]
        assert reprint.reprint_of_id == original.id and reprint.event_id == original.event_id is not None
        assert all(i.category is not None and i.event_id is not None for i in items.values())
    monitor.engine.dispose()


def test_a_page_the_store_refuses_fails_only_its_source_and_is_stored_once_it_can_be(
        server, db_url, playbook, clock, trained_annotator):
    rows = [r for r in records("gov-messages", 40) if len(r["text"]) > 30][:6]
    bad = rows[0]["text"]

    def feed(k: int) -> str:
        body = rss2(rows[k:k + 1])
        return server.route(f"/f{k}", lambda _r: Reply(200, body, {"Content-Type": "application/rss+xml",
                                                                      "ETag": '"v1"'}))

    config = sources_config([{"name": f"feed{k}", "kind": "feed", "url": feed(k)} for k in range(6)])
    annotator = CountingAnnotator(trained_annotator, refuse=bad)
    monitor = build_monitor(db_url, config, playbook, fetcher=Fetcher(config.fetch.limits()), clock=clock,
                            annotator=annotator)

    async def two_cycles() -> tuple[list[PollResult], list[PollResult]]:
        first = await monitor.poller.poll_cycle()
        annotator.refuse = None  # the model is fixed; the refused page comes again
        clock.advance(monitor.poller.policy.max_interval)
        again = await monitor.poller.poll_cycle()
        await monitor.poller.aclose()
        return first, again

    first, again = asyncio.run(two_cycles())
    by_name = {r.source: r for r in first}
    assert by_name["feed0"].status == "error"
    assert "[feed0]" in (by_name["feed0"].error or "") and "fetched again next poll" in (by_name["feed0"].error or "")
    assert all(by_name[f"feed{k}"].status == "ok" and by_name[f"feed{k}"].new == 1 for k in range(1, 6))
    assert {r.source: r.new for r in again} == {"feed0": 1, **{f"feed{k}": 0 for k in range(1, 6)}}
    with session_scope(monitor.sessions) as session:
        stored = [text for (text,) in session.execute(Item.__table__.select().with_only_columns(Item.text))]
    assert sorted(stored) == sorted(r["text"] for r in rows)  # each once, the refused one too
    monitor.engine.dispose()
