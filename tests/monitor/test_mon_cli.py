"""The monitor commands end to end: add a loopback source, poll once, list items, import, health."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from click.testing import CliRunner
from mon_builders import datasets_dir, records, rss2

from yuqing.cli import main


def _env(tmp_path: Path) -> dict[str, str]:
    return {"YUQING_DATA_DIR": str(tmp_path), "YUQING_SOURCES_FILE": str(tmp_path / "sources.yaml"),
            "YUQING_MODELS_DIR": str(tmp_path / "no-models")}


def test_sources_poll_items_and_health(tmp_path, server):
    runner = CliRunner()
    env = _env(tmp_path)
    rows = records("gov-messages-hot")[:4]
    url = server.static("/feed.xml", rss2(rows))
    bad = server.url("/missing.xml")
    add = runner.invoke(
        main, ["sources", "add", "--kind", "feed", "--url", url, "--name", "hot", "--interval", "10m"], env=env
    )
    assert add.exit_code == 0, add.output
    runner.invoke(main, ["sources", "add", "--kind", "feed", "--url", bad, "--name", "gone"], env=env)
    saved = yaml.safe_load((tmp_path / "sources.yaml").read_text(encoding="utf-8"))
    assert [s["name"] for s in saved["sources"]] == ["hot", "gone"]

    tested = runner.invoke(main, ["sources", "test", "hot"], env=env)
    assert tested.exit_code == 0 and "4 items" in tested.output and rows[0]["title"] in tested.output

    polled = runner.invoke(main, ["poll", "--once"], env=env)
    assert polled.exit_code == 0, polled.output
    lines = {line.split()[0]: line.split() for line in polled.output.splitlines() if line.split()}
    assert lines["hot"][1:3] == ["ok", "4"] and lines["gone"][1] == "error"
    assert "HTTP 404" in polled.output and bad in polled.output

    listed = runner.invoke(main, ["items", "list", "--json"], env=env)
    objects = [json.loads(line) for line in listed.output.splitlines()]
    assert len(objects) == 4 and {o["title"] for o in objects} == {r["title"] for r in rows}
    assert all({"source", "url", "title", "text", "published_at"} <= set(o) for o in objects)

    for _ in range(2):
        runner.invoke(main, ["poll", "--once", "gone"], env=env)
    health = runner.invoke(main, ["sources", "health", "--json"], env=env)
    findings = {f["source"]: f for f in map(json.loads, health.output.splitlines())}
    assert findings["gone"]["problem"] == "failing" and findings["hot"]["problem"] == "ok"

    assert runner.invoke(main, ["sources", "disable", "gone"], env=env).exit_code == 0
    again = runner.invoke(main, ["poll", "--once"], env=env)
    assert "gone" not in again.output and "not_modified" not in again.output


def test_import_command_summary(tmp_path):
    runner = CliRunner()
    env = _env(tmp_path)
    with (datasets_dir() / "gov-messages-hot" / "train.jsonl").open(encoding="utf-8") as handle:
        lines = [next(handle) for _ in range(40)]
    lines.insert(5, "{broken\n")
    path = tmp_path / "hot.jsonl"
    path.write_text("".join(lines), encoding="utf-8")
    first = runner.invoke(main, ["import", str(path)], env=env)
    assert first.exit_code == 0, first.output
    assert "read 41, new 40" in first.output and "rejected line 6: not valid JSON" in first.output
    second = runner.invoke(main, ["import", str(path)], env=env)
    assert "new 0" in second.output and "duplicates 40" in second.output


def test_bad_sources_file_names_line(tmp_path):
    (tmp_path / "sources.yaml").write_text(
        "sources:\n  - name: x\n    kind: rss\n    url: http://a/\n", encoding="utf-8"
    )
    result = CliRunner().invoke(main, ["poll", "--once"], env=_env(tmp_path))
    assert result.exit_code != 0
    assert "sources.yaml:3: sources.0.kind: unknown kind 'rss'" in result.output
