"""`yuqing users set-password` and `yuqing users list`: desk sign-ins from the members file, passwords hashed in the
store (SQLite and PostgreSQL), refusals an operator understands."""

from __future__ import annotations

from pathlib import Path

from argon2 import PasswordHasher
from click.testing import CliRunner, Result
from sqlalchemy import select

from store.database import make_engine, session_factory, session_scope
from store.models import DeskPassword
from yuqing.cli import main


def run(args: list[str], database_url: str, tmp_path: Path, stdin: str | None = None) -> Result:
    env = {"YUQING_DATA_DIR": str(tmp_path), "YUQING_DATABASE_URL": database_url}
    return CliRunner().invoke(main, args, env=env, input=stdin)


def test_a_password_is_set_hashed_and_listed(database_url: str, tmp_path: Path) -> None:
    assert run(["init"], database_url, tmp_path).exit_code == 0
    done = run(["users", "set-password", "chenjiaoyu", "--stdin"], database_url, tmp_path, "a long enough secret\n")
    assert done.exit_code == 0 and "password set for chenjiaoyu" in done.output
    listing = run(["users", "list"], database_url, tmp_path).output
    assert "chenjiaoyu\t陈教育\t单位联络员 [省教育厅]\tpassword set" in listing
    assert "wuzhuren\t吴主任\t领导（只读）\tno password" in listing
    engine = make_engine(database_url)
    with session_scope(session_factory(engine)) as session:
        stored = session.scalars(select(DeskPassword.password_hash)).one()
    engine.dispose()
    assert stored.startswith("$argon2id$") and "a long enough secret" not in stored
    assert not PasswordHasher().check_needs_rehash(stored)  # the library's recommended cost (the desk tests' is lower)


def test_prompted_twice_and_refusals_name_the_problem(database_url: str, tmp_path: Path) -> None:
    assert run(["init"], database_url, tmp_path).exit_code == 0
    prompted = run(["users", "set-password", "lizhiban"], database_url, tmp_path, "duty-desk-pass\nduty-desk-pass\n")
    assert prompted.exit_code == 0, prompted.output
    short = run(["users", "set-password", "lizhiban", "--stdin"], database_url, tmp_path, "short\n")
    assert short.exit_code == 1 and "at least 10 characters" in short.output
    stranger = run(["users", "set-password", "nobody", "--stdin"], database_url, tmp_path, "long enough pass\n")
    assert stranger.exit_code == 1 and "'nobody' is not a sign-in name in the members file" in stranger.output
