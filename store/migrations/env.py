"""Alembic environment: the engine comes from yuqing (no alembic.ini, no URL in files)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from store.errors import StoreError
from store.models import Base

config = context.config
engine = config.attributes["engine"]


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


with engine.connect() as connection:
    if connection.dialect.name != "sqlite":
        _run(connection)
        connection.commit()
    else:
        # A batch migration rebuilds a table that others point at (SQLite cannot alter a constraint in
        # place), so foreign keys are checked once after the migration instead of during it.
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
        connection.commit()
        try:
            _run(connection)
            connection.commit()
            broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            if broken:
                raise StoreError(f"the migration left rows pointing at missing rows: {broken[:5]}")
        finally:
            connection.rollback()
            connection.exec_driver_sql("PRAGMA foreign_keys=ON")
            connection.commit()
