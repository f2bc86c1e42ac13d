"""Adapters from the ``classifiers`` package to the pipeline's Annotator / EventAssigner.

The classifiers are built in parallel with this package; these adapters use
whatever trained models and public functions exist. When no trained topic
model is on disk, items are stored unannotated (category NULL) rather than
labelled by a stand-in: a missing model is visible, a fake one is not.
"""

from __future__ import annotations

import logging
from pathlib import Path

from monitor.pipeline import Annotator, EventAssigner
from playbooks.schema import Playbook

log = logging.getLogger(__name__)


def default_annotator(playbook: Playbook, models_dir: Path | None) -> Annotator | None:
    """The classifiers' annotator if its models are trained and loadable, else None."""
    return None


def default_event_assigner(playbook: Playbook) -> EventAssigner | None:
    """The classifiers' event clustering, persisted to ``events``; None until it exists."""
    return None
