"""The whole service on one loop against the fake Bot API: alerts out, a stop, a restart, nothing repeated."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from monitor.store.database import make_engine, migrate, session_factory, session_scope
from monitor.store.models import Alert, Assignment, Event, Item, Source
from playbooks.members import load_members
from yuqing.service import Cadence, Service, load_service_members
from yuqing.settings import Settings, SettingsError

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "responders"))
from fake_bot_api import FakeBotAPI

FAST = Cadence(outbox_every=0.05, cycle_every=0.05, health_every=0.05)


@pytest.fixture
def api():
    server = FakeBotAPI().start()
    yield server
    server.stop()


@pytest.fixture
def settings(tmp_path, api) -> Settings:
    return Settings(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'store.sqlite3'}",
                    sources_file=tmp_path / "sources.yaml", chat_backend="telegram", telegram_token="1:TEST",
                    telegram_api_url=api.base_url, models_dir=tmp_path / "no-models", duty_chat_id=-777,
                    web_address="127.0.0.1:0")


def add_hot_event(settings: Settings) -> None:
    engine = make_engine(settings.effective_database_url)
    migrate(engine)
    with session_scope(session_factory(engine)) as session:
        source = Source(name="bbs", kind="portal", url="https://bbs.example.cn/")
        event = Event(title="长春市某小学强制补课收费", category="教育", heat=30.0, rumour_probability=0.1)
        session.add_all([source, event])
        session.flush()
        session.add(Item(source_id=source.id, external_id="1", title=event.title, text="每月收费800元",
                         content_hash="h1", event_id=event.id, url="https://bbs.example.cn/t/1"))
    engine.dispose()


async def run_until(service: Service, api: FakeBotAPI, count: int) -> None:
    task = asyncio.create_task(service.run())
    try:
        await asyncio.to_thread(api.wait_for, "sendMessage", count, 30.0)
        assert service.web is not None  # yuqing run serves the web desk beside the bot
        async with httpx.AsyncClient(base_url=service.web.address) as client:
            assert (await client.get("healthz")).text == "ok"
            assert "登录舆情工作台" in (await client.get("signin")).text
    finally:
        service.stop()  # what SIGTERM does
        await task


def test_service_delivers_stops_and_resumes_without_repeats(settings, api, playbook) -> None:
    add_hot_event(settings)
    members = load_service_members(settings, playbook)
    assert members.duty.chat_id == -777  # YUQING_DUTY_CHAT_ID wins over the file
    asyncio.run(run_until(Service(settings, playbook, members, cadence=FAST), api, 5))
    engine = make_engine(settings.effective_database_url)
    with session_scope(session_factory(engine)) as session:
        alerts = list(session.scalars(select(Alert)))
        cases = list(session.scalars(select(Assignment)))
        assert len(cases) == 4 and {a.state for a in alerts} == {"sent"}
        assert {c.state for c in cases} == {"notified"}
        assert any(a.chat_id == "-777" and a.kind == "event" for a in alerts)
    sent_before = len(api.sent())
    # a restart: the same events are looked at again, nothing is sent twice
    service = Service(settings, playbook, members, cadence=FAST)

    async def restart() -> None:
        task = asyncio.create_task(service.run())
        await asyncio.to_thread(api.wait_for, "getMe", 2, 30.0)  # the second start is up
        await asyncio.sleep(0.3)  # let a few rounds run; a repeat would show up as an extra sendMessage
        service.stop()
        await task

    asyncio.run(restart())
    assert len(api.sent()) == sent_before
    engine.dispose()


def test_telegram_backend_needs_a_token(settings, playbook) -> None:
    members = load_members(settings.effective_members_file, playbook)
    with pytest.raises(SettingsError, match="YUQING_TELEGRAM_TOKEN"):
        Service(settings.model_copy(update={"telegram_token": None}), playbook, members)
