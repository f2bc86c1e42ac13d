"""Console backend: prints messages to the terminal; the operator types commands on stdin.

Useful for the demo and for a desk without Telegram: buttons are shown with
the command that does the same thing, and :func:`read_commands` feeds typed
lines to the same command dispatcher the bot uses. A terminal has no length limit: nothing is clipped;
the frame around each message is symbols, not words.
"""

from __future__ import annotations

import asyncio
import html
import itertools
import logging
import re
import sys
import threading
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TextIO

from responders.notifiers import Button, Outgoing

if TYPE_CHECKING:
    from responders.messages import Templates

log = logging.getLogger(__name__)
_TAG = re.compile(r"<[^>]+>")


_LINK = re.compile(r'<a\s+href="([^"]*)"[^>]*>(.*?)</a>', re.S)


def plain(text: str) -> str:
    """HTML message text as a terminal shows it; a link keeps its address, which a terminal can open."""
    text = _LINK.sub(lambda m: f"{m.group(2)} {m.group(1)}", text)
    return html.unescape(_TAG.sub("", text))


def button_hint(button: Button) -> str:
    """The command a console user types instead of pressing *button*."""
    _scope, action, number = (button.data.split(":", 2) + ["", ""])[:3]
    return f"/{action} {number}".strip()


class ConsoleNotifier:
    name = "console"

    def __init__(self, out: TextIO | None = None) -> None:
        self.out = out or sys.stdout
        self._ids = itertools.count(1)

    async def send(self, message: Outgoing) -> str:
        message_id = str(next(self._ids))
        self._print(message.chat_id, message_id, message.text, message.buttons)
        if message.attachment_path:
            print(f"  \N{PAPERCLIP} {message.attachment_path}", file=self.out)
        return message_id

    async def edit(self, chat_id: str, message_id: str, text: str,
                   buttons: tuple[tuple[Button, ...], ...] = ()) -> None:
        self._print(chat_id, f"{message_id} \N{LOWER RIGHT PENCIL}", text, buttons)

    def _print(self, chat_id: str, message_id: str, text: str, buttons: tuple[tuple[Button, ...], ...]) -> None:
        print(f"── chat {chat_id} · #{message_id} ──", file=self.out)
        print(plain(text), file=self.out)
        hints = [f"[{b.text}: {button_hint(b)}]" for row in buttons for b in row]
        if hints:
            print("  " + " ".join(hints), file=self.out)
        self.out.flush()


async def read_commands(handle: Callable[[str], Awaitable[str]], stream: TextIO | None = None,
                        out: TextIO | None = None, *, templates: Templates | None = None) -> None:
    """Read command lines from *stream* (stdin) until EOF, printing each answer.

    The blocking reads happen on a daemon thread, so a service stopping while
    the operator has typed nothing does not wait for a line that never comes.
    A command that fails is answered with the playbook's ``apology`` (from *templates*; without
    them, a mark and the command); the reader goes on.
    """
    stream = stream or sys.stdin
    out = out or sys.stdout
    loop = asyncio.get_running_loop()
    lines: asyncio.Queue[str | None] = asyncio.Queue()

    def pump() -> None:
        for line in iter(stream.readline, ""):
            loop.call_soon_threadsafe(lines.put_nowait, line)
        loop.call_soon_threadsafe(lines.put_nowait, None)

    threading.Thread(target=pump, name="console-stdin", daemon=True).start()
    while (line := await lines.get()) is not None:
        line = line.strip()
        if not line:
            continue
        try:
            answer = plain(await handle(line))
        except Exception:
            log.exception("console: command %r failed", line[:200])
            command = line.split()[0][:32]
            answer = templates.plain("apology", command=command) if templates else f"\N{BALLOT X} {command}"
        print(answer, file=out)
        out.flush()
