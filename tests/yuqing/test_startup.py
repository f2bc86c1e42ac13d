"""Commands that do not classify start without scikit-learn, scipy.stats or the models (issue 13 §5):
each runs in a fresh interpreter, which reports the heavy modules it ended up importing."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = ("sklearn", "scipy.stats", "skops")
PROBE = f"""
import json, sys
from click.testing import CliRunner
from yuqing.cli import main
result = CliRunner().invoke(main, sys.argv[1:])
print(json.dumps({{"exit": result.exit_code, "output": result.output,
                  "heavy": sorted(m for m in {HEAVY!r} if m in sys.modules)}}))
"""


def _probe(args: list[str], tmp_path: Path) -> dict[str, object]:
    env = {"YUQING_DATA_DIR": str(tmp_path), "YUQING_SOURCES_FILE": str(tmp_path / "sources.yaml"),
           "YUQING_DATABASE_URL": f"sqlite:///{tmp_path / 'store.sqlite3'}", "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, env=env,
                          check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def initialised_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store made by ``yuqing init`` in a fresh interpreter, once for the module (each interpreter takes a
    second or two to start): every command below runs on a copy of it."""
    folder = tmp_path_factory.mktemp("initialised")
    report = _probe(["init"], folder)
    assert report["exit"] == 0, report["output"]
    return folder / "store.sqlite3"


@pytest.mark.parametrize("args", [
    ["deadline", "--start", "2026-09-30T10:00+08:00", "--working-days", "7"],
    ["sources", "list"],
    ["cases"],
    ["points"],
    ["playbook", "show"],
])
def test_commands_that_do_not_classify_do_not_load_the_models(args: list[str], tmp_path: Path,
                                                              initialised_store: Path) -> None:
    shutil.copyfile(initialised_store, tmp_path / "store.sqlite3")
    report = _probe(args, tmp_path)
    assert report["exit"] == 0, report["output"]
    assert report["heavy"] == [], f"{' '.join(args)} imported {report['heavy']}"
