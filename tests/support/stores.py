"""Store set-up shared by the test packages."""

from __future__ import annotations

from sqlalchemy import create_engine, text


def emptied_postgres(url: str) -> str:
    """*url* with its public schema dropped and made again: an empty store for one test."""
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    return url
