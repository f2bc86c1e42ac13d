"""Which chat the service talks through: one registry entry per ``YUQING_CHAT_BACKEND``.

A backend is a notifier for the outbox, the callback routes it needs on the web server, and
what to start and stop beside them (Telegram's long polling, the console's stdin reader). The
desk, the commands, the outbox and the audit trail are the same objects whatever the backend.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from playbooks.members import Members
from responders.cases import Actor
from responders.chat.conversation import Conversation
from responders.chat.guard import ReplayGuard
from responders.chat.http import CallbackHandler
from responders.desk import Desk
from responders.desk_commands import run_command
from responders.notifiers import Notifier, Outgoing
from yuqing.settings import Settings, SettingsError

if TYPE_CHECKING:
    from responders.notifiers.dingtalk import DingTalkNotifier
    from responders.notifiers.feishu import FeishuNotifier
    from responders.notifiers.wecom import WeComNotifier

Clock = Callable[[], dt.datetime]
Hook = Callable[[], Awaitable[None]]


async def _nothing() -> None:
    return None


@dataclass
class ChatBackend:
    name: str
    notifier: Notifier
    routes: dict[str, CallbackHandler] = field(default_factory=dict)
    start: Hook = _nothing
    stop: Hook = _nothing


def _console(settings: Settings, desk: Desk, clock: Clock) -> ChatBackend:
    import asyncio

    from responders.notifiers.console import ConsoleNotifier, read_commands

    actor = Actor("console", desk.members.duty.chief, "console")
    tasks: list[asyncio.Task[None]] = []

    async def handle(line: str) -> str:
        return (await asyncio.to_thread(run_command, desk, actor, line)).text

    async def start() -> None:
        tasks.append(asyncio.create_task(read_commands(handle, templates=desk.templates)))

    async def stop() -> None:
        for task in tasks:
            task.cancel()

    return ChatBackend("console", ConsoleNotifier(), start=start, stop=stop)


def _telegram(settings: Settings, desk: Desk, clock: Clock) -> ChatBackend:
    from responders.bot import build_application
    from responders.notifiers.telegram import TelegramNotifier

    app = build_application(settings.telegram_token or "", settings.telegram_api_url, desk)

    async def start() -> None:
        await app.initialize()
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(drop_pending_updates=False)

    async def stop() -> None:
        if app.updater is not None and app.updater.running:
            await app.updater.stop()
        if app.running:
            await app.stop()
        await app.shutdown()

    return ChatBackend("telegram", TelegramNotifier(app.bot), start=start, stop=stop)


def _guard(settings: Settings, clock: Clock) -> ReplayGuard:
    return ReplayGuard(dt.timedelta(seconds=settings.callback_max_age), clock)


def _wecom_notifier(settings: Settings, members: Members) -> WeComNotifier:
    from responders.notifiers.wecom import WeComConfig, WeComNotifier

    config = WeComConfig(settings.wecom_api_url, settings.wecom_corp_id or "", int(settings.wecom_agent_id or 0),
                         settings.wecom_secret or "", settings.wecom_token or "", settings.wecom_aes_key or "")
    return WeComNotifier(config, members, timeout=settings.http_timeout)


def _wecom(settings: Settings, desk: Desk, clock: Clock) -> ChatBackend:
    from responders.notifiers.wecom import WeComCallback

    notifier = _wecom_notifier(settings, desk.members)
    callback = WeComCallback(notifier.config, notifier, Conversation(desk), _guard(settings, clock))
    return ChatBackend("wecom", notifier, {callback.path: callback}, stop=notifier.aclose)


def _feishu_notifier(settings: Settings, members: Members) -> FeishuNotifier:
    from responders.notifiers.feishu import FeishuConfig, FeishuNotifier

    config = FeishuConfig(settings.feishu_api_url, settings.feishu_app_id or "",
                          settings.feishu_app_secret or "", settings.feishu_verification_token or "",
                          settings.feishu_encrypt_key or "")
    return FeishuNotifier(config, members, timeout=settings.http_timeout)


def _feishu(settings: Settings, desk: Desk, clock: Clock) -> ChatBackend:
    from responders.notifiers.feishu import FeishuCallback

    notifier = _feishu_notifier(settings, desk.members)
    callback = FeishuCallback(notifier.config, notifier, Conversation(desk), _guard(settings, clock))
    return ChatBackend("feishu", notifier, {callback.path: callback}, stop=notifier.aclose)


def _dingtalk_notifier(settings: Settings, members: Members) -> DingTalkNotifier:
    from responders.notifiers.dingtalk import DingTalkConfig, DingTalkNotifier

    config = DingTalkConfig(settings.dingtalk_api_url, settings.dingtalk_app_key or "",
                            settings.dingtalk_app_secret or "", settings.dingtalk_robot_code or "",
                            settings.dingtalk_oapi_url)
    return DingTalkNotifier(config, members, timeout=settings.http_timeout)


def _dingtalk(settings: Settings, desk: Desk, clock: Clock) -> ChatBackend:
    from responders.notifiers.dingtalk import DingTalkCallback

    notifier = _dingtalk_notifier(settings, desk.members)
    callback = DingTalkCallback(notifier.config, notifier, Conversation(desk), _guard(settings, clock))
    return ChatBackend("dingtalk", notifier, {callback.path: callback}, stop=notifier.aclose)


BACKENDS: dict[str, Callable[[Settings, Desk, Clock], ChatBackend]] = {
    "console": _console, "telegram": _telegram, "wecom": _wecom, "feishu": _feishu,
    "dingtalk": _dingtalk,
}


def build_backend(name: str, settings: Settings, desk: Desk, clock: Clock) -> ChatBackend:
    """The backend called *name*, refusing to start without its secrets (named, never shown)."""
    factory = BACKENDS.get(name)
    if factory is None:
        raise SettingsError(f"YUQING_CHAT_BACKEND={name!r}: unknown (known: {', '.join(BACKENDS)})")
    missing = settings.model_copy(update={"chat_backend": name}).missing_for_backend()
    if missing:
        hint = " (or use the console backend: yuqing run --console)" if name == "telegram" else ""
        raise SettingsError(f"{', '.join(missing)} not set for the {name} chat backend{hint}")
    return factory(settings, desk, clock)


def _check_notifier(name: str, settings: Settings, members: Members) -> tuple[Notifier, Hook, Hook]:
    """The backend's sender alone, without callbacks or the store: (notifier, open, close)."""
    if name == "telegram":
        from telegram import Bot

        from responders.notifiers.telegram import TelegramNotifier

        bot = Bot(settings.telegram_token or "", base_url=settings.telegram_api_url)
        return TelegramNotifier(bot), bot.initialize, bot.shutdown
    if name == "console":
        from responders.notifiers.console import ConsoleNotifier

        return ConsoleNotifier(), _nothing, _nothing
    notifier: WeComNotifier | FeishuNotifier | DingTalkNotifier
    if name == "wecom":
        notifier = _wecom_notifier(settings, members)
    elif name == "feishu":
        notifier = _feishu_notifier(settings, members)
    else:
        notifier = _dingtalk_notifier(settings, members)
    return notifier, _nothing, notifier.aclose


async def check_chat(name: str, settings: Settings, members: Members, text: str) -> str:
    """Send *text* to the duty chat through backend *name*: the vendor's message id, or its DeliveryError."""
    if name not in BACKENDS:
        raise SettingsError(f"YUQING_CHAT_BACKEND={name!r}: unknown (known: {', '.join(BACKENDS)})")
    missing = settings.model_copy(update={"chat_backend": name}).missing_for_backend()
    if missing:
        raise SettingsError(f"{', '.join(missing)} not set for the {name} chat backend")
    notifier, open_, close = _check_notifier(name, settings, members)
    try:
        await open_()
        return await notifier.send(Outgoing(str(members.duty.chat_id), text))
    finally:
        await close()
