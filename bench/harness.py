"""The real service (``yuqing.service.Service``) wired to loopback feeds and the fake Bot API."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any, Self

import yaml
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from bench.botapi import TimedBotAPI
from bench.feedserver import FeedServer
from playbooks.loader import load_playbook
from playbooks.schema import Playbook
from responders.intake import SKIPPED_STATUSES, deserves_alert, event_items, facts_for
from store.database import make_engine
from store.models import Event, OutboxMessage
from yuqing.cadence import Cadence
from yuqing.service import Service, load_service_members
from yuqing.settings import Settings

DUTY_CHAT = -777


def write_sources(path: Path, server: FeedServer, *, interval: str = "1s", fetch: dict[str, Any] | None = None,
                  polling: dict[str, Any] | None = None) -> None:
    """A sources file with one feed source per served feed, polled about every *interval*."""
    data = {
        "fetch": {"per_host_min_delay": 0, "per_host_concurrency": 8, **(fetch or {})},
        "polling": {"min_interval": interval, "max_interval": interval, "backoff_base": "1s",
                    "backoff_cap": "5s", **(polling or {})},
        "sources": [{"name": f"feed{k}", "kind": "weibo" if server.is_weibo(k) else "feed", "url": server.url(k),
                     "interval": interval}
                    for k in range(server.n_feeds)],
    }
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


def bench_settings(tmp: Path, api: TimedBotAPI, models: Path) -> Settings:
    return Settings(data_dir=tmp, database_url=f"sqlite:///{tmp / 'store.sqlite3'}",
                    sources_file=tmp / "sources.yaml", chat_backend="telegram", telegram_token="1:BENCH",
                    telegram_api_url=api.base_url, models_dir=models, duty_chat_id=DUTY_CHAT,
                    log_level="WARNING")


class RunningService:
    """``async with RunningService(settings, cadence)``: the service runs until the block ends."""

    def __init__(self, settings: Settings, cadence: Cadence) -> None:
        playbook = load_playbook(settings.playbook)
        self.service = Service(settings, playbook, load_service_members(settings, playbook), cadence=cadence)
        self.task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Self:
        logging.getLogger().setLevel(logging.ERROR)  # faults are expected; their warnings are noise here
        for noisy in ("telegram", "apscheduler"):  # Bot API 502 bodies; jobs cancelled at shutdown
            logging.getLogger(noisy).setLevel(logging.CRITICAL)
        self.task = asyncio.create_task(self.service.run())
        return self

    async def __aexit__(self, *_exc: object) -> None:
        self.service.stop()  # what SIGTERM does
        assert self.task is not None
        await self.task


def engine_for(settings: Settings) -> Engine:
    return make_engine(settings.effective_database_url)


def unalerted_events(session: Session, playbook: Playbook) -> list[int]:
    """Events that deserve a duty alert (responders.intake's own rule) but have none queued."""
    alerted = set(session.scalars(select(OutboxMessage.event_id).where(OutboxMessage.kind == "event")))
    missing = []
    for event in session.scalars(select(Event).order_by(Event.id)):
        if event.id in alerted or event.status in SKIPPED_STATUSES:
            continue
        if deserves_alert(facts_for(event, event_items(session, event.id)), playbook):
            missing.append(event.id)
    return missing
