"""Exceptions of the store package.

    StoreError                  the store cannot be reached or is not at the expected schema
    ├── NaiveDatetimeError      a timestamp without a timezone reached the store (store.types)
    └── AuditRowImmutable       someone tried to change an append-only audit row
"""

from __future__ import annotations


class StoreError(Exception):
    """The store cannot be reached or is not at the schema this code expects."""


class AuditRowImmutable(StoreError):
    """Someone tried to change or delete an audit row; the trail is append-only."""
