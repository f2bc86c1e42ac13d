"""Moving a store to another database (``yuqing migrate-store --to postgresql://…``): a SQLite store that
outgrew one machine goes to PostgreSQL, table by table, rows as they are.

The target is brought to the newest schema first and must hold no rows; the source must be at that schema
too (``yuqing init``), so both have the same tables and columns. Tables go parents first (foreign keys),
each in chunks of a few thousand rows, all in one transaction on the target: a failure leaves it empty.
PostgreSQL's id sequences are then moved past the copied ids, so the next row gets a fresh id.
"""

from __future__ import annotations

from sqlalchemy import Connection, Engine, Integer, Table, func, select, text

from store.database import current_revision, migrate
from store.errors import StoreError
from store.models import Base


def copy_store(source: Engine, target: Engine, chunk: int = 5_000) -> dict[str, int]:
    """Copy every table of *source* into the empty *target*; returns the rows copied per table."""
    migrate(target)
    if current_revision(source) != current_revision(target):
        raise StoreError(f"the store to move is at schema {current_revision(source) or 'nothing'}, not "
                         f"{current_revision(target)}: run yuqing init on it first")
    tables = Base.metadata.sorted_tables
    copied: dict[str, int] = {}
    with source.connect() as reading, target.begin() as writing:
        for table in tables:
            if writing.scalar(select(func.count()).select_from(table)):
                raise StoreError(f"the target store already holds rows in {table.name}: "
                                 "move a store only into an empty database")
        for table in tables:
            copied[table.name] = _copy_table(table, reading, writing, chunk)
        if target.dialect.name == "postgresql":
            for table in tables:
                _move_sequence(table, writing)
    return copied


def _copy_table(table: Table, reading: Connection, writing: Connection, chunk: int) -> int:
    order = list(table.primary_key.columns) or list(table.columns)
    rows = reading.execution_options(yield_per=chunk).execute(select(table).order_by(*order))
    count = 0
    for part in rows.partitions(chunk):
        writing.execute(table.insert(), [dict(row._mapping) for row in part])
        count += len(part)
    return count


def _move_sequence(table: Table, writing: Connection) -> None:
    """Set an integer primary key's sequence to the largest copied id (PostgreSQL's serial columns)."""
    keys = list(table.primary_key.columns)
    if len(keys) != 1 or not isinstance(keys[0].type, Integer):
        return
    column = keys[0].name
    sequence = writing.scalar(text("SELECT pg_get_serial_sequence(:table, :column)"),
                              {"table": table.name, "column": column})
    if sequence is None:
        return
    highest = writing.scalar(select(func.max(keys[0])))
    if highest is not None:
        writing.execute(text("SELECT setval(CAST(:sequence AS regclass), :value)"),
                        {"sequence": sequence, "value": int(highest)})
