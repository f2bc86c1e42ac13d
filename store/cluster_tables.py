"""What the cluster (``yuqing worker``) keeps in the store: the dead letters of tasks that kept failing."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from store.base import Base
from store.types import utcnow


class DeadLetter(Base):
    """A Celery task that kept failing after its retries: what it was asked, the last error, how often tried.

    ``yuqing sources health`` lists these; the work itself is lost until an operator acts (re-enqueue or fix
    the cause), so each row says enough to do that.
    """

    __tablename__ = "dead_letters"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task: Mapped[str] = mapped_column(String(128))
    task_id: Mapped[str] = mapped_column(String(64), unique=True)
    queue: Mapped[str | None] = mapped_column(String(32))
    summary: Mapped[str] = mapped_column(Text)  # the task's arguments as a person reads them
    error: Mapped[str] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer)
    failed_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
