"""*Now*: the last 24 h ranked by heat, filters, a liaison's narrower view, and the live stream."""

from __future__ import annotations

import datetime as dt
import threading

import httpx
from desk_support import RunningDesk, Seed, SignIn

from store.types import utcnow


def test_events_of_the_last_day_hottest_first(sign_in: SignIn, seed: Seed) -> None:
    cool = seed("某路段积水", category="市政", heat=12.0, items=3)
    hot = seed("网传某化工厂爆炸", category="环保", heat=80.0, items=5, emergency=True)
    old = seed("上周的旧事件", heat=99.0, seen=utcnow() - dt.timedelta(days=3))
    page = sign_in("wangzhiban").get("/now").text
    assert page.index(f"#{hot} ") < page.index(f"#{cool} ")
    assert f"#{old} " not in page
    assert 'class="emergency"' in page and "<svg" in page  # the sparkline of items per hour


def test_filters_by_category_place_and_department(sign_in: SignIn, seed: Seed) -> None:
    school = seed("某小学乱收费", category="教育", departments=("省教育厅",), places=["长春市"])
    bus = seed("公交线路调整", category="交通", places=["延吉市"])
    client = sign_in("wangzhiban")
    assert f"#{school} " in client.get("/now", params={"category": "教育"}).text
    assert f"#{bus} " not in client.get("/now", params={"category": "教育"}).text
    assert f"#{bus} " in client.get("/now", params={"place": "延吉市"}).text
    assert f"#{school} " not in client.get("/now", params={"place": "延吉市"}).text
    by_department = client.get("/now", params={"department": "省教育厅"}).text
    assert f"#{school} " in by_department and f"#{bus} " not in by_department


def test_a_liaison_sees_only_events_its_units_answer_for(sign_in: SignIn, seed: Seed) -> None:
    mine = seed("某小学乱收费", departments=("省教育厅",))
    other = seed("公交线路调整", category="交通", departments=("省交通厅",))
    page = sign_in("chenjiaoyu").get("/now").text
    assert f"#{mine} " in page and f"#{other} " not in page
    assert f"#{other} " not in sign_in("chenjiaoyu").get("/now", params={"department": "省交通厅"}).text


def test_the_stream_says_when_a_new_event_is_stored(desk_server: RunningDesk, sign_in: SignIn, seed: Seed) -> None:
    client = sign_in("wangzhiban")
    said: list[str] = []
    opened = threading.Event()

    def listen() -> None:
        with client.stream("GET", "/now/stream", timeout=30) as answer:
            for line in answer.iter_lines():
                opened.set()
                said.append(line)
                if line.startswith("event: events"):
                    return

    listener = threading.Thread(target=listen, daemon=True)
    listener.start()
    assert opened.wait(20)
    new = seed("刚刚发生的新事件", heat=50.0)
    listener.join(30)
    assert "event: events" in said
    assert f"#{new} " in client.get("/now/rows").text


def test_the_stream_ends_when_the_server_stops(desk_server: RunningDesk, sign_in: SignIn) -> None:
    client = sign_in("wangzhiban")
    ended = threading.Event()

    def listen() -> None:
        try:
            with client.stream("GET", "/now/stream", timeout=30) as answer:
                for _ in answer.iter_lines():
                    pass
        except httpx.HTTPError:
            pass
        ended.set()

    threading.Thread(target=listen, daemon=True).start()
    desk_server.stop()
    assert ended.wait(20)
