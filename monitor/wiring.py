"""Building the monitor from settings-like values: the one place the parts are wired.

The service and the CLI call :func:`build_monitor`; tests build the same
object against a temporary database and a loopback server.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from classifiers.tokenizer import Tokenizer
from monitor.annotate import ClarificationLookup, LazyAnnotator, default_event_assigner
from monitor.clock import Clock, system_clock
from monitor.config import SourcesFile, load_sources
from monitor.fetch import Fetcher
from monitor.pipeline import Annotator, EventAssigner, Pipeline
from monitor.poll import Poller
from playbooks.schema import Playbook
from store.database import make_engine, migrate, session_factory


@dataclass
class Monitor:
    engine: Engine
    sessions: sessionmaker[Session]
    config: SourcesFile
    pipeline: Pipeline
    poller: Poller

    async def aclose(self) -> None:
        await self.poller.aclose()
        self.engine.dispose()

    def load_models(self) -> None:
        """Load the classifiers and the segmenter's dictionary now rather than at the first item (blocking;
        the service calls it at start; models cut with another tokenizer raise ``ModelsMismatch``, so it
        does not start). See :meth:`Pipeline.warm` for the order."""
        self.pipeline.warm()


def build_monitor(
    database_url: str,
    sources_file: Path | SourcesFile,
    playbook: Playbook,
    *,
    models_dir: Path | None = None,
    annotator: Annotator | None = None,
    events: EventAssigner | None = None,
    fetcher: Fetcher | None = None,
    clock: Clock = system_clock,
    migrate_schema: bool = True,
    clarifications: ClarificationLookup | None = None,
) -> Monitor:
    """Engine, pipeline and poller for one database and sources file.

    *clarifications* answers which event a fetched page answers when it is our own clarification
    (the responders' ``ClarificationPages``, passed in by the service); without it no item is taken
    for one. It is used by the default event assigner only.
    """
    engine = make_engine(database_url)
    if migrate_schema:
        migrate(engine)
    sessions = session_factory(engine)
    config = sources_file if isinstance(sources_file, SourcesFile) else load_sources(sources_file)
    if annotator is None:
        annotator = LazyAnnotator(playbook, models_dir)
    tokenizer = Tokenizer.from_playbook(playbook)  # the clusterer's; the models' tokenisers share its batch memo
    if events is None:
        events = default_event_assigner(playbook, tokenizer, clarifications)
    pipeline = Pipeline(playbook, config.dedupe, annotator=annotator, events=events, limits=config.limits.limits(),
                        tokenizer=tokenizer)
    poller = Poller(config, sessions, pipeline, fetcher=fetcher or Fetcher(config.fetch.limits()), clock=clock)
    return Monitor(engine, sessions, config, pipeline, poller)
