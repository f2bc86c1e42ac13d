"""Faults in plain words: a missing store folder, an unreachable database, a busy SQLite store."""

from __future__ import annotations

import sqlite3

from click.testing import CliRunner

from store.database import describe_store_fault
from yuqing.cli import main


def test_a_sqlite_store_in_a_missing_folder_is_refused_naming_the_setting(tmp_path):
    missing = tmp_path / "no" / "such" / "dir"
    result = CliRunner().invoke(main, ["init"], env={"YUQING_DATABASE_URL": f"sqlite:///{missing}/x.db",
                                                     "YUQING_DATA_DIR": str(tmp_path / "data")})
    assert result.exit_code == 1
    assert "YUQING_DATABASE_URL" in result.output and "does not exist" in result.output
    assert not missing.exists() and "Traceback" not in result.output


def test_the_default_store_gets_its_folder(tmp_path):
    result = CliRunner().invoke(main, ["init"], env={"YUQING_DATA_DIR": str(tmp_path / "fresh" / "var")})
    assert result.exit_code == 0, result.output
    assert (tmp_path / "fresh" / "var" / "yuqing.sqlite3").exists()


def test_an_unreachable_database_names_the_setting_and_the_host_without_a_traceback(tmp_path):
    env = {"YUQING_DATABASE_URL": "postgresql://officer:hunter2@127.0.0.1:1/yuqing", "YUQING_DATA_DIR": str(tmp_path)}
    for command in (["init"], ["poll", "--once"]):
        result = CliRunner().invoke(main, command, env=env)
        assert result.exit_code == 1, result.output
        assert "cannot reach the database at 127.0.0.1:1 named by YUQING_DATABASE_URL" in result.output
        assert "hunter2" not in result.output and "Traceback" not in result.output


def test_a_busy_sqlite_store_is_described_as_another_process(tmp_path):
    path = tmp_path / "store.sqlite3"
    holder = sqlite3.connect(path)
    holder.execute("CREATE TABLE t (x)")
    holder.execute("BEGIN EXCLUSIVE")
    other = sqlite3.connect(path, timeout=0.05)
    try:
        other.execute("INSERT INTO t VALUES (1)")
    except sqlite3.OperationalError as exc:
        message = describe_store_fault(exc, f"sqlite:///{path}")
    else:  # pragma: no cover
        raise AssertionError("the second writer was not refused")
    finally:
        other.close()
        holder.rollback()
        holder.close()
    assert message is not None and "another yuqing process holds the store" in message


def test_a_second_poll_on_one_sqlite_store_waits_its_turn(tmp_path):
    import threading

    from store.database import one_writer_at_a_time

    url = f"sqlite:///{tmp_path / 'store.sqlite3'}"
    waited = threading.Event()
    order: list[str] = []

    def second() -> None:
        with one_writer_at_a_time(url, on_wait=waited.set):
            order.append("second")

    with one_writer_at_a_time(url):
        thread = threading.Thread(target=second)
        thread.start()
        assert waited.wait(timeout=30)  # it noticed the first and said so
        order.append("first")
    thread.join(timeout=30)
    assert order == ["first", "second"]
