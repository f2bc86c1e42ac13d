"""Hostile import files: every good row is kept, every bad one is rejected by line, on SQLite and PostgreSQL."""

from __future__ import annotations

import json

import pytest
from mon_helpers import Item, ItemChange, stored

from monitor.config import SourcesFile
from monitor.import_to_store import import_file
from monitor.items import MAX_COUNT, to_int
from monitor.wiring import build_monitor


@pytest.fixture
def monitor(store_url, playbook, clock, trained_annotator):
    built = build_monitor(store_url, SourcesFile(), playbook, clock=clock, annotator=trained_annotator)
    yield built
    built.engine.dispose()


def _row(n: int, **extra: object) -> dict:
    return {"id": f"m{n}", "title": f"第{n}条留言", "text": f"长春市某小区供暖不热，第{n}次反映", **extra}


def _jsonl(path, lines: list[bytes]) -> None:
    path.write_bytes(b"\n".join(lines) + b"\n")


def test_out_of_range_numbers_and_bad_bytes_cost_one_line_each(tmp_path, monitor, clock):
    path = tmp_path / "hostile.jsonl"
    good = [json.dumps(_row(n), ensure_ascii=False).encode() for n in range(1, 4)]
    _jsonl(path, [
        good[0],
        json.dumps(_row(90, dislikes=1e308)).encode(),
        b'{"id": "m91", "title": "x", "likes": Infinity}',
        b'\xff\xfe{"id": "m92", "title": "y"}',
        good[1],
        json.dumps(_row(93, likes=-5)).encode(),
        b"[" * 100_000,
        json.dumps(_row(94, likes=MAX_COUNT + 1)).encode(),
        json.dumps(_row(95, extra=float("nan"))).encode(),  # NaN in an unmapped column is kept as text
        good[2],
    ])
    summary = import_file(monitor.sessions, monitor.pipeline, path, clock())
    assert summary.new == 4
    reasons = {r.line: r.reason for r in summary.rejected}
    assert set(reasons) == {2, 3, 4, 6, 7, 8}
    assert "dislikes" in reasons[2] and "out of range" in reasons[2]
    assert "likes" in reasons[3] and "out of range" in reasons[3]
    assert "not UTF-8" in reasons[4] and "0xff" in reasons[4]
    assert "out of range" in reasons[6] and "out of range" in reasons[8]
    assert "\n".join(summary.lines()).count("rejected line") == 6
    assert sorted(i.external_id for i in stored(monitor, Item)) == ["m1", "m2", "m3", "m95"]


def test_a_csv_with_bytes_neither_utf8_nor_gb18030_rejects_only_those_lines(tmp_path, monitor, clock):
    path = tmp_path / "mixed.csv"
    lines = ["编号,标题,内容".encode(), "c1,第一条,供暖不热".encode(), b"c2,\xff\xfe\xfd,\x80\x81",
             "c3,第三条,路灯不亮".encode()]
    path.write_bytes(b"\r\n".join(lines) + b"\r\n")
    summary = import_file(monitor.sessions, monitor.pipeline, path, clock())
    assert summary.new == 2
    assert [(r.line, "do not decode" in r.reason) for r in summary.rejected] == [(3, True)]
    assert {i.text for i in stored(monitor, Item)} == {"供暖不热", "路灯不亮"}


def test_a_changed_record_updates_the_item_and_records_the_change(tmp_path, monitor, clock):
    path = tmp_path / "export.jsonl"
    _jsonl(path, [json.dumps(_row(1), ensure_ascii=False).encode()])
    assert import_file(monitor.sessions, monitor.pipeline, path, clock()).new == 1
    assert import_file(monitor.sessions, monitor.pipeline, path, clock()).duplicates == 1
    _jsonl(path, [json.dumps(_row(1, text="供暖已恢复，但收费不合理"), ensure_ascii=False).encode()])
    again = import_file(monitor.sessions, monitor.pipeline, path, clock())
    assert (again.new, again.updated, again.duplicates) == (0, 1, 0)
    [item] = stored(monitor, Item)
    assert item.text == "供暖已恢复，但收费不合理"
    [change] = stored(monitor, ItemChange)
    assert change.field == "content" and "第1次反映" in change.old_value and "收费不合理" in change.new_value


def test_plain_text_is_stored_as_written(tmp_path, monitor, clock):
    written = "1 < 2 && 3 > 2 <i 教育 收费 </b>"
    path = tmp_path / "plain.jsonl"
    _jsonl(path, [json.dumps({"id": "p1", "title": written, "text": written, "reply": "<b>已转</b>"},
                             ensure_ascii=False).encode()])
    import_file(monitor.sessions, monitor.pipeline, path, clock())
    [item] = stored(monitor, Item)
    assert item.title == written and item.text == written and item.reply_text == "<b>已转</b>"


def test_a_row_the_store_refuses_costs_only_that_row(tmp_path, monitor, clock, store_url):
    path = tmp_path / "nul.jsonl"
    rows = [_row(n) for n in range(1, 6)]
    rows[2]["text"] = "含有\x00空字符"  # PostgreSQL text cannot hold NUL; SQLite can
    _jsonl(path, [json.dumps(r, ensure_ascii=False).encode() for r in rows])
    summary = import_file(monitor.sessions, monitor.pipeline, path, clock())
    if store_url.startswith("postgresql"):
        assert summary.new == 4 and [r.line for r in summary.rejected] == [3]
        assert "store refused" in summary.rejected[0].reason
    else:
        assert summary.new == 5 and summary.rejected == []
    assert summary.committed_through == 5


def test_lenient_counts_for_polled_sources():
    assert to_int(1e308) == MAX_COUNT and to_int("Infinity") == MAX_COUNT and to_int(float("nan")) == 0
    assert to_int(True) == 0 and to_int("-3") == 0 and to_int("1.2万") == 12_000


def test_a_megabyte_title_and_text_are_cut_to_the_limits_and_the_cut_recorded(tmp_path, monitor, clock):
    path = tmp_path / "huge.jsonl"
    _jsonl(path, [json.dumps({"id": "big", "title": "标" * 1_000_000, "text": "文" * 1_000_000,
                              "author": "某" * 1000}, ensure_ascii=False).encode(),
                  json.dumps({"id": "x" * 1000, "title": "长编号"}, ensure_ascii=False).encode(),
                  json.dumps(_row(1), ensure_ascii=False).encode()])
    summary = import_file(monitor.sessions, monitor.pipeline, path, clock())
    assert summary.new == 3 and summary.rejected == []
    items = {i.title[:3]: i for i in stored(monitor, Item)}
    big = items["标标标"]
    assert len(big.title) == 1_000 and len(big.text) == 100_000 and len(big.author) == 255
    assert big.raw["_cut"] == {"title": 1_000_000, "text": 1_000_000, "author": 1000, "raw": big.raw["_cut"]["raw"]}
    assert big.raw["_cut"]["raw"] > 200_000
    long_id = items["长编号"]
    assert long_id.external_id.startswith("sha256:") and long_id.raw["_cut"] == {"external_id": 1000}
    assert import_file(monitor.sessions, monitor.pipeline, path, clock()).new == 0  # the cut is stable
