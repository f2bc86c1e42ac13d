"""The store: SQLAlchemy models, engines and migrations shared by every stage."""

from store.database import (
    StoreError,
    make_engine,
    migrate,
    require_current,
    session_factory,
    session_scope,
    sync_departments,
)
from store.types import SHANGHAI, UTCDateTime, shown, utcnow

__all__ = [
    "SHANGHAI",
    "StoreError",
    "UTCDateTime",
    "make_engine",
    "migrate",
    "require_current",
    "session_factory",
    "session_scope",
    "shown",
    "sync_departments",
    "utcnow",
]
