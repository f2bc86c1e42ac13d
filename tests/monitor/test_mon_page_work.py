"""The cluster's hand-over between the poll and pipeline queues, and the scheduler's leases, on both stores."""

from __future__ import annotations

import datetime as dt
import json

from monitor.items import NormalisedItem
from monitor.page_work import Page, claim_due
from store.database import make_engine, session_factory, session_scope
from store.models import Source

NOW = dt.datetime(2026, 12, 7, 8, 0, tzinfo=dt.UTC)


def test_a_page_goes_through_json_as_it_was_fetched():
    item = NormalisedItem(source="board", external_id="42", title="标题", text="正文", url="http://a.cn/42",
                          published_at=NOW - dt.timedelta(hours=1), reply_at=NOW, reply_status="已回复",
                          links=("http://b.cn/1",), raw={"at": NOW, "n": float("inf"), "k": [1, 2]}, likes=3)
    page = Page("board", NOW, [item], etag='"v1"', last_modified="Mon", warnings=["cut"], keep_validators=False)
    back = Page.from_data(json.loads(json.dumps(page.to_data())))
    assert back == Page("board", NOW, [item], etag='"v1"', last_modified="Mon", warnings=["cut"],
                        keep_validators=False)
    assert back.items[0].raw == {"at": NOW.isoformat(), "n": "inf", "k": [1, 2]}  # as the pipeline stores raw
    assert back.items[0].content_hash == item.content_hash and back.outcome().etag == '"v1"'


def test_a_due_source_is_leased_to_one_poll_until_the_lease_runs_out(store_url):
    engine = make_engine(store_url)
    sessions = session_factory(engine)
    with session_scope(sessions) as session:
        session.add_all([Source(name="due", kind="feed", url="http://a.cn/f"),
                         Source(name="later", kind="feed", url="http://b.cn/f",
                                next_poll_at=NOW + dt.timedelta(minutes=20)),
                         Source(name="off", kind="feed", url="http://c.cn/f", enabled=False)])
    lease = dt.timedelta(minutes=15)
    with session_scope(sessions) as session:
        assert claim_due(session, NOW, lease) == ["due"]
    with session_scope(sessions) as session:
        assert claim_due(session, NOW + dt.timedelta(minutes=14), lease) == []
    with session_scope(sessions) as session:
        assert claim_due(session, NOW + lease, lease) == ["due"]
        assert claim_due(session, NOW + dt.timedelta(minutes=25), lease) == ["later"]  # "due" leased to :30
    engine.dispose()
