"""One build path: every process (``yuqing run``, the CLI, the Celery workers) builds the monitor and the
responders here, so a setting means the same wherever it is read.

:func:`monitor_for` reads the sources file through :func:`yuqing.store_setup.sources_config` (the
settings fill the fetch and field limits the file leaves out) and wires the monitor;
:func:`responders_for` gives one object whose steps (a responders cycle, the reports that are due,
the source-health alerts) read the same sources file, so its ``health`` and ``dedupe`` sections reach
the weekly report and the cycle as they reach ``yuqing poll`` and ``yuqing sources health``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from monitor.clock import Clock, system_clock
from monitor.config import SourcesFile
from monitor.health import health_findings
from monitor.wiring import Monitor, build_monitor
from playbooks.members import Members
from playbooks.schema import Playbook
from responders.clarifications import ClarificationPages
from responders.cycle import CycleReport, run_cycle
from responders.health_alerts import queue_source_health
from responders.messages import Templates
from responders.reports.schedule import post_monthly_report_if_due, post_weekly_report_if_due
from store.database import session_scope
from store.models import OutboxMessage
from yuqing.settings import Settings
from yuqing.store_setup import sources_config


def monitor_for(settings: Settings, playbook: Playbook, *, clock: Clock = system_clock,
                migrate_schema: bool = True) -> Monitor:
    """The monitor of the configured store and sources file, the settings filling what the file leaves out."""
    return build_monitor(settings.effective_database_url, sources_config(settings), playbook,
                         models_dir=settings.models_dir, clock=clock, migrate_schema=migrate_schema,
                         clarifications=ClarificationPages())


@dataclass(frozen=True)
class PostedReports:
    weekly: OutboxMessage | None
    monthly: OutboxMessage | None


@dataclass
class Responders:
    """The responders' periodic steps over one store, with the sources file's sections they read."""

    sessions: sessionmaker[Session]
    settings: Settings
    playbook: Playbook
    members: Members
    templates: Templates
    config: SourcesFile

    def cycle(self, now: dt.datetime, since: dt.datetime) -> CycleReport:
        """One responders cycle (routing, portal replies, escalation, closing the loop), blocking."""
        return run_cycle(self.sessions, self.playbook, self.members, self.templates, now, since, self.config.dedupe)

    def reports(self, now: dt.datetime) -> PostedReports:
        """Queue last week's report and last month's 通报 when their slots have come (once per period)."""
        chat = self.members.duty.chat_id
        weekly = post_weekly_report_if_due(self.sessions, now, self.settings, self.playbook, chat,
                                           self.config.health)
        monthly = post_monthly_report_if_due(self.sessions, now, self.settings, self.playbook, chat,
                                             self.config.dedupe)
        return PostedReports(weekly, monthly)

    def health(self, now: dt.datetime) -> int:
        """Queue an alert for each source that fails or has gone quiet; returns how many were new."""
        with session_scope(self.sessions) as session:
            findings = health_findings(session, self.config, now)
            return queue_source_health(session, findings, self.members, self.templates, now)


def responders_for(settings: Settings, playbook: Playbook, members: Members, sessions: sessionmaker[Session],
                   config: SourcesFile | None = None) -> Responders:
    """The responders over *sessions*; *config* is the monitor's sources file when there is one at hand."""
    return Responders(sessions, settings, playbook, members, Templates.from_playbook(playbook),
                      config if config is not None else sources_config(settings))
