"""APScheduler 3.x jobs, one per source, on the service's asyncio loop.

Each job ticks often and polls only when the source's ``next_poll_at`` has
come (read from the poller's states in memory, which it refreshes from the
store in one query every few seconds); the adaptive interval and the backoff
are decided in ``monitor.decide`` and stored on the source, so they survive
restarts.
"""

from __future__ import annotations

import datetime as dt

from apscheduler.job import Job
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from monitor.poll import Poller

JOB_PREFIX = "poll:"


def schedule_sources(scheduler: AsyncIOScheduler, poller: Poller, tick: dt.timedelta | None = None) -> list[Job]:
    """Add (or replace) one polling job per enabled source; returns the jobs. The sources are mirrored
    into the table first unless they already are (the service does that in a worker thread beforehand)."""
    poller.ensure_synced()
    tick = tick or min(dt.timedelta(minutes=1), poller.policy.min_interval)
    if tick <= dt.timedelta(0):
        raise ValueError("the scheduler tick must be positive")
    jobs = []
    wanted = {s.name for s in poller.config.sources if s.enabled}
    for job in scheduler.get_jobs():
        if job.id.startswith(JOB_PREFIX) and job.id.removeprefix(JOB_PREFIX) not in wanted:
            job.remove()
    for name in sorted(wanted):
        jobs.append(scheduler.add_job(
            poller.poll_if_due, IntervalTrigger(seconds=tick.total_seconds()), args=[name],
            id=JOB_PREFIX + name, name=f"poll {name}", replace_existing=True,
            max_instances=1, coalesce=True, next_run_time=dt.datetime.now(dt.UTC),
        ))
    return jobs


def start_polling(poller: Poller, scheduler: AsyncIOScheduler | None = None) -> AsyncIOScheduler:
    """Schedule every source on the running loop and start the scheduler (call from the service)."""
    scheduler = scheduler or AsyncIOScheduler(timezone=dt.UTC)
    schedule_sources(scheduler, poller)
    if not scheduler.running:
        scheduler.start()
    return scheduler
