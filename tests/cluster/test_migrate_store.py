"""`yuqing migrate-store --to postgresql://…`: a SQLite store that has polled and routed moves to PostgreSQL whole."""

from __future__ import annotations

import yaml
from click.testing import CliRunner
from sqlalchemy import func, select
from support.story_feeds import StoryFeeds

from store.database import make_engine, session_factory, session_scope
from store.models import Base, Item, Source
from yuqing.cli import main


def _counts(url: str) -> dict[str, int]:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return {t.name: connection.scalar(select(func.count()).select_from(t)) or 0
                    for t in Base.metadata.sorted_tables}
    finally:
        engine.dispose()


def test_a_sqlite_store_moves_to_an_empty_postgresql_database_and_goes_on_there(tmp_path, pg_url):
    sqlite_url = f"sqlite:///{tmp_path / 'store.sqlite3'}"
    env = {"YUQING_DATA_DIR": str(tmp_path), "YUQING_DATABASE_URL": sqlite_url, "YUQING_DUTY_CHAT_ID": "-100",
           "YUQING_SOURCES_FILE": str(tmp_path / "sources.yaml"), "YUQING_MODELS_DIR": str(tmp_path / "no-models")}
    runner = CliRunner()
    with StoryFeeds(30, per_feed=2, reprint_every=10) as feeds:
        (tmp_path / "sources.yaml").write_text(yaml.safe_dump(feeds.sources()), encoding="utf-8")
        for args in (["init"], ["poll", "--once"], ["cycle"]):
            result = runner.invoke(main, args, env=env)
            assert result.exit_code == 0, result.output
    before = _counts(sqlite_url)
    assert before["items"] == len(feeds.served()) and before["reprints"] and before["cases"] and before["outbox"]

    moved = runner.invoke(main, ["migrate-store", "--to", pg_url], env=env)
    assert moved.exit_code == 0, moved.output
    assert f"copied {sum(before.values())} rows" in moved.output
    assert _counts(pg_url) == before

    engine = make_engine(pg_url)  # the ids go on after the copied ones
    with session_scope(session_factory(engine)) as session:
        source = session.scalars(select(Source)).first()
        assert source is not None
        session.add(Item(source_id=source.id, external_id="after-the-move", title="t", text="x", content_hash="h"))
        session.flush()
    engine.dispose()

    again = runner.invoke(main, ["migrate-store", "--to", pg_url], env=env)
    assert again.exit_code == 1 and "move a store only into an empty database" in again.output
