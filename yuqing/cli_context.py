"""What every command shares: settings and the playbook, loaded once and only when needed."""

from __future__ import annotations

from pathlib import Path

import click

from playbooks.loader import PolicyFileError, load_playbook
from playbooks.schema import Playbook
from yuqing.settings import Settings, SettingsError, load_settings


class Context:
    """Lazily loaded settings and playbook, shared by the subcommands."""

    def __init__(self) -> None:
        self._settings: Settings | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            try:
                self._settings = load_settings()
            except SettingsError as exc:
                raise click.ClickException(f"bad setting: {exc}") from None
        return self._settings

    def playbook(self, path: Path | None = None) -> Playbook:
        try:
            return load_playbook(path or self.settings.playbook)
        except PolicyFileError as exc:
            raise click.ClickException(str(exc)) from None


pass_context = click.make_pass_decorator(Context, ensure=True)
