"""The whole service on one loop against the fake Bot API: alerts out, a stop, a restart, nothing repeated."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from sqlalchemy import select
from support.fake_bot_api import FakeBotAPI

from monitor.wiring import Monitor
from playbooks.members import load_members
from responders.outbox import OutboxSender, SendReport
from store.database import make_engine, migrate, session_factory, session_scope
from store.models import Case, Event, Item, OutboxMessage, Source
from yuqing import service as service_module
from yuqing.cadence import Cadence
from yuqing.service import Service, load_service_members
from yuqing.settings import Settings, SettingsError

FAST = Cadence(outbox_every=0.05, cycle_every=0.05, health_every=0.05)


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


class Rounds:
    """Counts the running service's finished rounds, in order: its responders cycles and outbox rounds.

    The service keeps no count of its own, so the test wraps the two callables its loops call.
    """

    def __init__(self) -> None:
        self.log: list[str] = []
        self._changed = asyncio.Event()

    def _finished(self, name: str) -> None:
        self.log.append(name)
        self._changed.set()

    def watch(self, service: Service, monkeypatch: pytest.MonkeyPatch) -> None:
        rounds, cycle = self, service._cycle

        async def counted_cycle(monitor: Monitor) -> None:
            try:
                await cycle(monitor)
            finally:
                rounds._finished("cycle")

        class CountedSender(OutboxSender):
            async def run_once(self) -> SendReport:
                try:
                    return await super().run_once()
                finally:
                    rounds._finished("outbox")

        monkeypatch.setattr(service, "_cycle", counted_cycle)
        monkeypatch.setattr(service_module, "OutboxSender", CountedSender)

    def outbox_rounds_after(self, cycles: int) -> int:
        """How many outbox rounds finished after the *cycles*-th responders cycle."""
        seen = 0
        for i, name in enumerate(self.log):
            seen += name == "cycle"
            if seen == cycles:
                return self.log[i + 1:].count("outbox")
        return 0

    async def wait(self, cycles: int, outbox_rounds: int, timeout: float = 30.0) -> None:
        """Until *cycles* cycles have run and then *outbox_rounds* outbox rounds have delivered what they queued."""
        async with asyncio.timeout(timeout):
            while self.outbox_rounds_after(cycles) < outbox_rounds:
                self._changed.clear()
                await self._changed.wait()


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


def test_service_delivers_stops_and_resumes_without_repeats(settings, api, playbook, monkeypatch) -> None:
    add_hot_event(settings)
    members = load_service_members(settings, playbook)
    assert members.duty.chat_id == -777  # YUQING_DUTY_CHAT_ID wins over the file
    asyncio.run(run_until(Service(settings, playbook, members, cadence=FAST), api, 5))
    engine = make_engine(settings.effective_database_url)
    with session_scope(session_factory(engine)) as session:
        alerts = list(session.scalars(select(OutboxMessage)))
        cases = list(session.scalars(select(Case)))
        assert len(cases) == 4 and {a.state for a in alerts} == {"sent"}
        assert {c.state for c in cases} == {"notified"}
        assert any(a.chat_id == "-777" and a.kind == "event" for a in alerts)
    sent_before = len(api.sent())
    # a restart: the same events are looked at again, nothing is sent twice
    service = Service(settings, playbook, members, cadence=FAST)
    rounds = Rounds()
    rounds.watch(service, monkeypatch)

    async def restart() -> None:
        task = asyncio.create_task(service.run())
        try:
            # three responders cycles, each delivered by the outbox rounds after it: a repeat would have been sent
            await rounds.wait(cycles=3, outbox_rounds=2)
        finally:
            service.stop()
            await task

    asyncio.run(restart())
    assert len(api.sent()) == sent_before
    engine.dispose()


def test_telegram_backend_needs_a_token(settings, playbook) -> None:
    members = load_members(settings.effective_members_file, playbook)
    with pytest.raises(SettingsError, match="YUQING_TELEGRAM_TOKEN"):
        Service(settings.model_copy(update={"telegram_token": None}), playbook, members)
