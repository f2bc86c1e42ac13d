"""`yuqing sources import`: YAML, CSV and OPML lists; every bad line rejected with its number, the rest
added in one write; hostile OPML neither reads files nor expands entities."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from monitor.errors import ImportFileError
from monitor.source_lists import read_opml
from yuqing.cli import main

OPML = """<?xml version="1.0" encoding="UTF-8"?>
<opml version="2.0"><head><title>订阅</title></head><body>
<outline text="新闻">
  <outline text="吉林新闻" type="rss" xmlUrl="https://news.example.cn/rss.xml"/>
  <outline text="元数据" type="rss" xmlUrl="http://169.254.169.254/latest/meta-data/"/>
  <outline text="文件" type="rss" xmlUrl="file:///etc/passwd"/>
  <outline text="同站另一个" type="rss" xmlUrl="https://news.example.cn/other.xml"/>
</outline></body></opml>
"""
CSV = "name,kind,url,department\ncc-gov,feed,https://www.changchun.gov.cn/rss,长春市政府\nbad name,feed,https://x.cn/r,\n"
YAML = "sources:\n  - {name: a-site, kind: feed, url: https://a.example.cn/rss}\n  - just a string\n"


def _import(tmp_path: Path, name: str, text: str) -> tuple[int, str, str]:
    file = tmp_path / name
    file.write_text(text, encoding="utf-8")
    env = {"YUQING_DATA_DIR": str(tmp_path), "YUQING_SOURCES_FILE": str(tmp_path / "sources.yaml")}
    result = CliRunner().invoke(main, ["sources", "import", str(file)], env=env)
    return result.exit_code, result.stdout, result.output


def _names(tmp_path: Path) -> list[str]:
    data = yaml.safe_load((tmp_path / "sources.yaml").read_text(encoding="utf-8"))
    return [s["name"] for s in data["sources"]]


def test_opml_feeds_are_added_and_refused_addresses_named_by_line(tmp_path: Path) -> None:
    code, out, err = _import(tmp_path, "feeds.opml", OPML)
    assert code == 0 and "added 2 sources" in out and "rejected 2" in out
    assert "feeds.opml:5: rejected" in err and "link-local" in err
    assert "feeds.opml:6: rejected" in err and "file" in err
    assert _names(tmp_path) == ["news.example.cn", "news.example.cn-2"]
    code, out, err = _import(tmp_path, "again.opml", OPML)  # a second import adds nothing twice
    assert "added 0 sources" in out and "already a source" in err


def test_csv_and_yaml_keep_good_lines(tmp_path: Path) -> None:
    code, out, err = _import(tmp_path, "list.csv", CSV)
    assert code == 0 and "added 1 sources" in out and "list.csv:3: rejected: name:" in err
    code, out, err = _import(tmp_path, "list.yaml", YAML)
    assert code == 0 and "added 1 sources" in out and "list.yaml:3: rejected: not a mapping" in err
    assert _names(tmp_path) == ["cc-gov", "a-site"]


def test_unknown_format_and_broken_files_are_clear_errors(tmp_path: Path) -> None:
    code, _, said = _import(tmp_path, "list.txt", "https://a.cn\n")
    assert code != 0 and "unknown list format" in said
    code, _, said = _import(tmp_path, "bad.opml", "<opml><body><outline")
    assert code != 0 and "not OPML" in said


def test_opml_entities_are_not_expanded(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET", encoding="utf-8")
    hostile = (f'<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY x SYSTEM "file://{secret}">]>'
               '<opml><body><outline text="&x;" xmlUrl="https://a.example.cn/&x;"/></body></opml>').encode()
    with pytest.raises(ImportFileError) as refused:  # lxml refuses the external entity outright
        read_opml(hostile)
    assert "TOP-SECRET" not in str(refused.value)
