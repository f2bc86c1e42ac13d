"""Issue 14's "done when": ``yuqing scheduler``, two ``yuqing worker`` processes and ``yuqing bot`` on PostgreSQL,
with Redis and with RabbitMQ, polling a few hundred loopback feeds; one worker is killed with SIGKILL while it
works. Every served item is stored once, none is missing, each alert reaches the (fake) Telegram once, and the
events are those of one ``yuqing poll --once`` (the poller ``yuqing run`` runs) over the same feeds on SQLite.

The tests that run real brokers and ``yuqing`` processes are marked ``cluster``: ``make test-cluster`` runs
them, one at a time, and ``make test`` leaves them out.
"""

from __future__ import annotations

import signal
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from sqlalchemy import Engine, func, select
from support.cluster_processes import Processes, sender
from support.story_feeds import STORIES, StoryFeeds

from store.database import make_engine, session_factory, session_scope
from store.models import DeadLetter, Item, OutboxMessage, Reprint, Source
from yuqing.cli import main

N_FEEDS = 200


def _env(tmp_path: Path, database_url: str, broker_url: str, api_url: str) -> dict[str, str]:
    return {"YUQING_DATABASE_URL": database_url, "YUQING_SOURCES_FILE": str(tmp_path / "sources.yaml"),
            "YUQING_DATA_DIR": str(tmp_path), "YUQING_MODELS_DIR": str(tmp_path / "no-models"),
            "YUQING_BROKER_URL": broker_url, "YUQING_BROKER_VISIBILITY_TIMEOUT": "3",
            "YUQING_TASK_RETRY_BACKOFF": "0.5", "YUQING_CHAT_BACKEND": "telegram", "YUQING_TELEGRAM_TOKEN": "1:TEST",
            "YUQING_TELEGRAM_API_URL": api_url, "YUQING_DUTY_CHAT_ID": "-777", "YUQING_WEB_ADDRESS": "127.0.0.1:0",
            "YUQING_WEB_DESK": "0", "YUQING_LOG_LEVEL": "INFO"}


def _stored(engine: Engine) -> list[tuple[str, str, int | None]]:
    """(source, external id, event id) of every stored item."""
    with session_scope(session_factory(engine)) as session:
        rows = session.execute(select(Source.name, Item.external_id, Item.event_id).join(Source))
        return [(name, external_id, event_id) for name, external_id, event_id in rows]


def _events(rows: list[tuple[str, str, int | None]]) -> set[frozenset[tuple[str, str]]]:
    """The events as the sets of items they hold (ids differ between stores; the grouping must not)."""
    groups: dict[int | None, set[tuple[str, str]]] = {}
    for name, external_id, event_id in rows:
        groups.setdefault(event_id, set()).add((name, external_id))
    assert None not in groups, "an item was left out of every event"
    return {frozenset(group) for group in groups.values()}


def _one_process_events(tmp_path: Path, env: dict[str, str]) -> set[frozenset[tuple[str, str]]]:
    url = f"sqlite:///{tmp_path / 'one.sqlite3'}"
    result = CliRunner().invoke(main, ["poll", "--once"], env={**env, "YUQING_DATABASE_URL": url})
    assert result.exit_code == 0, result.output
    engine = make_engine(url)
    try:
        return _events(_stored(engine))
    finally:
        engine.dispose()


@pytest.mark.cluster
def test_a_worker_killed_mid_run_loses_nothing_and_doubles_nothing(tmp_path, pg_url, broker_url, api):
    engine = make_engine(pg_url)
    with StoryFeeds(N_FEEDS, per_feed=1) as feeds:
        (tmp_path / "sources.yaml").write_text(yaml.safe_dump(feeds.sources()), encoding="utf-8")
        env = _env(tmp_path, pg_url, broker_url, api.base_url)
        served = feeds.served()
        assert CliRunner().invoke(main, ["init"], env=env).exit_code == 0
        cluster = Processes(env, tmp_path)
        try:
            cluster.start("scheduler", "scheduler", "--tick", "0.5", "--cycle-every", "3")
            cluster.start("doomed", "worker", "--name", "doomed@test")
            cluster.start("survivor", "worker", "--name", "survivor@test")
            cluster.start("bot", "bot")
            cluster.wait_for("a quarter of the items stored", lambda: len(_stored(engine)) >= len(served) // 4)
            cluster.kill("doomed")  # mid-run: its pool dies with it, its messages unacknowledged
            before_kill_done = len(_stored(engine))
            assert before_kill_done < len(served), "the run ended before the kill; the test proves nothing"

            def all_stored() -> bool:
                return {(name, external_id) for name, external_id, _e in _stored(engine)} == served

            cluster.wait_for("every served item stored after the kill", all_stored, deadline=120)

            def alerts_sent() -> list[OutboxMessage] | None:
                with session_scope(session_factory(engine)) as session:
                    alerts = list(session.scalars(select(OutboxMessage)))
                    duty = [a for a in alerts if a.kind == "event"]
                    if len(duty) == len(STORIES) and all(a.state == "sent" for a in alerts):
                        return alerts
                return None

            alerts = cluster.wait_for("the stories' alerts delivered", alerts_sent, deadline=60)
            api.wait_for("sendMessage", len(alerts))
        finally:
            cluster.stop_all()

        rows = _stored(engine)
        assert len(rows) == len(served) == len({(name, external_id) for name, external_id, _e in rows})
        with session_scope(session_factory(engine)) as session:
            reprints = session.scalar(select(func.count()).select_from(Reprint))
            doubled = session.scalar(select(func.count()).select_from(
                select(Reprint.reprint_id).group_by(Reprint.reprint_id).having(func.count() > 1).subquery()))
        assert doubled == 0
        copies = sum(1 for k in range(N_FEEDS) if k % 25 == 0)
        assert reprints == len(STORIES) * (copies - 1)  # each story stored once as the original
        texts = [call.params["text"] for call in api.sent("sendMessage")]
        assert sorted(texts) == sorted(a.text for a in alerts), "an alert was sent twice, or not at all"
        assert _events(rows) == _one_process_events(tmp_path, env)
    engine.dispose()


def test_the_cluster_commands_refuse_a_sqlite_store(tmp_path):
    env = {"YUQING_DATA_DIR": str(tmp_path), "YUQING_DATABASE_URL": f"sqlite:///{tmp_path / 'store.sqlite3'}"}
    for command in ("worker", "scheduler", "bot"):
        result = CliRunner().invoke(main, [command], env=env)
        assert result.exit_code == 1
        assert f"yuqing {command} needs a PostgreSQL store" in result.output
        assert "yuqing migrate-store --to postgresql://" in result.output


@pytest.mark.cluster
def test_a_second_scheduler_stands_by_and_takes_over_when_the_first_dies(tmp_path, pg_url, broker_url):
    (tmp_path / "sources.yaml").write_text(yaml.safe_dump({"sources": []}), encoding="utf-8")
    env = _env(tmp_path, pg_url, broker_url, "http://127.0.0.1:9/bot")
    cluster = Processes(env, tmp_path)
    try:
        cluster.start("first", "scheduler", "--standby-every", "0.2")
        cluster.wait_for("the first scheduler active", lambda: "scheduler: active" in cluster.output("first"))
        cluster.start("second", "scheduler", "--standby-every", "0.2")
        cluster.wait_for("the second scheduler standing by", lambda: "standing by" in cluster.output("second"))
        assert "scheduler: active" not in cluster.output("second")
        cluster.kill("first", signal.SIGKILL)
        cluster.wait_for("the second scheduler taking over", lambda: "scheduler: active" in cluster.output("second"))
    finally:
        cluster.stop_all()


@pytest.mark.cluster
def test_a_task_that_cannot_succeed_leaves_a_dead_letter_that_sources_health_shows(tmp_path, pg_url, broker_url):
    (tmp_path / "sources.yaml").write_text(yaml.safe_dump({"sources": []}), encoding="utf-8")
    env = _env(tmp_path, pg_url, broker_url, "http://127.0.0.1:9/bot")
    assert CliRunner().invoke(main, ["init"], env=env).exit_code == 0
    with sender(broker_url) as app:
        app.send_task("yuqing.poll", ("gone-from-the-file",), queue="poll")
    engine = make_engine(pg_url)
    cluster = Processes(env, tmp_path)
    try:
        cluster.start("worker", "worker", "--queues", "poll")

        def letters() -> list[tuple[str, str, str | None]] | None:
            with session_scope(session_factory(engine)) as session:
                return [(d.task, d.error, d.queue) for d in session.scalars(select(DeadLetter))] or None

        [(task, error, queue)] = cluster.wait_for("the dead letter", letters)
    finally:
        cluster.stop_all()
        engine.dispose()
    assert (task, queue) == ("yuqing.poll", "poll") and "gone-from-the-file" in error
    shown = CliRunner().invoke(main, ["sources", "health"], env=env)
    assert shown.exit_code == 0, shown.output
    assert "!! task failed 1 time(s) and was given up: poll gone-from-the-file (poll queue" in shown.output


@pytest.mark.cluster
def test_the_cluster_recovers_by_itself_when_the_broker_restarts_mid_run(tmp_path, pg_url, api):
    """A Redis of the test's own (persisting to its folder), killed and started again while two workers run."""
    import shutil
    import socket
    import subprocess

    server = shutil.which("redis-server")
    if server is None:
        pytest.skip("redis-server is not installed (.ci/run installs it)")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    folder = tmp_path / "redis"
    folder.mkdir()

    def start_redis() -> subprocess.Popen[bytes]:
        return subprocess.Popen([server, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(folder),
                                 "--appendonly", "yes", "--appendfsync", "always", "--save", ""],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    redis_process = start_redis()
    engine = make_engine(pg_url)
    with StoryFeeds(120, per_feed=1, reprint_every=40) as feeds:
        (tmp_path / "sources.yaml").write_text(yaml.safe_dump(feeds.sources()), encoding="utf-8")
        env = {**_env(tmp_path, pg_url, f"redis://127.0.0.1:{port}/0", api.base_url), "YUQING_POLL_LEASE": "15"}
        served = feeds.served()
        assert CliRunner().invoke(main, ["init"], env=env).exit_code == 0
        cluster = Processes(env, tmp_path)
        try:
            cluster.start("scheduler", "scheduler", "--tick", "0.5", "--cycle-every", "3")
            cluster.start("one", "worker")
            cluster.start("two", "worker")
            cluster.wait_for("a quarter of the items stored", lambda: len(_stored(engine)) >= len(served) // 4)
            redis_process.kill()
            redis_process.wait(10)
            assert len(_stored(engine)) < len(served), "the run ended before the broker went; the test proves nothing"
            redis_process = start_redis()

            def all_stored() -> bool:
                return {(name, external_id) for name, external_id, _e in _stored(engine)} == served

            cluster.wait_for("every served item stored after the broker came back", all_stored, deadline=120)
        finally:
            cluster.stop_all()
            redis_process.kill()
            redis_process.wait(10)
    rows = _stored(engine)
    engine.dispose()
    assert len(rows) == len(served)


def _private_postgresql(folder: Path) -> tuple[list[str], int] | None:
    """A PostgreSQL of the test's own in *folder* (made here, outside pytest's private temporary tree, for
    the postgres user to write), to restart without touching the shared one: (start command, port), or
    None when this machine cannot run one (no server binaries, or not root to run it as postgres)."""
    import os
    import shutil
    import socket
    import subprocess

    bins = sorted(Path("/usr/lib/postgresql").glob("*/bin/postgres"))
    if not bins or os.geteuid() != 0 or shutil.which("runuser") is None:
        return None
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    folder.mkdir(mode=0o700)
    shutil.chown(folder, "postgres")
    as_postgres = ["runuser", "-u", "postgres", "--"]
    subprocess.run([*as_postgres, str(bins[-1].with_name("initdb")), "-D", str(folder / "data"), "-A", "trust",
                    "-U", "postgres"], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    start = [*as_postgres, str(bins[-1]), "-D", str(folder / "data"), "-p", str(port), "-k", str(folder),
             "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"]
    return start, port


@pytest.mark.cluster
def test_the_cluster_recovers_by_itself_when_postgresql_restarts_mid_run(tmp_path, broker_url, api):
    import os
    import shutil
    import subprocess
    import tempfile

    from sqlalchemy import create_engine, text

    pg_folder = Path(tempfile.mkdtemp(prefix="yuqing-test-pg-")) / "pg"
    pg_folder.parent.chmod(0o755)  # the postgres user goes through it to its own folder
    private = _private_postgresql(pg_folder)
    if private is None:
        shutil.rmtree(pg_folder.parent)
        pytest.skip("cannot run a private PostgreSQL here (needs its server binaries and root to run it as postgres)")
    start, port = private

    def start_postgresql() -> subprocess.Popen[bytes]:
        """Start it, again while a crashed one's backends are still going away (it refuses until they are)."""
        url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
        process = subprocess.Popen(start, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        def up() -> bool:
            nonlocal process
            if process.poll() is not None:
                process = subprocess.Popen(start, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                return False
            return _answers(url)

        Processes({}, tmp_path).wait_for("the private PostgreSQL", up, deadline=30)
        return process

    def _answers(url: str) -> bool:
        engine = create_engine(url)
        try:
            with engine.connect() as connection:
                return connection.execute(text("SELECT 1")).scalar() == 1
        except Exception:
            return False
        finally:
            engine.dispose()

    def crash(runner: subprocess.Popen[bytes]) -> None:
        """SIGKILL the postmaster itself (runuser, its parent, would leave it running), then wait for it."""
        pid_file = pg_folder / "data" / "postmaster.pid"
        if pid_file.exists():
            os.kill(int(pid_file.read_text().split()[0]), signal.SIGKILL)
        runner.wait(10)
        Processes({}, tmp_path).wait_for("the private PostgreSQL gone", lambda: not _answers(pg_url), deadline=10)

    database = start_postgresql()
    pg_url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    engine = make_engine(pg_url)
    with StoryFeeds(120, per_feed=1, reprint_every=40) as feeds:
        (tmp_path / "sources.yaml").write_text(yaml.safe_dump(feeds.sources()), encoding="utf-8")
        env = {**_env(tmp_path, pg_url, broker_url, api.base_url), "YUQING_POLL_LEASE": "15"}
        served = feeds.served()
        assert CliRunner().invoke(main, ["init"], env=env).exit_code == 0
        cluster = Processes(env, tmp_path)
        try:
            cluster.start("scheduler", "scheduler", "--tick", "0.5", "--cycle-every", "3", "--standby-every", "0.5")
            cluster.start("one", "worker")
            cluster.start("two", "worker")
            cluster.wait_for("a quarter of the items stored", lambda: len(_stored(engine)) >= len(served) // 4)
            crash(database)  # no shutdown, every connection cut
            engine.dispose()
            database = start_postgresql()
            assert len(_stored(engine)) < len(served), "the run ended before PostgreSQL went; the test proves nothing"

            def all_stored() -> bool:
                return {(name, external_id) for name, external_id, _e in _stored(engine)} == served

            cluster.wait_for("every served item stored after PostgreSQL came back", all_stored, deadline=120)
        finally:
            cluster.stop_all()
            engine.dispose()
            crash(database)
            shutil.rmtree(pg_folder.parent, ignore_errors=True)
    assert "scheduler: active" in cluster.output("scheduler").split("standing by")[-1]  # took the lock again
