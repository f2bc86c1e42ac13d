"""`make demo`: the main job on the embedded defaults, narrated for a newcomer."""

from __future__ import annotations

import click

from playbooks.loader import load_playbook
from yuqing.app import initialise_store
from yuqing.settings import Settings
from yuqing.summary import playbook_summary


def run_demo(settings: Settings) -> None:
    """Initialise the store and show what the default playbook holds."""
    playbook = load_playbook(settings.playbook)
    revision, added, updated = initialise_store(settings, playbook)
    click.echo(f"== store: {settings.effective_database_url} (schema {revision}; "
               f"{added} departments added, {updated} updated)")
    click.echo(playbook_summary(playbook))
