"""Imports of CSV, XLSX and JSONL exports: same pipeline, idempotent, rejected rows by line."""

from __future__ import annotations

import csv
import datetime as dt
import json

from mon_builders import datasets_dir, records
from mon_helpers import Item, stored
from openpyxl import Workbook

from monitor.import_to_store import import_file
from monitor.items import normalise_space


def test_dataset_jsonl_imports_without_mapping_and_reimport_adds_nothing(tmp_path, make_monitor, clock):
    monitor = make_monitor([])
    with (datasets_dir() / "gov-messages-replies" / "train.jsonl").open(encoding="utf-8") as handle:
        head = [next(handle) for _ in range(300)]
    path = tmp_path / "replies.jsonl"  # the dataset's own shape, cut to keep the test quick
    path.write_text("".join(head), encoding="utf-8")
    first = import_file(monitor.sessions, monitor.pipeline, path, clock())
    assert first.read == 300 and first.rejected == []
    assert first.new + first.duplicates == first.read and first.new > 290
    again = import_file(monitor.sessions, monitor.pipeline, path, clock())
    assert (again.new, again.duplicates) == (0, again.read)
    row = records("gov-messages-replies", 1)[0]
    item = next(i for i in stored(monitor, Item) if i.external_id == str(row["id"]))
    # "2019/4/24 16:03:40" is Asia/Shanghai
    assert item.published_at == dt.datetime(2019, 4, 24, 8, 3, 40, tzinfo=dt.UTC)
    assert item.reply_status == "已回复" and item.reply_text == row["reply"].strip()


def test_jsonl_rejections_name_lines(tmp_path, make_monitor, clock):
    rows = records("gov-messages-hot")[:3]
    lines = [json.dumps(rows[0], ensure_ascii=False), "{not json", json.dumps({"id": 5, "time": "2019/1/1"}),
             json.dumps(dict(rows[1], time="sometime"), ensure_ascii=False), json.dumps(rows[2], ensure_ascii=False)]
    path = tmp_path / "export.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    monitor = make_monitor([])
    summary = import_file(monitor.sessions, monitor.pipeline, path, clock())
    assert (summary.read, summary.new) == (5, 2)
    assert [(r.line, r.reason.split(" (")[0]) for r in summary.rejected] == [
        (2, "not valid JSON"), (3, "no title and no text"), (4, "unreadable time 'sometime'")]
    assert stored(monitor, Item)[0].likes == rows[0]["likes"]


def test_csv_with_chinese_headers_and_mapping(tmp_path, make_monitor, clock):
    rows = records("gov-messages")[:4]
    path = tmp_path / "hotline.csv"
    with path.open("w", encoding="gb18030", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["留言编号", "留言主题", "诉求", "留言时间"])
        for r in rows:
            writer.writerow([r["id"], r["title"], r["text"], r["time"]])
        writer.writerow(["", "", "", ""])
    monitor = make_monitor([])
    summary = import_file(monitor.sessions, monitor.pipeline, path, clock(), mapping={"诉求": "text"})
    assert summary.new == 4 and [r.reason for r in summary.rejected] == ["no title and no text"]
    texts = {i.external_id: i.text for i in stored(monitor, Item)}
    assert texts[str(rows[0]["id"])] == normalise_space(rows[0]["text"])


def test_xlsx_import(tmp_path, make_monitor, clock):
    rows = records("gov-messages-hot")[:5]
    book = Workbook()
    sheet = book.active
    sheet.append(["编号", "标题", "内容", "时间", "点赞数"])
    for r in rows:
        sheet.append([r["id"], r["title"], r["text"], dt.datetime(2019, 2, 28, 11, 25, 5), r["likes"]])
    path = tmp_path / "board.xlsx"
    book.save(path)
    monitor = make_monitor([])
    summary = import_file(monitor.sessions, monitor.pipeline, path, clock(), source="board-export")
    assert summary.new == 5 and summary.source == "board-export"
    item = stored(monitor, Item)[0]
    assert item.published_at == dt.datetime(2019, 2, 28, 3, 25, 5, tzinfo=dt.UTC)
    assert import_file(monitor.sessions, monitor.pipeline, path, clock(), source="board-export").new == 0
