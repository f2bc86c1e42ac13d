"""PostgreSQL advisory locks: what runs once across a cluster of workers.

Each key names one kind of work. A *transaction* lock (:func:`hold_for_transaction`) serialises a unit of
work with every other process's (the pipeline's batches: reprint candidates and event clusters are then
found against everything committed before); a *session* lock (:class:`SessionLock`) is held on its own
connection for as long as a process keeps a role (the one active scheduler) or a round lasts (a responders
cycle), and PostgreSQL releases it when that connection dies, so a second process takes over without an
operator. SQLite has one writer at a time already; the cluster refuses it (``yuqing worker``).
"""

from __future__ import annotations

import enum

from sqlalchemy import Connection, Engine, text
from sqlalchemy.orm import Session


class LockKey(enum.IntEnum):
    """The advisory lock keys (one 64-bit space per database; these are ours)."""

    PIPELINE = 0x59510001
    RESPONDERS = 0x59510002
    SCHEDULER = 0x59510003
    REPORTS = 0x59510004
    HEALTH = 0x59510005
    MIGRATE = 0x59510006


def is_postgresql(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


def hold_for_transaction(session: Session, key: LockKey) -> None:
    """Wait for *key* and hold it until the session's transaction ends (no-op on SQLite: one writer)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": int(key)})


class SessionLock:
    """*key* held on a connection of its own until :meth:`release` (or that connection's death)."""

    def __init__(self, engine: Engine, key: LockKey) -> None:
        self.engine = engine
        self.key = key
        self._connection: Connection | None = None

    @property
    def held(self) -> bool:
        return self._connection is not None

    def try_acquire(self) -> bool:
        """Take the lock if no other process holds it; True when this process now holds it."""
        if self._connection is not None:
            return True
        connection = self.engine.connect()
        try:
            got = bool(connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": int(self.key)}).scalar())
            connection.commit()
        except BaseException:
            connection.close()
            raise
        if not got:
            connection.close()
            return False
        self._connection = connection
        return True

    def acquire(self) -> None:
        """Wait for the lock (another process holds it for as long as its work takes)."""
        if self._connection is not None:
            return
        connection = self.engine.connect()
        try:
            connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": int(self.key)})
            connection.commit()
        except BaseException:
            connection.close()
            raise
        self._connection = connection

    def still_held(self) -> bool:
        """Whether the lock's connection is alive (a PostgreSQL restart ends it, and with it the lock)."""
        if self._connection is None:
            return False
        try:
            self._connection.execute(text("SELECT 1"))
            self._connection.commit()
        except Exception:
            self._forget()
            return False
        return True

    def release(self) -> None:
        if self._connection is None:
            return
        try:
            self._connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": int(self.key)})
            self._connection.commit()
        except Exception:  # a dead connection released it already
            pass
        self._forget()

    def _forget(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            try:
                connection.close()
            except Exception:
                connection.invalidate()
